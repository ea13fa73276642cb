//! optouts: decides who must not be emailed, keeps every decision as evidence, and serves the
//! pages to change it. See docs/ARCHITECTURE.md for the map.

pub mod cli;
pub mod commands;
pub mod config;
pub mod db;
pub mod domain;
pub mod mail;
pub mod passwords;
pub mod seed;
pub mod service;
pub mod startup;
pub mod telemetry;
pub mod tokens;
pub mod web;
