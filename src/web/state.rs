//! What every handler can reach: the pool and the configuration. Passed as app data, never a
//! global, so each test's app has its own.

use actix_web::web;
use std::sync::Arc;

use super::errors::AppError;
use crate::config::Config;
use crate::db::{DbConnection, DbPool};
use crate::passwords::PasswordChecker;
use crate::service::opt_out_writer::OptOutWriter;
use crate::service::sender_profile_cache::SenderProfileCache;

#[derive(Clone)]
pub struct AppState {
    pub pool: DbPool,
    pub config: Arc<Config>,
    /// On SQLite, the one writer that group-commits recipients' opt-outs; `None` on PostgreSQL,
    /// where each request commits its own (the server batches concurrent commits itself).
    pub opt_out_writer: Option<OptOutWriter>,
    /// Senders' names and settings for recipients' pages, remembered for a few seconds.
    pub sender_profiles: Arc<SenderProfileCache>,
    /// Where password hashes are computed: a few low-priority threads, never a pooled one.
    pub passwords: PasswordChecker,
}

impl AppState {
    /// Runs blocking database work on actix's thread pool, never on the async executor.
    pub async fn db<T, E, F>(&self, work: F) -> Result<T, AppError>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: Into<AppError> + Send + 'static,
    {
        let pool = self.pool.clone();
        web::block(move || {
            // r2d2's only error here is a wait for a free connection that ran out of time.
            let mut conn = pool.get().map_err(|e| AppError::Busy(e.to_string()))?;
            work(&mut conn).map_err(Into::into)
        })
        .await
        .map_err(AppError::internal)?
    }
}
