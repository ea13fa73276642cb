//! The group-commit writer records a batch of one-click opt-outs with one statement per table
//! (`db::opt_out_batch`). It must store exactly what recording each opt-out on its own stores,
//! and answer each item the same — repeats within the batch, opt-outs already active, items
//! without a confirmation email and two levels from one email included.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use diesel::connection::{Connection, InstrumentationEvent};
use diesel::prelude::*;
use optouts::db::schema::{consent_events, messages, opt_outs};
use optouts::db::{DbConnection, link_context, messages as emails, opt_out_batch};
use optouts::domain::{Level, MessageId, Source};
use optouts::service::opt_out_writer::LinkOptOut;

use crate::helpers::{Backend, TestDatabase};
use crate::on_both_backends;
use crate::seed;

on_both_backends!(a_batch_stores_and_answers_what_one_by_one_does);

/// (email index, level, confirm): `a` twice at the user level, `b` already opted out before,
/// `c` without a confirmation, `d` at two levels, `a` again at the client level.
const ITEMS: &[(usize, Level, bool)] = &[
    (0, Level::User, true),
    (0, Level::User, true),
    (1, Level::User, true),
    (2, Level::User, false),
    (3, Level::Group, true),
    (3, Level::User, true),
    (0, Level::Client, true),
];
const EXPECTED: &[bool] = &[true, false, false, true, true, true, true];

async fn a_batch_stores_and_answers_what_one_by_one_does(backend: Backend) {
    let (Some(batched), Some(one_by_one)) =
        (TestDatabase::create(backend), TestDatabase::create(backend))
    else {
        return;
    };
    let (batch_answers, statements) = record(&batched, |conn, items| {
        opt_out_batch::record_all(conn, items)
            .unwrap()
            .iter()
            .map(Option::is_some)
            .collect()
    });
    let (single_answers, _) = record(&one_by_one, |conn, items| {
        items
            .iter()
            .map(|item| item.record(conn).unwrap().is_some())
            .collect()
    });

    assert_eq!(batch_answers, EXPECTED);
    assert_eq!(single_answers, EXPECTED);
    assert_eq!(stored(&batched), stored(&one_by_one));
    // Set-based: opt-outs, their events, the confirmation emails, their events.
    assert_eq!(
        statements,
        4,
        "statements run for a batch of {}",
        ITEMS.len()
    );
}

/// Seeds the demo sender's emails to four recipients (the second already opted out), then
/// records `ITEMS` with `how`; the answers and the number of statements `how` ran.
fn record(
    db: &TestDatabase,
    how: impl FnOnce(&mut DbConnection, &[LinkOptOut]) -> Vec<bool>,
) -> (Vec<bool>, usize) {
    let pool = db.migrated_pool();
    let mut conn = pool.get().unwrap();
    optouts::seed::demo::load(&mut conn).unwrap();
    let sender = seed::demo_sender(&mut conn, seed::NINA);
    let ids = seed::sent_messages(&mut conn, &sender, &seed::recipients(4, "batch.example"));
    assert!(
        one_click(&mut conn, ids[1], Level::User, true)
            .record(&mut conn)
            .unwrap()
            .is_some()
    );

    let items: Vec<LinkOptOut> = ITEMS
        .iter()
        .map(|&(to, level, confirm)| one_click(&mut conn, ids[to], level, confirm))
        .collect();
    let statements = Arc::new(Mutex::new(0));
    let counter = Arc::clone(&statements);
    conn.set_instrumentation(move |event: InstrumentationEvent<'_>| {
        if matches!(event, InstrumentationEvent::StartQuery { .. }) {
            *counter.lock().unwrap() += 1;
        }
    });
    let answers = conn
        .transaction(|conn| QueryResult::Ok(how(conn, &items)))
        .unwrap();
    conn.set_instrumentation(|_: InstrumentationEvent<'_>| {});
    // The transaction's own BEGIN and COMMIT are not the batch's.
    let statements = *statements.lock().unwrap() - 2;
    (answers, statements)
}

fn one_click(conn: &mut DbConnection, email: MessageId, level: Level, confirm: bool) -> LinkOptOut {
    LinkOptOut {
        message: link_context::load_fresh(conn, email)
            .unwrap()
            .unwrap()
            .message,
        level,
        source: Source::OneClick,
        reason: confirm.then(|| "too many emails".to_owned()),
        ip_address: Some("192.0.2.7".into()),
        user_agent: Some("Mail/1.0".into()),
        shown: Some(format!("{{\"shown\":[\"{level} level\"]}}")),
        confirm,
    }
}

type OptOutRow = (
    i64,
    String,
    i64,
    String,
    String,
    Option<i64>,
    Option<String>,
);
/// An event's columns; `M` is how its email is named (the id as stored, or a description).
type EventRow<M = String> = (
    String,
    String,
    Option<String>,
    Option<i64>,
    String,
    String,
    Option<M>,
    Option<String>,
    Option<String>,
    Option<String>,
);
type ConfirmationRow = (String, Option<String>, String);

/// Everything the opt-outs wrote, without ids and times; an event's email is named by what it
/// is (the campaign email, or the confirmation and what it confirms), not by its id.
fn stored(db: &TestDatabase) -> (Vec<OptOutRow>, Vec<EventRow>, Vec<ConfirmationRow>) {
    let pool = db.migrated_pool();
    let mut conn = pool.get().unwrap();
    let mut active: Vec<OptOutRow> = opt_outs::table
        .select((
            opt_outs::group_id,
            opt_outs::level,
            opt_outs::scope_id,
            opt_outs::email,
            opt_outs::source,
            opt_outs::message_id,
            opt_outs::reason,
        ))
        .filter(opt_outs::email.like("%@batch.example"))
        .load(&mut conn)
        .unwrap();
    active.sort();
    let described: HashMap<i64, String> = messages::table
        .select((messages::id, messages::kind, messages::payload))
        .load::<(i64, String, Option<String>)>(&mut conn)
        .unwrap()
        .into_iter()
        .map(|(id, kind, payload)| (id, format!("{kind} {}", payload.unwrap_or_default())))
        .collect();
    let mut events: Vec<EventRow> = consent_events::table
        .select((
            consent_events::email,
            consent_events::kind,
            consent_events::level,
            consent_events::scope_id,
            consent_events::source,
            consent_events::actor_kind,
            consent_events::message_id,
            consent_events::reason,
            consent_events::ip_address,
            consent_events::user_agent,
        ))
        .filter(consent_events::email.like("%@batch.example"))
        .load::<EventRow<i64>>(&mut conn)
        .unwrap()
        .into_iter()
        .map(
            |(email, kind, level, scope, source, actor, message, reason, ip, agent)| {
                let message = message.map(|id| described[&id].clone());
                (
                    email, kind, level, scope, source, actor, message, reason, ip, agent,
                )
            },
        )
        .collect();
    events.sort();
    let mut confirmations: Vec<ConfirmationRow> = messages::table
        .select((messages::to_email, messages::payload, messages::status))
        .filter(messages::kind.eq(emails::KIND_OPT_OUT_CONFIRMATION))
        .load(&mut conn)
        .unwrap();
    confirmations.sort();
    (active, events, confirmations)
}
