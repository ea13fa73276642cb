//! Reading the delivery log: Admin › Activity › Emails and a campaign's counts.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConnection;
use crate::db::schema::{campaigns, messages};
use crate::domain::{CampaignId, ClientId, GroupId, MessageId};

/// Message counts of a campaign by status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StatusCounts {
    pub queued: i64,
    pub sending: i64,
    pub sent: i64,
    pub failed: i64,
    pub suppressed: i64,
}

#[derive(Queryable)]
struct StatusCount {
    status: String,
    n: i64,
}

pub fn counts_for_campaign(
    conn: &mut DbConnection,
    campaign: CampaignId,
) -> QueryResult<StatusCounts> {
    let rows = messages::table
        .filter(messages::campaign_id.eq(campaign))
        .group_by(messages::status)
        .select((messages::status, diesel::dsl::count_star()))
        .load::<StatusCount>(conn)?;
    let mut counts = StatusCounts::default();
    for StatusCount { status, n } in rows {
        match status.as_str() {
            "queued" => counts.queued = n,
            "sending" => counts.sending = n,
            "sent" => counts.sent = n,
            "failed" => counts.failed = n,
            "suppressed" => counts.suppressed = n,
            _ => {}
        }
    }
    Ok(counts)
}

/// Whose delivery log a person sees.
#[derive(Debug, Clone, Copy)]
pub enum LogScope {
    Group(GroupId),
    Client(ClientId),
}

/// One line of Admin › Activity › Emails, in the order [`log_page`] selects it.
#[derive(Debug, Clone, Queryable)]
pub struct LogEntry {
    pub id: MessageId,
    pub kind: String,
    pub to_email: String,
    pub campaign_name: Option<String>,
    pub status: String,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub sent_at: Option<NaiveDateTime>,
}

/// The delivery log newest first, keyset pages after `(created_at, id)`.
pub fn log_page(
    conn: &mut DbConnection,
    scope: LogScope,
    after: Option<(NaiveDateTime, MessageId)>,
    limit: i64,
) -> QueryResult<Vec<LogEntry>> {
    let mut query = messages::table
        .left_join(campaigns::table.on(campaigns::id.nullable().eq(messages::campaign_id)))
        .select((
            messages::id,
            messages::kind,
            messages::to_email,
            campaigns::name.nullable(),
            messages::status,
            messages::attempts,
            messages::last_error,
            messages::created_at,
            messages::updated_at,
            messages::sent_at,
        ))
        .into_boxed();
    query = match scope {
        LogScope::Group(group) => query.filter(messages::group_id.eq(group)),
        LogScope::Client(client) => query.filter(messages::client_id.eq(client)),
    };
    if let Some((at, id)) = after {
        query = query.filter(
            messages::created_at
                .lt(at)
                .or(messages::created_at.eq(at).and(messages::id.lt(id))),
        );
    }
    query
        .order((messages::created_at.desc(), messages::id.desc()))
        .limit(limit)
        .load::<LogEntry>(conn)
}
