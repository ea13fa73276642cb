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
        .get_result::<i64>(c))
    .map(ConsentEventId)
}

/// The row [`append`] writes for an event; `opt_out_batch` writes many in one statement.
#[derive(Insertable)]
#[diesel(table_name = consent_events, treat_none_as_default_value = false)]
pub(super) struct NewEventRow<'a> {
    group_id: i64,
    email: &'a str,
    kind: &'static str,
    level: Option<&'static str>,
    scope_id: Option<i64>,
    source: &'static str,
    actor_kind: &'static str,
    actor_user_id: Option<i64>,
    campaign_id: Option<i64>,
    message_id: Option<i64>,
    reason: Option<&'a str>,
    ip_address: Option<&'a str>,
    user_agent: Option<&'a str>,
    evidence: Option<&'a str>,
    created_at: NaiveDateTime,
}

impl<'a> NewEventRow<'a> {
    pub(super) fn new(event: &NewConsentEvent<'a>, created_at: NaiveDateTime) -> Self {
        Self {
            group_id: event.group_id.0,
            email: event.email.as_str(),
            kind: event.kind.as_str(),
            level: event.scope.map(|s| s.level().as_str()),
            scope_id: event.scope.map(Scope::scope_id),
            source: event.source.as_str(),
            actor_kind: event.actor_kind.as_str(),
            actor_user_id: event.actor_user_id.map(|u| u.0),
            campaign_id: event.campaign_id.map(|c| c.0),
            message_id: event.message_id.map(|m| m.0),
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

type EventRow = (
    i64,
    String,
    Option<String>,
    Option<i64>,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    chrono::NaiveDateTime,
);

fn event_from_row(row: EventRow) -> QueryResult<EventRecord> {
    let (
        id,
        kind,
        level,
        scope_id,
        source,
        actor_kind,
        actor_name,
        campaign_name,
        reason,
        evidence,
        created_at,
    ) = row;
    let scope = match (level, scope_id) {
        (Some(level), Some(scope_id)) => {
            let level: Level = level
                .parse()
                .map_err(|e| diesel::result::Error::DeserializationError(Box::new(e)))?;
            Some(Scope::from_stored(level, scope_id))
        }
        _ => None,
    };
    Ok(EventRecord {
        id: ConsentEventId(id),
        kind,
        scope,
        source,
        actor_kind,
        actor_name,
        campaign_name,
        reason,
        evidence,
        created_at,
    })
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
        .filter(consent_events::group_id.eq(sender.group_id.0))
        .filter(
            (consent_events::level
                .eq("group")
                .and(consent_events::scope_id.eq(sender.group_id.0)))
            .or(consent_events::level
                .eq("client")
                .and(consent_events::scope_id.eq(sender.client_id.0)))
            .or(consent_events::level
                .eq("user")
                .and(consent_events::scope_id.eq(sender.user_id.0)))
            .or(consent_events::level
                .is_null()
                .and(consent_events::actor_user_id.eq(sender.user_id.0))),
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
        .load::<EventRow>(conn)?
        .into_iter()
        .map(event_from_row)
        .collect()
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

/// A request event as [`last_opt_in_requests_about`] reads it: address, level, scope id,
/// actor, when.
type RequestRow = (
    String,
    Option<String>,
    Option<i64>,
    Option<i64>,
    NaiveDateTime,
);

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
        .filter(consent_events::kind.eq(EventKind::OptInRequestSent.as_str()))
        .select((
            consent_events::email,
            consent_events::level,
            consent_events::scope_id,
            consent_events::actor_user_id,
            consent_events::created_at,
        ))
        .load(conn)?;
    for (email, level, scope_id, actor, at) in rows {
        let about = match level.as_deref() {
            Some(level) if level == Level::User.as_str() => scope_id,
            Some(_) => None,
            None => actor,
        };
        let Some(about) = about else { continue };
        last.entry((email, UserId(about)))
            .and_modify(|known: &mut NaiveDateTime| *known = (*known).max(at))
            .or_insert(at);
    }
    Ok(last)
}

/// A consent event with its group's name, for support's cross-group view.
pub fn everywhere_for(
    conn: &mut DbConnection,
    email: &str,
    limit: i64,
) -> QueryResult<Vec<(EventRecord, String)>> {
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
        .load::<(EventRow, String)>(conn)?
        .into_iter()
        .map(|(row, group)| Ok((event_from_row(row)?, group)))
        .collect()
}
