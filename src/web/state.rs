//! What every handler can reach: the configuration and the services. Passed as app data, never
//! a global, so each test's app has its own.

use actix_web::web;
use std::sync::Arc;

use super::errors::AppError;
use crate::config::Config;
use crate::db::DbConnection;
use crate::service::Services;

#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub services: Services,
}

impl AppState {
    /// Runs blocking database work on actix's thread pool, never on the async executor.
    pub async fn db<T, E, F>(&self, work: F) -> Result<T, AppError>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: Into<AppError> + Send + 'static,
    {
        let pool = self.services.pool.clone();
        web::block(move || {
            // r2d2's only error here is a wait for a free connection that ran out of time.
            let mut conn = pool.get().map_err(|e| AppError::Busy(e.to_string()))?;
            work(&mut conn).map_err(Into::into)
        })
        .await
        .map_err(AppError::internal)?
    }
}
