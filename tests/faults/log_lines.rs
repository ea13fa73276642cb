//! The server's log lines are written through a buffer (`telemetry::batched_stderr`): a line
//! must still reach the log within moments while the server runs, and every line must be out
//! when it stops on SIGTERM — neither may wait for a buffer that never fills.

use std::time::{Duration, Instant};

use crate::helpers::{Backend, TestDatabase};
use crate::server::{ServerProcess, ServerSpec};

/// Far above the flush interval (100 ms), far below a test timeout.
const PATIENCE: Duration = Duration::from_secs(5);

#[tokio::test]
async fn log_lines_arrive_while_the_server_runs_and_all_are_out_when_it_stops() {
    let db = TestDatabase::create(Backend::Sqlite).expect("SQLite needs nothing");
    let spec = ServerSpec::for_database(&db);
    let mut server = spec.start(1).await;
    let client = reqwest::Client::new();

    // A lone request on an idle server: nothing else will fill the buffer behind it.
    let while_running = format!("/still-running-{}", uuid::Uuid::new_v4().simple());
    let answer = client.get(server.url(&while_running)).send().await.unwrap();
    assert_eq!(answer.status(), 404);
    let started = Instant::now();
    while !logged_request(&server, &while_running, 404) {
        assert!(
            started.elapsed() < PATIENCE,
            "no log line for {while_running} after {PATIENCE:?}:\n{}",
            server.log()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // A link with a (forged) token: logged without it.
    let token = "eyJhbGciOiJIUzI1NiJ9.eyJtaWQiOjF9.forged-signature";
    let answer = client
        .get(server.url(&format!("/u/{token}")))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 400);

    // Straight from the answer to SIGTERM: the line can only be out if stopping flushes.
    let last = format!("/last-words-{}", uuid::Uuid::new_v4().simple());
    let answer = client.get(server.url(&last)).send().await.unwrap();
    assert_eq!(answer.status(), 404);
    server.terminate();
    let log = server.log();
    assert!(
        logged_request(&server, &last, 404),
        "the last request's line is missing after SIGTERM:\n{log}"
    );
    assert!(logged_request(&server, "/u/…", 400), "{log}");
    assert!(
        !log.contains(token),
        "a link's token reached the log:\n{log}"
    );
}

/// The request log line for `path` with `status` is in the server's log.
fn logged_request(server: &ServerProcess, path: &str, status: u16) -> bool {
    server.log().lines().any(|line| {
        line.contains(&format!("path=\"{path}\"")) && line.contains(&format!("status={status}"))
    })
}
