//! optouts: decides who must not be emailed, keeps every decision as evidence, and serves the
//! pages to change it. See docs/ARCHITECTURE.md for the map.

pub mod bench_data;
pub mod cli;
pub mod commands;
pub mod config;
pub mod db;
pub mod demo;
pub mod domain;
pub mod export;
pub mod import;
pub mod mail;
pub mod passwords;
pub mod redact;
pub mod sign_in;
pub mod startup;
pub mod telemetry;
pub mod tokens;
pub mod web;
