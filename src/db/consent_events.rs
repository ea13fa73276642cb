//! The evidence: consent events are only ever appended (the database refuses UPDATE and
//! DELETE on this table).

use diesel::prelude::*;

use super::schema::consent_events;
use super::{DbConnection, now};
use crate::domain::{
    ActorKind, CampaignId, ConsentEventId, EmailAddress, EventKind, GroupId, MessageId, Scope,
    Source, UserId,
};

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
    diesel::insert_into(consent_events::table)
        .values((
            consent_events::group_id.eq(event.group_id.0),
            consent_events::email.eq(event.email.as_str()),
            consent_events::kind.eq(event.kind.as_str()),
            consent_events::level.eq(event.scope.map(|s| s.level().as_str())),
            consent_events::scope_id.eq(event.scope.map(Scope::scope_id)),
            consent_events::source.eq(event.source.as_str()),
            consent_events::actor_kind.eq(event.actor_kind.as_str()),
            consent_events::actor_user_id.eq(event.actor_user_id.map(|u| u.0)),
            consent_events::campaign_id.eq(event.campaign_id.map(|c| c.0)),
            consent_events::message_id.eq(event.message_id.map(|m| m.0)),
            consent_events::reason.eq(event.reason),
            consent_events::ip_address.eq(event.ip_address),
            consent_events::user_agent.eq(event.user_agent),
            consent_events::evidence.eq(event.evidence),
            consent_events::created_at.eq(now()),
        ))
        .returning(consent_events::id)
        .get_result::<i64>(conn)
        .map(ConsentEventId)
}
