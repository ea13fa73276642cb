//! `GET /healthz` on both backends.

use crate::helpers::{Backend, spawn_app};
use crate::on_both_backends;
use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};

on_both_backends!(healthz_answers_ok_when_the_database_does);

async fn healthz_answers_ok_when_the_database_does(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let response = app.get("/healthz").await;
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["status"], "ok");
    assert_eq!(
        body["backend"],
        match backend {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    );
}

/// PostgreSQL can be taken away from under a running app: its database is dropped.
#[actix_web::test]
async fn healthz_answers_503_when_postgres_is_gone() {
    let Some(app) = spawn_app(Backend::Postgres).await else {
        return;
    };
    assert_eq!(app.get("/healthz").await.status(), 200);
    let admin_url = crate::helpers::postgres_admin_url().unwrap();
    let url = url::Url::parse(&app.db.raw_url).unwrap();
    let name = url.path().trim_start_matches('/').to_owned();
    let mut admin = PgConnection::establish(&admin_url).unwrap();
    admin
        .batch_execute(&format!("DROP DATABASE {name} WITH (FORCE)"))
        .unwrap();
    let response = crate::helpers::within(20, app.get("/healthz")).await;
    assert_eq!(response.status(), 503);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["status"], "unavailable");
}
