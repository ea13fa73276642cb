//! Crash safety of the outbox: a campaign of several hundred emails, the server (with its
//! delivery worker) SIGKILLed mid-delivery, restarted on the same database. No email may be
//! lost, and none sent twice — except the one the worker had in hand when it died, which the
//! SMTP server may have accepted before the `sent` mark reached the database (see
//! `src/mail/worker.rs`). Even that repeat must carry the same Message-ID, so the receiving
//! side can drop it.

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use diesel::prelude::*;
use optouts::db::schema::messages;
use optouts::domain::MessageId;

use crate::helpers::{Backend, TestDatabase, within};
use crate::on_both_backends;
use crate::seed;
use crate::server::ServerSpec;
use crate::smtp::SmtpServer;

const CAMPAIGN: usize = 300;

on_both_backends!(a_sigkill_mid_delivery_loses_no_email_and_repeats_none_but_the_one_in_hand);

async fn a_sigkill_mid_delivery_loses_no_email_and_repeats_none_but_the_one_in_hand(
    backend: Backend,
) {
    let Some(db) = TestDatabase::create(backend) else {
        return;
    };
    let smtp = SmtpServer::start();
    let pool = db.migrated_pool();
    let queued = {
        let mut conn = pool.get().unwrap();
        optouts::seed::demo::load(&mut conn).unwrap();
        let sender = seed::demo_sender(&mut conn, seed::NINA);
        seed::queued_campaign(
            &mut conn,
            &sender,
            &seed::recipients(CAMPAIGN, "crash.example"),
        )
    };
    let mut spec = ServerSpec::for_database(&db);
    spec.mail_url = Some(smtp.url());
    spec.worker = true;

    let mut server = spec.start(1).await;
    within(120, async {
        while smtp.count() < CAMPAIGN / 3 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
    server.kill9();
    drop(server);

    let at_kill = statuses(&mut pool.get().unwrap(), &queued);
    let sent_at_kill = at_kill.values().filter(|s| s.0 == "sent").count();
    assert!(
        sent_at_kill < CAMPAIGN,
        "the kill came mid-delivery: {sent_at_kill} of {CAMPAIGN} sent"
    );
    // What the dead worker held: its claimed batch, with at most one email in hand.
    let held_at_kill: BTreeSet<MessageId> = at_kill
        .iter()
        .filter(|(_, (status, _))| status == "sending")
        .map(|(id, _)| *id)
        .collect();

    // The restarted worker takes the dead worker's claims over once they time out (2 s here)
    // and sends the rest.
    let server = spec.start(2).await;
    within(120, async {
        loop {
            let now = statuses(&mut pool.get().unwrap(), &queued);
            if now.values().all(|(status, _)| status == "sent") {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await;
    // Every row is marked sent, and a row is marked only after the SMTP server accepted it:
    // nothing more can arrive.
    drop(server);

    let after = statuses(&mut pool.get().unwrap(), &queued);
    for id in &held_at_kill {
        assert!(
            after[id].1 >= 2,
            "message {id}: held by the killed worker, then claimed again after its claim expired"
        );
    }
    let received = smtp.messages();
    let mut copies: HashMap<MessageId, usize> = HashMap::new();
    let mut ids_per_recipient: HashMap<String, BTreeSet<String>> = HashMap::new();
    for message in &received {
        let message_id = message.header("message-id").to_owned();
        *copies
            .entry(MessageId(seed::message_id_number(&message_id)))
            .or_default() += 1;
        ids_per_recipient
            .entry(message.header("to").to_owned())
            .or_default()
            .insert(message_id);
    }
    let delivered: BTreeSet<MessageId> = copies.keys().copied().collect();
    let expected: BTreeSet<MessageId> = queued.iter().copied().collect();
    assert_eq!(
        delivered, expected,
        "every queued email delivered, no other"
    );
    assert_eq!(ids_per_recipient.len(), CAMPAIGN, "every recipient reached");
    for (to, ids) in &ids_per_recipient {
        assert_eq!(
            ids.len(),
            1,
            "{to}: every copy carries one Message-ID: {ids:?}"
        );
    }
    let repeated: Vec<(MessageId, usize)> = copies
        .iter()
        .filter(|(_, n)| **n > 1)
        .map(|(id, n)| (*id, *n))
        .collect();
    eprintln!(
        "{backend:?}: killed with {sent_at_kill} of {CAMPAIGN} sent and {} held; repeated after restart: {repeated:?}",
        held_at_kill.len()
    );
    match repeated.as_slice() {
        [] => {}
        [(id, 2)] => assert!(
            held_at_kill.contains(id),
            "message {id} arrived twice but the killed worker did not hold it"
        ),
        more => panic!("emails sent twice beyond the one in hand at the kill: {more:?}"),
    }
}

/// Status and attempts of each message.
fn statuses(
    conn: &mut optouts::db::DbConnection,
    ids: &[MessageId],
) -> HashMap<MessageId, (String, i32)> {
    let ids: Vec<i64> = ids.iter().map(|id| id.0).collect();
    messages::table
        .filter(messages::id.eq_any(ids))
        .select((messages::id, messages::status, messages::attempts))
        .load::<(i64, String, i32)>(conn)
        .unwrap()
        .into_iter()
        .map(|(id, status, attempts)| (MessageId(id), (status, attempts)))
        .collect()
}
