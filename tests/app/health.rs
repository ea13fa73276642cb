//! `GET /healthz` on both backends.

use crate::helpers::{Backend, spawn_app};
use crate::on_both_backends;
use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};

on_both_backends!(
    healthz_answers_ok_when_the_database_does,
    a_page_that_gets_no_connection_in_time_answers_503,
);

/// Every connection of the pool is taken (a burst held them): a page waits the pool's
/// timeout, then answers 503 with `Retry-After` and the busy page, not a 500.
async fn a_page_that_gets_no_connection_in_time_answers_503(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    app.load_demo();
    let email = {
        let mut conn = app.conn();
        let nina = crate::seed::demo_sender(&mut conn, crate::seed::NINA);
        crate::seed::sent_messages(&mut conn, &nina, &["kim@example.org".to_owned()])[0]
    };
    let page = format!("/u/{}", app.config.signing_keys.unsubscribe_token(email));
    let held: Vec<_> = std::iter::from_fn(|| app.pool.try_get()).collect();
    assert!(!held.is_empty());
    let response = app.get(&page).await;
    assert_eq!(response.status(), 503);
    assert_eq!(response.headers()["retry-after"], "5");
    let html = response.text().await.unwrap();
    assert!(html.contains("The service is busy right now"), "{html}");
    drop(held);
    assert_eq!(app.get(&page).await.status(), 200, "and serves again");
}

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
