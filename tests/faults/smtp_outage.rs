//! The SMTP server goes away in the middle of a campaign while the app keeps running, and comes
//! back on the same port. Every email arrives exactly once, and the delivery log (the outbox
//! rows and Admin › Activity › Emails) shows the retries: tries above one and the last error.
//! (tests/app/delivery.rs covers a server that is down from the start.)

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use diesel::prelude::*;
use optouts::db::schema::messages;
use optouts::domain::MessageId;
use optouts::mail::MailUrl;
use optouts::seed::demo::DEMO_PASSWORD;

use crate::helpers::{Backend, TestApp, new_client, spawn_app_with, within};
use crate::on_both_backends;
use crate::seed;
use crate::smtp::{Received, SmtpServer};

const CAMPAIGN: usize = 80;
/// Client admin of Newsletters, Nina's client: reads the delivery log.
const CARL: &str = "carl.jensen@acme.example";

on_both_backends!(smtp_gone_mid_campaign_then_back_delivers_each_email_once_and_logs_retries);

async fn smtp_gone_mid_campaign_then_back_delivers_each_email_once_and_logs_retries(
    backend: Backend,
) {
    let mut first = SmtpServer::start();
    let port = first.port;
    let url = first.url();
    let Some(app) = spawn_app_with(backend, move |config| {
        config.mail = MailUrl::parse(&url).unwrap();
        // The outage must not use up the tries: this test is about retrying, not giving up.
        config.delivery.max_attempts = 50;
    })
    .await
    else {
        return;
    };
    app.load_demo();
    let queued = {
        let mut conn = app.conn();
        let sender = seed::demo_sender(&mut conn, seed::NINA);
        seed::queued_campaign(
            &mut conn,
            &sender,
            &seed::recipients(CAMPAIGN, "outage.example"),
        )
    };
    let worker = app.start_worker();
    within(60, async {
        while first.count() < CAMPAIGN / 4 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
    first.stop();
    let before_outage = first.messages();

    // The app keeps trying: every email not yet sent fails, is queued again with the error,
    // and fails again on its next try.
    within(60, async {
        while !every_unsent_retried(&app, &queued) {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
    let unsent_in_outage: BTreeSet<MessageId> = rows(&app, &queued)
        .into_iter()
        .filter(|(_, row)| row.status != "sent")
        .map(|(id, _)| id)
        .collect();
    assert!(!unsent_in_outage.is_empty(), "the outage came mid-campaign");
    let carl = new_client();
    assert_eq!(
        app.login_with(&carl, CARL, DEMO_PASSWORD).await.status(),
        303
    );
    let during = email_log(&app, &carl).await;
    assert!(
        during
            .values()
            .any(|line| line.status == "queued" && !line.last_error.is_empty()),
        "during the outage the log shows emails waiting with their error: {during:?}"
    );

    let second = SmtpServer::start_on(port);
    within(120, async {
        while !rows(&app, &queued).values().all(|row| row.status == "sent") {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await;
    // Every row is marked sent, and only after the SMTP server accepted it: nothing more comes.
    worker.stop().await;
    let after_outage = second.messages();

    assert_each_delivered_once(&queued, &before_outage, &after_outage);
    let rows = rows(&app, &queued);
    let log = email_log(&app, &carl).await;
    for id in &queued {
        let row = &rows[id];
        let line = &log[&row.to_email];
        assert_eq!(line.status, "sent", "message {id} in the log");
        assert_eq!(line.tries, row.attempts.to_string(), "message {id}: tries");
        assert_eq!(
            line.last_error,
            row.last_error.as_deref().unwrap_or_default().trim(),
            "message {id}: last error"
        );
        if unsent_in_outage.contains(id) {
            assert!(
                row.attempts >= 2 && row.last_error.as_deref().is_some_and(|e| !e.is_empty()),
                "message {id}: retried through the outage, and the log keeps why: {row:?}"
            );
        } else {
            assert_eq!(
                (row.attempts, row.last_error.as_deref()),
                (1, None),
                "message {id}: sent before the outage at the first try"
            );
        }
    }
}

/// Exactly one copy of each email across both servers. The one exception SMTP itself cannot
/// rule out: the email in flight when the server was killed, stored by it before its `250`
/// reached us, is tried again and arrives at the new server too — with the same Message-ID.
fn assert_each_delivered_once(queued: &[MessageId], before: &[Received], after: &[Received]) {
    let ids = |received: &[Received]| -> Vec<MessageId> {
        received
            .iter()
            .map(|m| MessageId(seed::message_id_number(m.header("message-id"))))
            .collect()
    };
    let (before, after) = (ids(before), ids(after));
    let mut copies: HashMap<MessageId, usize> = HashMap::new();
    for id in before.iter().chain(&after) {
        *copies.entry(*id).or_default() += 1;
    }
    let delivered: BTreeSet<MessageId> = copies.keys().copied().collect();
    let expected: BTreeSet<MessageId> = queued.iter().copied().collect();
    assert_eq!(delivered, expected, "every email delivered, no other");
    let repeated: Vec<MessageId> = copies
        .iter()
        .filter(|(_, n)| **n > 1)
        .map(|(id, _)| *id)
        .collect();
    match repeated.as_slice() {
        [] => {}
        [id] => assert!(
            copies[id] == 2 && before.contains(id) && after.contains(id),
            "message {id}: the only repeat must be the one in flight at the outage"
        ),
        more => panic!("emails delivered twice: {more:?}"),
    }
}

#[derive(Debug)]
struct Row {
    to_email: String,
    status: String,
    attempts: i32,
    last_error: Option<String>,
}

fn rows(app: &TestApp, ids: &[MessageId]) -> HashMap<MessageId, Row> {
    let ids: Vec<i64> = ids.iter().map(|id| id.0).collect();
    messages::table
        .filter(messages::id.eq_any(ids))
        .select((
            messages::id,
            messages::to_email,
            messages::status,
            messages::attempts,
            messages::last_error,
        ))
        .load::<(i64, String, String, i32, Option<String>)>(&mut *app.conn())
        .unwrap()
        .into_iter()
        .map(|(id, to_email, status, attempts, last_error)| {
            let row = Row {
                to_email,
                status,
                attempts,
                last_error,
            };
            (MessageId(id), row)
        })
        .collect()
}

/// Every email not yet sent has failed at least twice: queued again with its error after a
/// try during the outage, and tried again since.
fn every_unsent_retried(app: &TestApp, ids: &[MessageId]) -> bool {
    rows(app, ids)
        .values()
        .filter(|row| row.status != "sent")
        .all(|row| row.status == "queued" && row.attempts >= 2 && row.last_error.is_some())
}

/// One line of Admin › Activity › Emails, as the page shows it.
#[derive(Debug)]
struct LogLine {
    status: String,
    tries: String,
    last_error: String,
}

/// Every line of the delivery log, following its pages, by recipient.
async fn email_log(app: &TestApp, client: &reqwest::Client) -> HashMap<String, LogLine> {
    let mut lines = HashMap::new();
    let mut next = Some("/admin/activity/emails".to_owned());
    while let Some(path) = next.take() {
        let response = app.get_with(client, &path).await;
        assert_eq!(response.status(), 200, "{path}");
        let page = scraper::Html::parse_document(&response.text().await.unwrap());
        let row = scraper::Selector::parse("tr.email").unwrap();
        let cell = scraper::Selector::parse("td").unwrap();
        for tr in page.select(&row) {
            let cells: Vec<String> = tr
                .select(&cell)
                .map(|td| td.text().collect::<String>().trim().to_owned())
                .collect();
            // Queued, kind, recipient, campaign, status, tries, last error, updated.
            let [_, _, recipient, _, status, tries, last_error, _] = cells.as_slice() else {
                panic!("unexpected log row {cells:?}");
            };
            lines.insert(
                recipient.clone(),
                LogLine {
                    status: status.clone(),
                    tries: tries.clone(),
                    last_error: last_error.clone(),
                },
            );
        }
        let next_link = scraper::Selector::parse(r#"a[rel="next"]"#).unwrap();
        next = page
            .select(&next_link)
            .next()
            .and_then(|a| a.value().attr("href"))
            .map(str::to_owned);
    }
    lines
}
