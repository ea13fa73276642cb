//! Opt-in requests: someone on the sending side asks an opted-out contact to opt back in. At
//! most one per contact and sender in 30 days; the request names exactly the opt-outs it asks
//! to lift (the email lists them, and the page lifts only those the recipient confirms); the
//! request and its event are written together.

use chrono::{Duration, NaiveDateTime};

use super::consent_events::{self, NewConsentEvent};
use super::{DbConnection, messages, now, opt_outs, sender_profile, write_transaction};
use crate::domain::consent::Shown;
use crate::domain::wording::what_stops;
use crate::domain::{
    ActorKind, ContactId, EmailAddress, EventKind, Level, MessageId, MessageKind, OptOutId, Sender,
    Source, UserId,
};

/// How long a sender waits before asking the same contact again.
pub const REQUEST_INTERVAL_DAYS: i64 = 30;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestOutcome {
    Queued(MessageId),
    /// Asked recently: the next request is possible from then.
    TooSoon {
        next_possible: NaiveDateTime,
    },
    /// Nothing blocks this sender: there is nothing to ask.
    NotOptedOut,
}

/// What an opt-in request is about, in its outbox row: who asked, the opt-outs it asks to
/// lift, and how the email words each (the evidence keeps the same lines).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RequestPayload {
    // Typed ids serialise as plain numbers (`serde(transparent)`): the stored JSON is unchanged.
    pub asked_by: UserId,
    pub lifts: Vec<OptOutId>,
    pub shown: Vec<String>,
}

impl RequestPayload {
    /// Reads a stored payload; `None` for a request queued before requests named their
    /// opt-outs (its page then lists what blocks the sender when it is opened).
    pub fn parse(stored: Option<&str>) -> Option<Self> {
        serde_json::from_str(stored?).ok()
    }
}

/// The moment a new request is allowed after one sent at `last`.
pub fn next_possible(last: NaiveDateTime) -> NaiveDateTime {
    last + Duration::days(REQUEST_INTERVAL_DAYS)
}

/// Queues a request from `asked_by` (the contact's owner, or an admin over them) to the
/// contact `email` of `owner`, naming every opt-out that blocks the owner's mail to it.
pub fn request(
    conn: &mut DbConnection,
    asked_by: UserId,
    owner: &Sender,
    contact: ContactId,
    email: &EmailAddress,
) -> diesel::QueryResult<RequestOutcome> {
    write_transaction(conn, |conn| {
        let applying = opt_outs::applying_to(conn, email.as_str(), owner)?;
        if applying.is_empty() {
            return Ok(RequestOutcome::NotOptedOut);
        }
        let last = consent_events::last_opt_in_requests(conn, owner, &[email.as_str().to_owned()])?;
        if let Some(last) = last.get(email.as_str())
            && next_possible(*last) > now()
        {
            return Ok(RequestOutcome::TooSoon {
                next_possible: next_possible(*last),
            });
        }
        let Some(profile) = sender_profile::load(conn, *owner)? else {
            return Err(diesel::result::Error::NotFound);
        };
        let names = profile.recipient_names();
        let levels: Vec<Level> = applying.iter().map(|o| o.opt_out.scope.level()).collect();
        let payload = RequestPayload {
            asked_by,
            lifts: applying.iter().map(|o| o.opt_out.id).collect(),
            shown: levels.iter().map(|l| what_stops(*l, &names)).collect(),
        };
        let evidence = Shown::to_evidence(payload.shown.clone());
        let payload = serde_json::to_string(&payload)
            .map_err(|e| diesel::result::Error::SerializationError(Box::new(e)))?;
        let message =
            messages::queue_opt_in_request(conn, owner, contact, email.as_str(), &payload)?;
        consent_events::append(
            conn,
            &NewConsentEvent {
                group_id: owner.group_id,
                email,
                kind: EventKind::OptInRequestSent,
                // The sender whose mail it is about: what the 30-day limit counts by, whoever
                // asked.
                scope: Some(owner.scope_at(Level::User)),
                source: Source::Manual,
                actor_kind: ActorKind::User,
                actor_user_id: Some(asked_by),
                campaign_id: None,
                message_id: Some(message),
                reason: None,
                ip_address: None,
                user_agent: None,
                evidence: Some(&evidence),
            },
        )?;
        Ok(RequestOutcome::Queued(message))
    })
}

/// A queued or sent request as its page needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundRequest {
    /// What it named.
    pub payload: RequestPayload,
    /// The name of who asked; `None` when that login is gone.
    pub asker_name: Option<String>,
}

/// The request's payload and who asked. `None` when the request was queued before requests
/// named their opt-outs.
pub fn find(
    conn: &mut DbConnection,
    request: MessageId,
) -> diesel::QueryResult<Option<FoundRequest>> {
    use super::schema::{messages as outbox, users};
    use diesel::prelude::*;
    let stored: Option<Option<String>> = outbox::table
        .filter(outbox::id.eq(request))
        .filter(outbox::kind.eq(MessageKind::OptInRequest))
        .select(outbox::payload)
        .first(conn)
        .optional()?;
    let Some(payload) = RequestPayload::parse(stored.flatten().as_deref()) else {
        return Ok(None);
    };
    let asker_name: Option<String> = users::table
        .filter(users::id.eq(payload.asked_by))
        .select(users::display_name)
        .first(conn)
        .optional()?;
    Ok(Some(FoundRequest {
        payload,
        asker_name,
    }))
}
