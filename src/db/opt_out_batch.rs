//! Many recipients' opt-outs from links recorded at once: one multi-row statement per table
//! instead of four statements per opt-out.
//!
//! Why: the group-commit writer (`opt_out_writer`) was the busiest thread of a one-click burst
//! (two thirds of a core at 7,600 opt-outs/s), running ~256 single-row statements for a batch
//! of 64. Each statement costs a bind, a step and a reset beyond its B-tree inserts.
//!
//! What it keeps: every row exactly as `unsubscribes::opt_out_from_link` writes it for each
//! item in turn — the same outcome per item (a repeat, also within the batch, is not new and
//! gets no event and no email), and each item's `opt_out` event before its
//! `confirmation_sent` event. It runs inside the caller's write transaction.

use std::collections::HashMap;

use diesel::prelude::*;

use super::consent_events::{NewConsentEvent, NewEventRow};
use super::messages::ConfirmationRow;
use super::opt_outs::NewOptOutRow;
use super::schema::{consent_events, messages, opt_outs};
use super::unsubscribes::{confirmation_sent, recipient_address, recipient_event};
use super::{DbConnection, now};
use crate::domain::{EmailAddress, EventKind, MessageId, OptOutId};
use crate::on_each_backend;
use crate::service::opt_out_writer::LinkOptOut;

/// What makes an opt-out unique (the table's unique index): a second row with the same key
/// is a repeat.
type OptOutKey = (String, i64, String, i64);

/// Records every item; returns for each, in order, its new opt-out's id (`None`: a repeat).
pub fn record_all(
    conn: &mut DbConnection,
    batch: &[LinkOptOut],
) -> QueryResult<Vec<Option<OptOutId>>> {
    if batch.is_empty() {
        return Ok(Vec::new());
    }
    let at = now();
    let addresses = batch
        .iter()
        .map(|item| recipient_address(&item.message))
        .collect::<QueryResult<Vec<EmailAddress>>>()?;
    let events: Vec<NewConsentEvent<'_>> = batch
        .iter()
        .zip(&addresses)
        .map(|(item, address)| opt_out_event(item, address))
        .collect();

    let new = insert_opt_outs(conn, &events, at)?;
    let recorded: Vec<&NewConsentEvent<'_>> = events
        .iter()
        .zip(&new)
        .filter_map(|(event, id)| id.map(|_| event))
        .collect();
    insert_events(conn, recorded.iter().copied(), at)?;

    let confirmed: Vec<Confirmed<'_, '_>> = batch
        .iter()
        .zip(&events)
        .zip(&new)
        .filter(|((item, _), _)| item.confirm)
        .filter_map(|((item, event), id)| id.map(|id| (item, event, id)))
        .collect();
    let confirmations = queue_confirmations(conn, &confirmed, at)?;
    let sent: Vec<NewConsentEvent<'_>> = confirmed
        .iter()
        .zip(confirmations)
        .map(|((_, event, _), confirmation)| confirmation_sent(event, confirmation))
        .collect();
    insert_events(conn, sent.iter(), at)?;
    Ok(new)
}

fn opt_out_event<'a>(item: &'a LinkOptOut, address: &'a EmailAddress) -> NewConsentEvent<'a> {
    recipient_event(
        &item.message,
        address,
        EventKind::OptOut,
        item.level,
        item.source,
        item.reason.as_deref(),
        &item.origin(),
    )
}

/// An item to confirm by email: its request, its opt-out event and the new opt-out's id.
type Confirmed<'b, 'e> = (&'b LinkOptOut, &'b NewConsentEvent<'e>, OptOutId);

/// Inserts the opt-outs that are not active yet; for each event, its new opt-out's id. Only
/// the first of several equal ones in the batch gets one.
fn insert_opt_outs(
    conn: &mut DbConnection,
    events: &[NewConsentEvent<'_>],
    at: chrono::NaiveDateTime,
) -> QueryResult<Vec<Option<OptOutId>>> {
    let rows: Vec<NewOptOutRow<'_>> = events.iter().map(|e| NewOptOutRow::new(e, at)).collect();
    let inserted: Vec<(i64, String, i64, String, i64)> =
        on_each_backend!(conn, |c| diesel::insert_into(opt_outs::table)
            .values(&rows)
            .on_conflict_do_nothing()
            .returning((
                opt_outs::id,
                opt_outs::email,
                opt_outs::group_id,
                opt_outs::level,
                opt_outs::scope_id,
            ))
            .get_results(c))?;
    let mut unclaimed: HashMap<OptOutKey, OptOutId> = inserted
        .into_iter()
        .map(|(id, email, group, level, scope)| ((email, group, level, scope), OptOutId(id)))
        .collect();
    Ok(rows
        .iter()
        .map(|row| {
            let key = (
                row.email.to_owned(),
                row.group_id,
                row.level.to_owned(),
                row.scope_id,
            );
            unclaimed.remove(&key)
        })
        .collect())
}

fn insert_events<'a, 'e: 'a>(
    conn: &mut DbConnection,
    events: impl Iterator<Item = &'a NewConsentEvent<'e>>,
    at: chrono::NaiveDateTime,
) -> QueryResult<()> {
    let rows: Vec<NewEventRow<'_>> = events.map(|e| NewEventRow::new(e, at)).collect();
    if rows.is_empty() {
        return Ok(());
    }
    on_each_backend!(conn, |c| diesel::insert_into(consent_events::table)
        .values(&rows)
        .execute(c))?;
    Ok(())
}

/// Queues the confirmation emails; their ids in the order given. Rows come back from
/// `RETURNING` in no promised order, so each is told apart by its payload (the email it
/// confirms and the level: one new opt-out each).
fn queue_confirmations(
    conn: &mut DbConnection,
    confirmed: &[Confirmed<'_, '_>],
    at: chrono::NaiveDateTime,
) -> QueryResult<Vec<MessageId>> {
    if confirmed.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<ConfirmationRow<'_>> = confirmed
        .iter()
        .map(|(item, _, opt_out)| ConfirmationRow::new(&item.message, item.level, *opt_out, at))
        .collect();
    let returned: Vec<(i64, Option<String>)> =
        on_each_backend!(conn, |c| diesel::insert_into(messages::table)
            .values(&rows)
            .returning((messages::id, messages::payload))
            .get_results(c))?;
    let mut ids: HashMap<String, i64> = returned
        .into_iter()
        .filter_map(|(id, payload)| payload.map(|p| (p, id)))
        .collect();
    rows.iter()
        .map(|row| {
            ids.remove(&row.payload).map(MessageId).ok_or_else(|| {
                diesel::result::Error::QueryBuilderError(
                    "a queued confirmation did not come back from RETURNING".into(),
                )
            })
        })
        .collect()
}
