//! Functional integration tests: every test on SQLite and again on PostgreSQL
//! (OPTOUTS_TEST_POSTGRES_URL), each with a fresh database and the app on a real port.

#[path = "../common/campaigns.rs"]
mod campaigns;
#[path = "../common/helpers.rs"]
mod helpers;
// Shared with tests/faults; not every helper is used here.
#[allow(dead_code)]
#[path = "../common/seed.rs"]
mod seed;
#[path = "../common/smtp.rs"]
mod smtp;

mod activity;
mod auth;
mod campaign_pages;
mod cli;
mod consent_exact;
mod contacts;
mod database;
mod delivery;
mod health;
mod international_domains;
mod list_id;
mod one_click_burst;
mod opt_in;
mod opt_out_batch;
mod outbox;
mod pages;
mod preference_center;
mod services;
mod settings;
mod support;
mod suppression;
