//! Crash safety of one-click unsubscribes: a burst of RFC 8058 POSTs, the server SIGKILLed in
//! the middle of it, restarted on the same database. Every opt-out that was answered 200 must
//! be stored with its consent event (and its confirmation email), and nothing may be half
//! stored: an opt-out without its event, an event without its opt-out, or a confirmation
//! without both.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use diesel::prelude::*;
use futures_util::StreamExt;
use optouts::db::schema::{consent_events, messages, opt_outs};
use optouts::domain::MessageId;
use tokio::sync::Notify;

use crate::helpers::{Backend, TestDatabase, within};
use crate::on_both_backends;
use crate::seed;
use crate::server::{ServerProcess, ServerSpec};

/// Hundreds of recipients, each unsubscribing once.
const BURST: usize = 600;
/// Requests in flight at once (several per server thread, well below the fd limit).
const IN_FLIGHT: usize = 96;
/// The kill comes after this many 200s: mid-burst, with most requests still to come.
const KILL_AFTER_ACKS: usize = BURST / 4;

on_both_backends!(a_sigkill_mid_burst_loses_no_acknowledged_one_click_opt_out);

async fn a_sigkill_mid_burst_loses_no_acknowledged_one_click_opt_out(backend: Backend) {
    let Some(db) = TestDatabase::create(backend) else {
        return;
    };
    let message_ids = {
        let pool = db.migrated_pool();
        let mut conn = pool.get().unwrap();
        optouts::seed::demo::load(&mut conn).unwrap();
        let sender = seed::demo_sender(&mut conn, seed::NINA);
        seed::sent_messages(
            &mut conn,
            &sender,
            &seed::recipients(BURST, "burst.example"),
        )
    };
    let spec = ServerSpec::for_database(&db);
    let keys = spec.keys();
    let links: Vec<(MessageId, String)> = message_ids
        .iter()
        .map(|id| (*id, format!("/u/{}", keys.unsubscribe_token(*id))))
        .collect();

    let mut server = spec.start(1).await;
    let burst = within(120, burst_with_kill(&mut server, &links)).await;
    assert!(
        burst.acknowledged.len() >= KILL_AFTER_ACKS && burst.unanswered > 0,
        "the kill came mid-burst: {} answered 200, {} unanswered",
        burst.acknowledged.len(),
        burst.unanswered
    );
    drop(server);
    eprintln!(
        "{backend:?}: killed after {} of {BURST} one-click POSTs answered 200; {} unanswered",
        burst.acknowledged.len(),
        burst.unanswered
    );

    if backend == Backend::Sqlite {
        assert_sqlite_intact(&db);
    }
    // The database opens cleanly: the restarted server migrates it and answers healthy.
    let server = spec.start(2).await;
    let pool = db.migrated_pool();
    let stored = Stored::load(&mut pool.get().unwrap(), &message_ids);
    stored.assert_whole();
    for id in &burst.acknowledged {
        assert!(
            stored.opt_outs.contains_key(id),
            "message {id}: answered 200 but its opt-out is not stored"
        );
    }

    // The restarted server takes every link again: the unanswered ones are recorded now, the
    // stored ones are repeats that change nothing.
    let client = reqwest::Client::new();
    for (id, link) in &links {
        let response = one_click(&client, &server, link).await.expect("answered");
        assert_eq!(response, 200, "message {id} after the restart");
    }
    let stored = Stored::load(&mut pool.get().unwrap(), &message_ids);
    stored.assert_whole();
    assert_eq!(
        stored.opt_outs.len(),
        BURST,
        "every recipient opted out exactly once"
    );
}

struct BurstOutcome {
    /// Messages whose one-click POST was answered 200.
    acknowledged: BTreeSet<MessageId>,
    /// Requests that got no answer (the server died under them or before them).
    unanswered: usize,
}

/// Fires every link with `IN_FLIGHT` at a time and SIGKILLs the server as soon as
/// `KILL_AFTER_ACKS` of them have been answered 200.
async fn burst_with_kill(
    server: &mut ServerProcess,
    links: &[(MessageId, String)],
) -> BurstOutcome {
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(60))
        .build()
        .unwrap();
    let acks = Arc::new(AtomicUsize::new(0));
    let enough = Arc::new(Notify::new());
    let urls: Vec<(MessageId, String)> = links
        .iter()
        .map(|(id, link)| (*id, server.url(link)))
        .collect();
    let (counter, signal) = (acks.clone(), enough.clone());
    let requests = futures_util::stream::iter(urls)
        .map(move |(id, url)| {
            let (client, acks, enough) = (client.clone(), counter.clone(), signal.clone());
            tokio::spawn(async move {
                let status = one_click_at(&client, &url).await;
                if status == Some(200) && acks.fetch_add(1, Ordering::SeqCst) + 1 == KILL_AFTER_ACKS
                {
                    enough.notify_one();
                }
                (id, status)
            })
        })
        .buffer_unordered(IN_FLIGHT)
        .collect::<Vec<_>>();
    let requests = tokio::spawn(requests);
    enough.notified().await;
    server.kill9();

    let mut outcome = BurstOutcome {
        acknowledged: BTreeSet::new(),
        unanswered: 0,
    };
    for result in requests.await.unwrap() {
        match result.unwrap() {
            (id, Some(200)) => {
                outcome.acknowledged.insert(id);
            }
            (id, Some(status)) => panic!("message {id}: answered {status} before the kill"),
            (_, None) => outcome.unanswered += 1,
        }
    }
    outcome
}

/// The RFC 8058 POST a mail client sends; `None` when no answer came.
async fn one_click(client: &reqwest::Client, server: &ServerProcess, link: &str) -> Option<u16> {
    one_click_at(client, &server.url(link)).await
}

async fn one_click_at(client: &reqwest::Client, url: &str) -> Option<u16> {
    let response = client
        .post(url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .ok()?;
    let status = response.status().as_u16();
    // A 200 counts once its body arrived whole: that is what the mail client saw.
    response.bytes().await.ok()?;
    Some(status)
}

/// SQLite after the kill: the file and its WAL pass SQLite's own integrity check.
fn assert_sqlite_intact(db: &TestDatabase) {
    use diesel::connection::SimpleConnection;
    #[derive(QueryableByName)]
    struct Check {
        #[diesel(sql_type = diesel::sql_types::Text)]
        integrity_check: String,
    }
    let path = db.raw_url.trim_start_matches("sqlite://");
    let mut conn = diesel::SqliteConnection::establish(path).expect("open after the kill");
    conn.batch_execute("PRAGMA busy_timeout = 10000").unwrap();
    let rows: Vec<Check> = diesel::sql_query("PRAGMA integrity_check")
        .load(&mut conn)
        .unwrap();
    let results: Vec<&str> = rows.iter().map(|r| r.integrity_check.as_str()).collect();
    assert_eq!(results, ["ok"], "integrity check after the kill");
}

/// What the database holds for the burst's messages, keyed by the message a link named.
struct Stored {
    /// Opt-outs made from each message (count per message).
    opt_outs: HashMap<MessageId, usize>,
    /// `opt_out` consent events per message.
    opt_out_events: HashMap<MessageId, usize>,
    /// Confirmation emails queued per message they confirm, with their own ids.
    confirmations: HashMap<MessageId, Vec<i64>>,
    /// `confirmation_sent` events, by the confirmation email they name.
    confirmation_events: HashMap<i64, usize>,
}

impl Stored {
    fn load(conn: &mut optouts::db::DbConnection, ids: &[MessageId]) -> Self {
        let ids: Vec<i64> = ids.iter().map(|id| id.0).collect();
        let opt_outs = counts(
            opt_outs::table
                .filter(opt_outs::message_id.eq_any(&ids))
                .select(opt_outs::message_id.assume_not_null())
                .load::<i64>(conn)
                .unwrap(),
        );
        let opt_out_events = counts(
            consent_events::table
                .filter(consent_events::kind.eq("opt_out"))
                .filter(consent_events::message_id.eq_any(&ids))
                .select(consent_events::message_id.assume_not_null())
                .load::<i64>(conn)
                .unwrap(),
        );
        let mut confirmations: HashMap<MessageId, Vec<i64>> = HashMap::new();
        let confirmation_rows: Vec<(i64, Option<String>)> = messages::table
            .filter(messages::kind.eq("opt_out_confirmation"))
            .select((messages::id, messages::payload))
            .load(conn)
            .unwrap();
        for (id, payload) in &confirmation_rows {
            let payload: serde_json::Value =
                serde_json::from_str(payload.as_deref().unwrap_or("null")).unwrap();
            let about = payload["about_message"].as_i64().unwrap();
            if ids.contains(&about) {
                confirmations.entry(MessageId(about)).or_default().push(*id);
            }
        }
        let confirmation_ids: Vec<i64> = confirmations.values().flatten().copied().collect();
        let confirmation_events = counts(
            consent_events::table
                .filter(consent_events::kind.eq("confirmation_sent"))
                .filter(consent_events::message_id.eq_any(&confirmation_ids))
                .select(consent_events::message_id.assume_not_null())
                .load::<i64>(conn)
                .unwrap(),
        )
        .into_iter()
        .map(|(id, n)| (id.0, n))
        .collect();
        Self {
            opt_outs,
            opt_out_events,
            confirmations,
            confirmation_events,
        }
    }

    /// Nothing half stored: each message has one opt-out, its event and its confirmation (with
    /// that confirmation's event), or none of them.
    fn assert_whole(&self) {
        let with_opt_out: BTreeSet<_> = self.opt_outs.keys().collect();
        let with_event: BTreeSet<_> = self.opt_out_events.keys().collect();
        let confirmed: BTreeSet<_> = self.confirmations.keys().collect();
        assert_eq!(with_opt_out, with_event, "opt-outs and their events");
        assert_eq!(with_opt_out, confirmed, "opt-outs and their confirmations");
        for (id, n) in &self.opt_outs {
            assert_eq!(*n, 1, "message {id}: one opt-out");
            assert_eq!(
                self.opt_out_events[id], 1,
                "message {id}: one opt-out event"
            );
            let confirmations = &self.confirmations[id];
            assert_eq!(confirmations.len(), 1, "message {id}: one confirmation");
            assert_eq!(
                self.confirmation_events.get(&confirmations[0]),
                Some(&1),
                "message {id}: its confirmation has its event"
            );
        }
        assert_eq!(
            self.confirmation_events.len(),
            self.confirmations.len(),
            "no confirmation event without its confirmation"
        );
    }
}

fn counts(ids: Vec<i64>) -> HashMap<MessageId, usize> {
    let mut counts = HashMap::new();
    for id in ids {
        *counts.entry(MessageId(id)).or_default() += 1;
    }
    counts
}
