//! Persistence: the pool, the connection enum, the schema, migrations, and one module per
//! aggregate holding its queries. Functions here are blocking: call them from `web::block`.

pub(crate) mod cascade;
mod connection;
mod migrations;
mod pool;
pub mod schema;
pub mod sql_types;
mod url;

pub mod accounts;
pub mod activity;
pub mod campaigns;
pub mod consent_events;
pub mod contacts;
pub mod link_context;
pub mod login_failures;
pub mod messages;
pub mod opt_in_requests;
pub mod opt_out_batch;
pub mod opt_outs;
pub mod preference_settings;
pub mod revoked_sessions;
pub mod sender_profile;
pub mod support_lifts;
pub mod unsubscribes;

pub use connection::{DbConnection, write_transaction};
pub use migrations::run_migrations;
pub use pool::{
    ConnectionManager, DbPool, PooledConnection, build_pool, open_durable_sqlite,
    without_memory_map,
};
pub use url::DatabaseUrl;

use chrono::{NaiveDateTime, SubsecRound, Utc};

/// The current time as stored: naive UTC, truncated to microseconds so both backends hold the
/// same value (PostgreSQL keeps microseconds) and keyset pages compare equal on both.
pub fn now() -> NaiveDateTime {
    Utc::now().naive_utc().trunc_subsecs(6)
}
