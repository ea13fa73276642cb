//! Pages of signed-in staff: sign-in, their account, contacts, campaigns, the start page.

pub mod account;
pub mod auth;
pub mod campaigns;
pub mod contacts;
pub mod pages;
