//! The evidence: consent events are only ever appended (the database refuses UPDATE and
//! DELETE on this table).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{campaigns, consent_events, users};
use super::{DbConnection, now};
use crate::domain::{
    ActorKind, CampaignId, ConsentEventId, EmailAddress, EventKind, GroupId, Level, MessageId,
    Scope, Sender, Source, UserId,
};
use crate::on_each_backend;

/// Everything an event records. Fields that do not apply stay `None`.
pub struct NewConsentEvent<'a> {
    pub group_id: GroupId,
    pub email: &'a EmailAddress,
    pub kind: EventKind,
    pub scope: Option<Scope>,
    pub source: Source,
    pub actor_kind: ActorKind,
    pub actor_user_id: Option<UserId>,
    pub campaign_id: Option<CampaignId>,
    pub message_id: Option<MessageId>,
    pub reason: Option<&'a str>,
    pub ip_address: Option<&'a str>,
    pub user_agent: Option<&'a str>,
    pub evidence: Option<&'a str>,
}

pub fn append(conn: &mut DbConnection, event: &NewConsentEvent<'_>) -> QueryResult<ConsentEventId> {
    // On the backend's own connection: through the enum diesel renders the INSERT to SQL text
    // on every run, and this runs for every opt-out of a burst.
    on_each_backend!(conn, |c| diesel::insert_into(consent_events::table)
        .values(NewEventRow::new(event, now()))
        .returning(consent_events::id)
        .get_result::<ConsentEventId>(c))
}

/// The row [`append`] writes for an event; `opt_out_batch` writes many in one statement.
#[derive(Insertable)]
#[diesel(table_name = consent_events, treat_none_as_default_value = false)]
pub(super) struct NewEventRow<'a> {
    group_id: GroupId,
    email: &'a str,
    kind: EventKind,
    level: Option<Level>,
    scope_id: Option<i64>,
    source: Source,
    actor_kind: ActorKind,
    actor_user_id: Option<UserId>,
    campaign_id: Option<CampaignId>,
    message_id: Option<MessageId>,
    reason: Option<&'a str>,
    ip_address: Option<&'a str>,
    user_agent: Option<&'a str>,
    evidence: Option<&'a str>,
    created_at: NaiveDateTime,
}

impl<'a> NewEventRow<'a> {
    pub(super) fn new(event: &NewConsentEvent<'a>, created_at: NaiveDateTime) -> Self {
        Self {
            group_id: event.group_id,
            email: event.email.as_str(),
            kind: event.kind,
            level: event.scope.map(Scope::level),
            scope_id: event.scope.map(Scope::scope_id),
            source: event.source,
            actor_kind: event.actor_kind,
            actor_user_id: event.actor_user_id,
            campaign_id: event.campaign_id,
            message_id: event.message_id,
            reason: event.reason,
            ip_address: event.ip_address,
            user_agent: event.user_agent,
            evidence: event.evidence,
            created_at,
        }
    }
}

/// A consent event as shown in a contact's history.
#[derive(Debug, Clone)]
pub struct EventRecord {
    pub id: ConsentEventId,
    pub kind: String,
    pub scope: Option<Scope>,
    pub source: String,
    pub actor_kind: String,
    pub actor_name: Option<String>,
    pub campaign_name: Option<String>,
    pub reason: Option<String>,
    /// What the event keeps as proof: support's written consent (read it with
    /// `WrittenConsent::from_evidence`), an import's file name, …
    pub evidence: Option<String>,
    pub created_at: NaiveDateTime,
}

/// An event as the history queries select it, with the names of its actor and campaign.
#[derive(Queryable)]
struct EventRow {
    id: ConsentEventId,
    kind: String,
    level: Option<Level>,
    scope_id: Option<i64>,
    source: String,
    actor_kind: String,
    actor_name: Option<String>,
    campaign_name: Option<String>,
    reason: Option<String>,
    evidence: Option<String>,
    created_at: NaiveDateTime,
}

impl From<EventRow> for EventRecord {
    fn from(row: EventRow) -> Self {
        let scope = match (row.level, row.scope_id) {
            (Some(level), Some(scope_id)) => Some(Scope::from_stored(level, scope_id)),
            _ => None,
        };
        EventRecord {
            id: row.id,
            kind: row.kind,
            scope,
            source: row.source,
            actor_kind: row.actor_kind,
            actor_name: row.actor_name,
            campaign_name: row.campaign_name,
            reason: row.reason,
            evidence: row.evidence,
            created_at: row.created_at,
        }
    }
}

/// The history that concerns mail from `sender` to `email`, newest first: events at the
/// sender's group, client and user scope, and scope-less events the sender caused. Other
/// users' user-level events stay private to them.
pub fn history_for(
    conn: &mut DbConnection,
    email: &str,
    sender: &Sender,
    limit: i64,
) -> QueryResult<Vec<EventRecord>> {
    consent_events::table
        .left_join(users::table.on(users::id.nullable().eq(consent_events::actor_user_id)))
        .left_join(campaigns::table.on(campaigns::id.nullable().eq(consent_events::campaign_id)))
        .filter(consent_events::email.eq(email))
        .filter(consent_events::group_id.eq(sender.group_id))
        .filter(
            (consent_events::level
                .eq(Level::Group)
                .and(consent_events::scope_id.eq(sender.group_id)))
            .or(consent_events::level
                .eq(Level::Client)
                .and(consent_events::scope_id.eq(sender.client_id)))
            .or(consent_events::level
                .eq(Level::User)
                .and(consent_events::scope_id.eq(sender.user_id)))
            .or(consent_events::level
                .is_null()
                .and(consent_events::actor_user_id.eq(sender.user_id))),
        )
        .order((consent_events::created_at.desc(), consent_events::id.desc()))
        .limit(limit)
        .select((
            consent_events::id,
            consent_events::kind,
            consent_events::level,
            consent_events::scope_id,
            consent_events::source,
            consent_events::actor_kind,
            users::display_name.nullable(),
            campaigns::name.nullable(),
            consent_events::reason,
            consent_events::evidence,
            consent_events::created_at,
        ))
        .load::<EventRow>(conn)
        .map(|rows| rows.into_iter().map(EventRecord::from).collect())
}

/// When the last opt-in request about `sender`'s mail went to each of `emails` (addresses
/// without one are absent). For one page of contacts, so a short `IN` list.
pub fn last_opt_in_requests(
    conn: &mut DbConnection,
    sender: &Sender,
    emails: &[String],
) -> QueryResult<std::collections::HashMap<String, chrono::NaiveDateTime>> {
    Ok(last_opt_in_requests_about(conn, emails)?
        .into_iter()
        .filter(|((_, about), _)| *about == sender.user_id)
        .map(|((email, _), at)| (email, at))
        .collect())
}

/// A request event as [`last_opt_in_requests_about`] reads it.
#[derive(Queryable)]
struct RequestRow {
    email: String,
    level: Option<Level>,
    scope_id: Option<i64>,
    actor: Option<UserId>,
    at: NaiveDateTime,
}

/// For each of `emails` and each sender whose mail a request was about, when the last one was
/// sent: one query for a page of contacts of many owners. A request is about the sender of
/// its event's user scope, whoever asked; requests recorded before they had a scope were
/// always asked by that sender themself.
pub fn last_opt_in_requests_about(
    conn: &mut DbConnection,
    emails: &[String],
) -> QueryResult<std::collections::HashMap<(String, UserId), chrono::NaiveDateTime>> {
    let mut last = std::collections::HashMap::new();
    if emails.is_empty() {
        return Ok(last);
    }
    let rows: Vec<RequestRow> = consent_events::table
        .filter(consent_events::email.eq_any(emails))
        .filter(consent_events::kind.eq(EventKind::OptInRequestSent))
        .select((
            consent_events::email,
            consent_events::level,
            consent_events::scope_id,
            consent_events::actor_user_id,
            consent_events::created_at,
        ))
        .load(conn)?;
    for RequestRow {
        email,
        level,
        scope_id,
        actor,
        at,
    } in rows
    {
        // The user scope's id is a user id (see `Scope::from_stored`).
        let about = match level {
            Some(Level::User) => scope_id.map(UserId),
            Some(_) => None,
            None => actor,
        };
        let Some(about) = about else { continue };
        last.entry((email, about))
            .and_modify(|known: &mut NaiveDateTime| *known = (*known).max(at))
            .or_insert(at);
    }
    Ok(last)
}

/// A consent event with its group's name, for support's cross-group view.
#[derive(Debug, Clone)]
pub struct GroupEvent {
    pub event: EventRecord,
    pub group_name: String,
}

/// Every consent event of an address in every group, newest first (support's search).
pub fn everywhere_for(
    conn: &mut DbConnection,
    email: &str,
    limit: i64,
) -> QueryResult<Vec<GroupEvent>> {
    use super::schema::groups;
    consent_events::table
        .inner_join(groups::table)
        .left_join(users::table.on(users::id.nullable().eq(consent_events::actor_user_id)))
        .left_join(campaigns::table.on(campaigns::id.nullable().eq(consent_events::campaign_id)))
        .filter(consent_events::email.eq(email))
        .order((consent_events::created_at.desc(), consent_events::id.desc()))
        .limit(limit)
        .select((
            (
                consent_events::id,
                consent_events::kind,
                consent_events::level,
                consent_events::scope_id,
                consent_events::source,
                consent_events::actor_kind,
                users::display_name.nullable(),
                campaigns::name.nullable(),
                consent_events::reason,
                consent_events::evidence,
                consent_events::created_at,
            ),
            groups::name,
        ))
        .load::<(EventRow, String)>(conn)
        .map(|rows| {
            rows.into_iter()
                .map(|(row, group_name)| GroupEvent {
                    event: EventRecord::from(row),
                    group_name,
                })
                .collect()
        })
}
