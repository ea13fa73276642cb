//! `GET /healthz`: liveness and readiness in one. 200 when the database answers, else 503.

use actix_web::{HttpResponse, get, web};
use diesel::connection::SimpleConnection;
use serde::Serialize;
use std::time::Duration;

use super::state::AppState;

/// A load balancer should hear "unhealthy" quickly, not after the pool's normal wait.
const DATABASE_CHECK_TIMEOUT: Duration = Duration::from_secs(2);

#[derive(Serialize)]
struct Health {
    status: &'static str,
    database: &'static str,
    backend: &'static str,
}

#[get("/healthz")]
async fn healthz(state: web::Data<AppState>) -> HttpResponse {
    let pool = state.services.pool.clone();
    let checked = web::block(move || -> anyhow::Result<()> {
        let mut conn = pool.get_timeout(DATABASE_CHECK_TIMEOUT)?;
        conn.batch_execute("SELECT 1")?;
        Ok(())
    })
    .await;
    let backend = state.config.database.backend_name();
    match checked {
        Ok(Ok(())) => HttpResponse::Ok().json(Health {
            status: "ok",
            database: "ok",
            backend,
        }),
        Ok(Err(error)) => {
            tracing::warn!(error = %error, "health check: database unavailable");
            HttpResponse::ServiceUnavailable().json(Health {
                status: "unavailable",
                database: "unreachable",
                backend,
            })
        }
        Err(_) => HttpResponse::ServiceUnavailable().json(Health {
            status: "unavailable",
            database: "unknown",
            backend,
        }),
    }
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(healthz);
}
