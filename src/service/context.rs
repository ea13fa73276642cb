//! What the services share: the pool, the SQLite opt-out writer, the sender profile cache and
//! the password threads. Built once at start-up and cloned cheaply (everything inside is
//! shared), so the web and the command line hand the same thing to every use case.

use std::sync::Arc;

use anyhow::Context;

use super::error::ServiceError;
use super::opt_out_writer::OptOutWriter;
use super::sender_profile_cache::SenderProfileCache;
use crate::db::{DatabaseUrl, DbConnection, DbPool};
use crate::passwords::PasswordChecker;

#[derive(Clone)]
pub struct Services {
    pub pool: DbPool,
    /// On SQLite, the one writer that group-commits recipients' opt-outs; `None` on PostgreSQL,
    /// where each request commits its own (the server batches concurrent commits itself).
    pub opt_out_writer: Option<OptOutWriter>,
    /// Senders' names and settings for recipients' pages, remembered for a few seconds.
    pub sender_profiles: Arc<SenderProfileCache>,
    /// Where password hashes are computed: a few low-priority threads, never a pooled one.
    pub passwords: PasswordChecker,
}

impl Services {
    /// Starts the opt-out writer (SQLite) and the password threads.
    pub fn start(database: &DatabaseUrl, pool: DbPool) -> anyhow::Result<Self> {
        let opt_out_writer = match database {
            DatabaseUrl::Sqlite { .. } => Some(OptOutWriter::start(database)?),
            DatabaseUrl::Postgres { .. } => None,
        };
        Ok(Self {
            pool,
            opt_out_writer,
            sender_profiles: Arc::default(),
            passwords: PasswordChecker::start().context("cannot start the password threads")?,
        })
    }

    /// Runs blocking database work on the runtime's blocking threads, never on the async
    /// executor (actix's `web::block` is the same call; this keeps the services free of actix).
    pub async fn db<T, E, F>(&self, work: F) -> Result<T, ServiceError>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: Into<ServiceError> + Send + 'static,
    {
        let pool = self.pool.clone();
        tokio::task::spawn_blocking(move || {
            // r2d2's only error here is a wait for a free connection that ran out of time.
            let mut conn = pool.get().map_err(|e| ServiceError::Busy(e.to_string()))?;
            work(&mut conn).map_err(Into::into)
        })
        .await
        .map_err(ServiceError::internal)?
    }
}
