//! Active opt-outs: at most one row per (address, group, level, scope), changed only together
//! with the consent event that explains the change.

use diesel::prelude::*;

use super::consent_events::{self, NewConsentEvent};
use super::schema::opt_outs;
use super::{DbConnection, now, write_transaction};
use crate::domain::{EventKind, Scope};
use crate::on_each_backend;

/// Records an opt-out with its evidence in one transaction. When the same opt-out is already
/// active nothing changes and nothing is appended (double clicks and replays are harmless).
/// Returns whether a new opt-out was recorded.
pub fn record(conn: &mut DbConnection, event: &NewConsentEvent<'_>) -> QueryResult<bool> {
    debug_assert_eq!(event.kind, EventKind::OptOut);
    let scope: Scope = event
        .scope
        .expect("an opt-out always has a scope (level and scope id)");
    write_transaction(conn, |conn| {
        let values = (
            opt_outs::group_id.eq(event.group_id.0),
            opt_outs::level.eq(scope.level().as_str()),
            opt_outs::scope_id.eq(scope.scope_id()),
            opt_outs::email.eq(event.email.as_str()),
            opt_outs::source.eq(event.source.as_str()),
            opt_outs::actor_user_id.eq(event.actor_user_id.map(|u| u.0)),
            opt_outs::campaign_id.eq(event.campaign_id.map(|c| c.0)),
            opt_outs::message_id.eq(event.message_id.map(|m| m.0)),
            opt_outs::reason.eq(event.reason),
            opt_outs::created_at.eq(now()),
        );
        // `on_conflict` does not compile through the connection enum: same DSL, each backend.
        let inserted = on_each_backend!(conn, |c| diesel::insert_into(opt_outs::table)
            .values(values)
            .on_conflict_do_nothing()
            .execute(c))?;
        if inserted == 0 {
            return Ok(false);
        }
        consent_events::append(conn, event)?;
        Ok(true)
    })
}

/// How many opt-outs are active in a group (demo summary, health of imports).
pub fn count_in_group(
    conn: &mut DbConnection,
    group_id: crate::domain::GroupId,
) -> QueryResult<i64> {
    opt_outs::table
        .filter(opt_outs::group_id.eq(group_id.0))
        .count()
        .get_result(conn)
}
