//! What anyone without an account can make the real binary hold, read from /proc: memory after
//! a thousand failed sign-ins, and after a 50 MB body streamed at a recipient's link.

use std::time::Duration;

use futures_util::StreamExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::{Backend, TestDatabase, csrf_token_in, new_client_from, within};
use crate::seed;
use crate::server::{ServerProcess, ServerSpec};

const MIB: u64 = 1024 * 1024;

/// Failed sign-ins in the flood; each is a real password check (no throttle refusal).
const FAILED_SIGN_INS: usize = 1_000;
/// Source addresses, so that the per-address limit (20 failures) never refuses one.
const ADDRESSES: usize = 50;
const IN_FLIGHT: usize = 8;

#[actix_web::test]
async fn a_thousand_failed_sign_ins_leave_memory_within_64_mib_of_idle() {
    let db = TestDatabase::create(Backend::Sqlite).unwrap();
    let spec = ServerSpec::for_database(&db);
    let server = spec.start(1).await;
    let idle = server.resident_bytes();

    let statuses: Vec<u16> = within(
        600,
        futures_util::stream::iter(0..FAILED_SIGN_INS)
            .map(|n| failed_sign_in(&server, n))
            .buffer_unordered(IN_FLIGHT)
            .collect(),
    )
    .await;
    let checked = statuses.iter().filter(|s| **s == 401).count();
    assert_eq!(
        checked, FAILED_SIGN_INS,
        "every attempt was a password check: {statuses:?}"
    );

    let after = server.resident_bytes();
    assert!(
        after <= idle + 64 * MIB,
        "resident memory {} MiB after {FAILED_SIGN_INS} failed sign-ins, idle {} MiB",
        after / MIB,
        idle / MIB
    );
}

/// Sign-in attempt `n`: an unknown account (checked against a dummy hash, as costly as a real
/// one), from one of [`ADDRESSES`] loopback addresses.
async fn failed_sign_in(server: &ServerProcess, n: usize) -> u16 {
    let address = format!("127.0.1.{}", 1 + n % ADDRESSES);
    let browser = new_client_from(&address);
    let page = browser
        .get(server.url("/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    browser
        .post(server.url("/login"))
        .form(&[
            ("csrf_token", csrf_token_in(&page).as_str()),
            ("email", &format!("nobody{n}@flood.example")),
            ("password", "not the password at all"),
        ])
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// The streamed body's size, sent without a Content-Length: one multipart part whose header
/// never ends (a field name of 50 MB). Values were always counted; names and headers were not,
/// and a parser buffers a header until its end.
const STREAMED_BYTES: usize = 50 * 1024 * 1024;

#[actix_web::test]
async fn a_streamed_50_mb_multipart_body_is_refused_without_being_held() {
    let db = TestDatabase::create(Backend::Sqlite).unwrap();
    let link = {
        let pool = db.migrated_pool();
        let mut conn = pool.get().unwrap();
        optouts::seed::demo::load(&mut conn).unwrap();
        let sender = seed::demo_sender(&mut conn, seed::NINA);
        seed::sent_messages(&mut conn, &sender, &seed::recipients(1, "stream.example"))[0]
    };
    let spec = ServerSpec::for_database(&db);
    let path = format!("/u/{}", spec.keys().unsubscribe_token(link));
    let server = spec.start(1).await;
    let before = server.resident_bytes();

    let (status_line, sent) = within(120, stream_multipart(&server, &path)).await;
    assert!(
        status_line.starts_with("HTTP/1.1 413"),
        "answered {status_line:?} after {} MiB sent",
        sent / MIB as usize
    );
    let after = server.resident_bytes();
    assert!(
        after <= before + 8 * MIB,
        "resident memory grew from {} to {} MiB",
        before / MIB,
        after / MIB
    );
    // The link still works, and nothing was recorded from the refused body.
    let page = reqwest::get(server.url(&path)).await.unwrap();
    assert_eq!(page.status(), 200);
}

/// Streams a chunked multipart body of [`STREAMED_BYTES`] at `path` while reading the answer,
/// and returns the answer's status line and how many bytes went out before the server stopped
/// taking them (or all of them).
async fn stream_multipart(server: &ServerProcess, path: &str) -> (String, usize) {
    let host = server.address.trim_start_matches("http://").to_owned();
    let stream = TcpStream::connect(&host).await.unwrap();
    let (mut reader, mut writer) = stream.into_split();
    let answer = tokio::spawn(async move {
        let mut received = Vec::new();
        let _ = reader.read_to_end(&mut received).await;
        String::from_utf8_lossy(&received)
            .lines()
            .next()
            .unwrap_or_default()
            .to_owned()
    });

    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {host}\r\n\
         Content-Type: multipart/form-data; boundary=XyZ\r\n\
         Transfer-Encoding: chunked\r\n\r\n"
    );
    writer.write_all(head.as_bytes()).await.unwrap();
    let mut sent = 0;
    let opening = "--XyZ\r\nContent-Disposition: form-data; name=\"";
    let filler = vec![b'a'; 64 * 1024];
    let mut chunks = std::iter::once(opening.as_bytes()).chain(std::iter::repeat_n(
        &filler[..],
        STREAMED_BYTES / filler.len(),
    ));
    let written = async {
        for chunk in chunks.by_ref() {
            writer
                .write_all(format!("{:x}\r\n", chunk.len()).as_bytes())
                .await?;
            writer.write_all(chunk).await?;
            writer.write_all(b"\r\n").await?;
            sent += chunk.len();
        }
        writer.write_all(b"0\r\n\r\n").await
    };
    // The server may stop reading and close once it has answered: a failed write is expected.
    let _ = tokio::time::timeout(Duration::from_secs(60), written).await;
    drop(writer);
    (answer.await.unwrap(), sent)
}
