//! Active opt-outs: at most one row per (address, group, level, scope), changed only together
//! with the consent event that explains the change, in one transaction.
//!
//! Split by concern: this module records and lifts; [`blocking`] answers "is mail from this
//! sender blocked?" (the cascade rule, from `db::cascade`); [`lookup`] finds opt-outs by
//! address and scope. Callers use the names re-exported here.

mod blocking;
mod lookup;

pub use blocking::{
    ExplainedOptOut, applying_to, blocking_levels, broadest_for_contacts, suppressed_among,
};
pub use lookup::{NamedOptOut, active_scopes_among, count_in_group, everywhere, is_active};

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::consent_events::{self, NewConsentEvent};
use crate::db::schema::opt_outs;
use crate::db::{DbConnection, now, write_transaction};
use crate::domain::{
    CampaignId, EmailAddress, EventKind, GroupId, Level, MessageId, OptOutId, Scope, Source, UserId,
};
use crate::on_each_backend;

/// An active opt-out as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActiveOptOut {
    pub id: OptOutId,
    pub group_id: GroupId,
    pub scope: Scope,
    pub email: String,
    pub source: String,
    pub actor_user_id: Option<UserId>,
    pub campaign_id: Option<CampaignId>,
    pub message_id: Option<MessageId>,
    pub reason: Option<String>,
    pub created_at: NaiveDateTime,
}

/// The stored row, in column order (loaded with `opt_outs::all_columns`).
#[derive(Queryable, Selectable)]
#[diesel(table_name = opt_outs)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub(super) struct OptOutRow {
    id: OptOutId,
    group_id: GroupId,
    level: Level,
    scope_id: i64,
    email: String,
    source: String,
    actor_user_id: Option<UserId>,
    campaign_id: Option<CampaignId>,
    message_id: Option<MessageId>,
    reason: Option<String>,
    created_at: NaiveDateTime,
}

impl From<OptOutRow> for ActiveOptOut {
    fn from(row: OptOutRow) -> Self {
        ActiveOptOut {
            id: row.id,
            group_id: row.group_id,
            scope: Scope::from_stored(row.level, row.scope_id),
            email: row.email,
            source: row.source,
            actor_user_id: row.actor_user_id,
            campaign_id: row.campaign_id,
            message_id: row.message_id,
            reason: row.reason,
            created_at: row.created_at,
        }
    }
}

/// Records an opt-out with its evidence in one transaction. When the same opt-out is already
/// active nothing changes and nothing is appended (double clicks and replays are harmless).
/// Returns whether a new opt-out was recorded.
pub fn record(conn: &mut DbConnection, event: &NewConsentEvent<'_>) -> QueryResult<bool> {
    record_at(conn, event, None)
}

/// As [`record`], with the moment the recipient opted out when it was earlier than now (an
/// import of older opt-outs).
pub fn record_at(
    conn: &mut DbConnection,
    event: &NewConsentEvent<'_>,
    given_at: Option<chrono::NaiveDateTime>,
) -> QueryResult<bool> {
    write_transaction(conn, |conn| {
        insert_with_event(conn, event, given_at).map(|id| id.is_some())
    })
}

/// The row an opt-out event makes active; `opt_out_batch` writes many in one statement.
#[derive(Insertable)]
#[diesel(table_name = opt_outs, treat_none_as_default_value = false)]
pub(super) struct NewOptOutRow<'a> {
    pub(super) group_id: GroupId,
    pub(super) level: Level,
    pub(super) scope_id: i64,
    pub(super) email: &'a str,
    source: Source,
    actor_user_id: Option<UserId>,
    campaign_id: Option<CampaignId>,
    message_id: Option<MessageId>,
    reason: Option<&'a str>,
    created_at: chrono::NaiveDateTime,
}

impl<'a> NewOptOutRow<'a> {
    pub(super) fn new(event: &NewConsentEvent<'a>, created_at: chrono::NaiveDateTime) -> Self {
        debug_assert_eq!(event.kind, EventKind::OptOut);
        let scope = event
            .scope
            .expect("an opt-out always has a scope (level and scope id)");
        Self {
            group_id: event.group_id,
            level: scope.level(),
            scope_id: scope.scope_id(),
            email: event.email.as_str(),
            source: event.source,
            actor_user_id: event.actor_user_id,
            campaign_id: event.campaign_id,
            message_id: event.message_id,
            reason: event.reason,
            created_at,
        }
    }
}

/// The body of [`record_at`] for a caller that already holds a write transaction
/// (`unsubscribes::opt_out_from_link`): no savepoint of its own, so an error here must fail
/// that transaction. Returns the new opt-out's id; `None` when it was active already.
pub(super) fn insert_with_event(
    conn: &mut DbConnection,
    event: &NewConsentEvent<'_>,
    given_at: Option<chrono::NaiveDateTime>,
) -> QueryResult<Option<OptOutId>> {
    let row = NewOptOutRow::new(event, given_at.unwrap_or_else(now));
    // `on_conflict` does not compile through the connection enum: same DSL, each backend.
    // A conflict inserts nothing and so returns no row.
    let inserted = on_each_backend!(conn, |c| diesel::insert_into(opt_outs::table)
        .values(&row)
        .on_conflict_do_nothing()
        .returning(opt_outs::id)
        .get_result::<OptOutId>(c)
        .optional())?;
    if inserted.is_some() {
        consent_events::append(conn, event)?;
    }
    Ok(inserted)
}

/// Lifts exactly the active opt-out `id` of `email`, appending the event `opt_in` makes for
/// it in the same transaction; returns the opt-out lifted. Nothing changes and nothing is
/// appended when that row is no longer active: lifted already, or replaced by a newer opt-out
/// of the same scope (which has another id, and which this act did not name).
///
/// Only the recipient (through a signed link naming the row, or a page that listed it) and
/// support (with written consent) may cause this.
pub fn lift_exact<'a>(
    conn: &mut DbConnection,
    id: OptOutId,
    email: &EmailAddress,
    opt_in: impl FnOnce(&ActiveOptOut) -> NewConsentEvent<'a>,
) -> QueryResult<Option<ActiveOptOut>> {
    write_transaction(conn, |conn| {
        let Some(row) = opt_outs::table
            .filter(opt_outs::id.eq(id))
            .filter(opt_outs::email.eq(email.as_str()))
            .first::<OptOutRow>(conn)
            .optional()?
        else {
            return Ok(None);
        };
        let active = ActiveOptOut::from(row);
        let event = opt_in(&active);
        debug_assert_eq!(event.kind, EventKind::OptIn);
        debug_assert_eq!(event.scope, Some(active.scope));
        // By id and address: a concurrent lift of the same row removes it once, and only the
        // one that removed it appends the event.
        let removed = diesel::delete(
            opt_outs::table
                .filter(opt_outs::id.eq(id))
                .filter(opt_outs::email.eq(email.as_str())),
        )
        .execute(conn)?;
        if removed == 0 {
            return Ok(None);
        }
        consent_events::append(conn, &event)?;
        Ok(Some(active))
    })
}

/// Support lifts the chosen opt-outs of `email` on written consent, in one transaction, each
/// with an event carrying the evidence. Ids that are not active opt-outs of that address are
/// ignored. Returns the ids this call lifted (a row lifted concurrently by another is not
/// among them: only the transaction that removed it reports it).
pub fn lift_on_written_consent(
    conn: &mut DbConnection,
    email: &EmailAddress,
    ids: &[OptOutId],
    support_user: UserId,
    evidence_json: &str,
) -> QueryResult<Vec<OptOutId>> {
    write_transaction(conn, |conn| {
        let mut lifted = Vec::new();
        for id in ids {
            let opt_in = |active: &ActiveOptOut| NewConsentEvent {
                group_id: active.group_id,
                email,
                kind: EventKind::OptIn,
                scope: Some(active.scope),
                source: crate::domain::Source::Support,
                actor_kind: crate::domain::ActorKind::Support,
                actor_user_id: Some(support_user),
                campaign_id: None,
                message_id: None,
                reason: None,
                ip_address: None,
                user_agent: None,
                evidence: Some(evidence_json),
            };
            if lift_exact(conn, *id, email, opt_in)?.is_some() {
                lifted.push(*id);
            }
        }
        Ok(lifted)
    })
}
