//! The HTTP baselines that `scripts/bench-http` measures our pages against, on the same machine
//! in the same run:
//!
//! - `b0`: a bare actix handler answering a fixed 200 — the ceiling of the framework and wrk.
//! - `b1`: one pooled diesel SELECT through our own pool plus an askama render (like the
//!   TechEmpower "fortunes" test) — the cost of any page that reads the database.
//!
//! Both serve with as many actix workers as `optouts serve` (one per core).
//!
//! ```sh
//! cargo run --release --example bench_baseline -- b0 127.0.0.1:18080
//! cargo run --release --example bench_baseline -- b1 127.0.0.1:18081 sqlite://bench.sqlite
//! ```
//! then `GET /` on the address.

use actix_web::{App, HttpResponse, HttpServer, web};
use askama::Template;
use diesel::prelude::*;
use optouts::db::schema::clients;
use optouts::db::{DatabaseUrl, DbPool, build_pool};
use optouts::on_each_backend;
use optouts::startup::{ServerOptions, blocking_threads_per_worker};

/// The pool size `optouts serve` uses by default.
const POOL_SIZE: u32 = 10;
/// Rows read and rendered per request, as in "fortunes".
const ROWS: i64 = 12;

#[derive(Template)]
#[template(
    source = r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Clients</title></head>
<body><table><tr><th>id</th><th>name</th></tr>
{% for (id, name) in rows %}<tr><td>{{ id }}</td><td>{{ name }}</td></tr>
{% endfor %}</table></body></html>"#,
    ext = "html"
)]
struct ClientsPage {
    rows: Vec<(i64, String)>,
}

async fn fixed() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; charset=utf-8")
        .body("Hello, World!")
}

/// One SELECT on a pooled connection, run off the async executor exactly as our handlers do
/// (`AppState::db`), then one askama render.
async fn clients_page(pool: web::Data<DbPool>) -> actix_web::Result<HttpResponse> {
    let pool = pool.get_ref().clone();
    let rows = web::block(move || -> anyhow::Result<Vec<(i64, String)>> {
        let mut conn = pool.get()?;
        // On the backend's own connection, as the app's hot pages run their queries
        // (db::link_context): the fastest way diesel has to run one SELECT.
        Ok(on_each_backend!(&mut *conn, |conn| clients::table
            .select((clients::id, clients::name))
            // Not `.limit()`: a bound LIMIT makes SQLite re-prepare the statement on every
            // run, which would make the baseline slower than it need be.
            .filter(clients::id.le(ROWS))
            .order(clients::id)
            .load(conn))?)
    })
    .await?
    .map_err(actix_web::error::ErrorInternalServerError)?;
    let html = ClientsPage { rows }
        .render()
        .map_err(actix_web::error::ErrorInternalServerError)?;
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(html))
}

fn usage() -> anyhow::Error {
    anyhow::anyhow!("usage: bench_baseline b0 ADDRESS | bench_baseline b1 ADDRESS DATABASE_URL")
}

#[actix_web::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (which, address) = match args.as_slice() {
        [which, address, ..] => (which.as_str(), address.clone()),
        _ => return Err(usage()),
    };
    let server = match (which, args.get(2)) {
        ("b0", None) => HttpServer::new(|| App::new().route("/", web::get().to(fixed)))
            .bind(&address)?
            .run(),
        ("b1", Some(url)) => {
            let workers = ServerOptions::default().workers;
            let pool = web::Data::new(build_pool(&DatabaseUrl::parse(url)?, POOL_SIZE)?);
            HttpServer::new(move || {
                App::new()
                    .app_data(pool.clone())
                    .route("/", web::get().to(clients_page))
            })
            // Workers and blocking threads as `optouts serve` has them: the same tuning.
            .workers(workers)
            .worker_max_blocking_threads(blocking_threads_per_worker(POOL_SIZE, workers))
            .bind(&address)?
            .run()
        }
        _ => return Err(usage()),
    };
    println!("{which} listening on http://{address}");
    server.await?;
    Ok(())
}
