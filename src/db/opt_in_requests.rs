//! Opt-in requests: a sender asks an opted-out contact to opt back in. At most one per contact
//! and sender in 30 days; the request and its event are written together.

use chrono::{Duration, NaiveDateTime};

use super::consent_events::{self, NewConsentEvent};
use super::{DbConnection, messages, now, opt_outs, write_transaction};
use crate::domain::{ActorKind, ContactId, EmailAddress, EventKind, MessageId, Sender, Source};

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

/// The moment a new request is allowed after one sent at `last`.
pub fn next_possible(last: NaiveDateTime) -> NaiveDateTime {
    last + Duration::days(REQUEST_INTERVAL_DAYS)
}

pub fn request(
    conn: &mut DbConnection,
    sender: &Sender,
    contact: ContactId,
    email: &EmailAddress,
) -> diesel::QueryResult<RequestOutcome> {
    write_transaction(conn, |conn| {
        if opt_outs::applying_to(conn, email.as_str(), sender)?.is_empty() {
            return Ok(RequestOutcome::NotOptedOut);
        }
        let last =
            consent_events::last_opt_in_requests(conn, sender, &[email.as_str().to_owned()])?;
        if let Some(last) = last.get(email.as_str())
            && next_possible(*last) > now()
        {
            return Ok(RequestOutcome::TooSoon {
                next_possible: next_possible(*last),
            });
        }
        let message = messages::queue_opt_in_request(conn, sender, contact, email.as_str())?;
        consent_events::append(
            conn,
            &NewConsentEvent {
                group_id: sender.group_id,
                email,
                kind: EventKind::OptInRequestSent,
                scope: None,
                source: Source::Manual,
                actor_kind: ActorKind::User,
                actor_user_id: Some(sender.user_id),
                campaign_id: None,
                message_id: Some(message),
                reason: None,
                ip_address: None,
                user_agent: None,
                evidence: None,
            },
        )?;
        Ok(RequestOutcome::Queued(message))
    })
}
