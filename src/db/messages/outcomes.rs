//! What a send did, recorded on the row. Every mark is guarded by the claim, so a worker whose
//! claim expired cannot overwrite the outcome of the worker that took the row over.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::claims::{claim_ended, held};
use crate::db::schema::{campaign_recipients, messages};
use crate::db::{DbConnection, now, write_transaction};
use crate::domain::{Level, MessageId};

/// Sent. `last_error` is kept: after retries the delivery log still shows what went wrong
/// before (the tries column says how many there were).
pub fn mark_sent(conn: &mut DbConnection, id: MessageId, worker: &str) -> QueryResult<bool> {
    let at = now();
    diesel::update(held(id, worker))
        .set((
            messages::status.eq("sent"),
            messages::sent_at.eq(Some(at)),
            claim_ended(at),
        ))
        .execute(conn)
        .map(|n| n == 1)
}

/// A transient failure: back to the queue until `next_attempt_at`, keeping the error.
pub fn schedule_retry(
    conn: &mut DbConnection,
    id: MessageId,
    worker: &str,
    next_attempt_at: NaiveDateTime,
    error: &str,
) -> QueryResult<bool> {
    diesel::update(held(id, worker))
        .set((
            messages::status.eq("queued"),
            messages::next_attempt_at.eq(next_attempt_at),
            messages::last_error.eq(Some(error)),
            claim_ended(now()),
        ))
        .execute(conn)
        .map(|n| n == 1)
}

/// A permanent failure (or too many tries): kept with the server's reply.
pub fn mark_failed(
    conn: &mut DbConnection,
    id: MessageId,
    worker: &str,
    error: &str,
) -> QueryResult<bool> {
    diesel::update(held(id, worker))
        .set((
            messages::status.eq("failed"),
            messages::last_error.eq(Some(error)),
            claim_ended(now()),
        ))
        .execute(conn)
        .map(|n| n == 1)
}

/// An opt-out arrived between queueing and sending: the message is never sent, and the
/// campaign's recipient row records why.
pub fn mark_suppressed(
    conn: &mut DbConnection,
    id: MessageId,
    worker: &str,
    level: Level,
) -> QueryResult<bool> {
    write_transaction(conn, |conn| {
        let updated = diesel::update(held(id, worker))
            .set((
                messages::status.eq("suppressed"),
                messages::last_error.eq(Some(format!("opted out at {level} level before sending"))),
                claim_ended(now()),
            ))
            .execute(conn)?;
        diesel::update(campaign_recipients::table.filter(campaign_recipients::message_id.eq(id)))
            .set((
                campaign_recipients::status.eq("suppressed"),
                campaign_recipients::suppressed_level.eq(Some(level)),
            ))
            .execute(conn)?;
        Ok(updated == 1)
    })
}
