//! A burst of RFC 8058 one-click unsubscribes, as after a campaign to many: on SQLite they go
//! through the one writer that commits many per transaction, on PostgreSQL each request commits
//! its own. Either way every request that got its 200 is stored with its evidence and its
//! confirmation email, and the 200 never comes before the commit.

use crate::helpers::{Backend, TestApp, one_click, spawn_app, within};
use crate::on_both_backends;
use diesel::prelude::*;
use futures_util::future::join_all;
use optouts::db::schema::{consent_events, messages, opt_outs};
use optouts::domain::{EmailAddress, MessageId};

on_both_backends!(
    concurrent_one_click_posts_are_all_stored_with_their_evidence,
    a_200_means_the_opt_out_is_already_committed,
);

/// More than the server has workers and pool connections, so requests really wait together.
const BURST: usize = 120;
const SENDER: &str = "nina.patel@acme.example";

fn recipient(i: usize) -> String {
    format!("burst-{i}@example.test")
}

/// One sent campaign email from Nina to each of `count` new recipients (as a send would leave
/// them), returning each recipient with the path of its unsubscribe link.
fn sent_emails(app: &TestApp, count: usize) -> Vec<(String, String)> {
    let mut conn = app.conn();
    let nina =
        optouts::db::accounts::find_user_by_email(&mut conn, &EmailAddress::parse(SENDER).unwrap())
            .unwrap()
            .expect("demo sender");
    let now = optouts::db::now();
    (0..count)
        .map(|i| {
            let to = recipient(i);
            let id: i64 = diesel::insert_into(messages::table)
                .values((
                    messages::kind.eq(optouts::db::messages::KIND_CAMPAIGN),
                    messages::group_id.eq(nina.group_id.unwrap().0),
                    messages::client_id.eq(nina.client_id.map(|c| c.0)),
                    messages::sender_user_id.eq(Some(nina.id.0)),
                    messages::to_email.eq(&to),
                    messages::status.eq("sent"),
                    messages::attempts.eq(1),
                    messages::next_attempt_at.eq(now),
                    messages::created_at.eq(now),
                    messages::updated_at.eq(now),
                ))
                .returning(messages::id)
                .get_result(&mut *conn)
                .unwrap();
            let token = app.config.signing_keys.unsubscribe_token(MessageId(id));
            (to, format!("/u/{token}"))
        })
        .collect()
}

/// The status of one one-click POST.
async fn one_click_status(client: &reqwest::Client, url: String) -> u16 {
    one_click(client, &url).await.status().as_u16()
}

async fn concurrent_one_click_posts_are_all_stored_with_their_evidence(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    app.load_demo();
    let emails = sent_emails(&app, BURST);
    let recipients: Vec<String> = emails.iter().map(|(to, _)| to.clone()).collect();
    let client = reqwest::Client::new();

    let statuses = within(
        120,
        join_all(
            emails
                .iter()
                .map(|(_, path)| one_click_status(&client, app.url(path))),
        ),
    )
    .await;
    assert!(
        statuses.iter().all(|s| *s == 200),
        "every one-click answered 200: {statuses:?}"
    );

    let stored: Vec<(String, String, String)> = opt_outs::table
        .filter(opt_outs::email.eq_any(&recipients))
        .select((opt_outs::email, opt_outs::level, opt_outs::source))
        .load(&mut *app.conn())
        .unwrap();
    assert_eq!(stored.len(), BURST, "one opt-out per recipient");
    assert!(
        stored
            .iter()
            .all(|(_, level, source)| level == "user" && source == "one_click"),
        "at the default one-click level, from one-click: {stored:?}"
    );
    let events_of = |kind: &'static str| -> i64 {
        consent_events::table
            .filter(consent_events::email.eq_any(&recipients))
            .filter(consent_events::kind.eq(kind))
            .count()
            .get_result(&mut *app.conn())
            .unwrap()
    };
    assert_eq!(events_of("opt_out"), BURST as i64, "an opt-out event each");
    assert_eq!(
        events_of("confirmation_sent"),
        BURST as i64,
        "a confirmation event each"
    );
    let confirmations: i64 = messages::table
        .filter(messages::to_email.eq_any(&recipients))
        .filter(messages::kind.eq(optouts::db::messages::KIND_OPT_OUT_CONFIRMATION))
        .filter(messages::status.eq("queued"))
        .count()
        .get_result(&mut *app.conn())
        .unwrap();
    assert_eq!(confirmations, BURST as i64, "a queued confirmation each");

    // The same burst again: every answer 200, nothing new recorded or queued.
    let statuses = within(
        120,
        join_all(
            emails
                .iter()
                .map(|(_, path)| one_click_status(&client, app.url(path))),
        ),
    )
    .await;
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    assert_eq!(events_of("opt_out"), BURST as i64, "repeats record nothing");
    assert_eq!(events_of("confirmation_sent"), BURST as i64);
}

async fn a_200_means_the_opt_out_is_already_committed(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    app.load_demo();
    let emails = sent_emails(&app, BURST);
    let client = reqwest::Client::new();
    // Each request, the moment its 200 arrives, looks for its opt-out through another
    // connection: a row not yet committed (or rolled back later) would not be there.
    let checks = emails.iter().map(|(to, path)| {
        let client = &client;
        let app = &app;
        async move {
            let status = one_click_status(client, app.url(path)).await;
            let stored: i64 = opt_outs::table
                .filter(opt_outs::email.eq(to))
                .count()
                .get_result(&mut *app.conn())
                .unwrap();
            (to.clone(), status, stored)
        }
    });
    let outcomes = within(120, join_all(checks)).await;
    for (to, status, stored) in outcomes {
        assert_eq!(status, 200, "{to}");
        assert_eq!(
            stored, 1,
            "{to} answered 200 before its opt-out was committed"
        );
    }
}
