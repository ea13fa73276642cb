//! What recipients do through their links: opt out from an email (with the confirmation
//! email queued in the same transaction), and opt back in.

use diesel::prelude::*;

use super::consent_events::{self, NewConsentEvent};
use super::messages::{self, LinkedMessage};
use super::{DbConnection, opt_outs, write_transaction};
use crate::domain::{ActorKind, EmailAddress, EventKind, Level, MessageId, Source};

/// Where the recipient's request came from: kept with the evidence.
#[derive(Debug, Clone, Copy, Default)]
pub struct RequestOrigin<'a> {
    pub ip_address: Option<&'a str>,
    pub user_agent: Option<&'a str>,
}

pub(super) fn recipient_address(message: &LinkedMessage) -> QueryResult<EmailAddress> {
    EmailAddress::parse(&message.to_email)
        .map_err(|e| diesel::result::Error::DeserializationError(Box::new(e)))
}

pub(super) fn recipient_event<'a>(
    message: &LinkedMessage,
    email: &'a EmailAddress,
    kind: EventKind,
    level: Level,
    source: Source,
    reason: Option<&'a str>,
    origin: &RequestOrigin<'a>,
) -> NewConsentEvent<'a> {
    NewConsentEvent {
        group_id: message.sender.group_id,
        email,
        kind,
        scope: Some(message.sender.scope_at(level)),
        source,
        actor_kind: ActorKind::Recipient,
        actor_user_id: None,
        campaign_id: message.campaign_id,
        message_id: Some(message.id),
        reason,
        ip_address: origin.ip_address,
        user_agent: origin.user_agent,
        evidence: None,
    }
}

/// Records the recipient's opt-out at `level` for mail like `message`, and when `confirm`
/// queues the confirmation email (with its event). Returns whether the opt-out is new (a repeat
/// changes nothing and sends nothing).
///
/// Runs inside the caller's write transaction and opens no savepoint of its own (on SQLite each
/// costs a statement pair and journal writes): an error here must fail that transaction.
/// `opt_out_writer::LinkOptOut::record` opens one. The group-commit writer records whole batches
/// with `opt_out_batch::record_all`, which writes the same rows with one statement per table.
pub fn opt_out_from_link(
    conn: &mut DbConnection,
    message: &LinkedMessage,
    level: Level,
    source: Source,
    reason: Option<&str>,
    origin: &RequestOrigin<'_>,
    confirm: bool,
) -> QueryResult<bool> {
    let email = recipient_address(message)?;
    let event = recipient_event(
        message,
        &email,
        EventKind::OptOut,
        level,
        source,
        reason,
        origin,
    );
    let recorded = opt_outs::insert_with_event(conn, &event, None)?;
    if recorded && confirm {
        let confirmation = messages::queue_confirmation(conn, message, level)?;
        consent_events::append(conn, &confirmation_sent(&event, confirmation))?;
    }
    Ok(recorded)
}

/// The event of the confirmation email queued for the opt-out `opt_out` records: the same
/// recipient, scope and campaign, sent by the system.
pub(super) fn confirmation_sent<'a>(
    opt_out: &NewConsentEvent<'a>,
    confirmation: MessageId,
) -> NewConsentEvent<'a> {
    NewConsentEvent {
        kind: EventKind::ConfirmationSent,
        actor_kind: ActorKind::System,
        message_id: Some(confirmation),
        reason: None,
        ip_address: None,
        user_agent: None,
        ..*opt_out
    }
}

/// Lifts exactly the opt-out at `level` made from `message`'s recipient and sender. Returns
/// whether there was one to lift (a second click changes nothing).
pub fn opt_in_from_link(
    conn: &mut DbConnection,
    message: &LinkedMessage,
    level: Level,
    source: Source,
    origin: &RequestOrigin<'_>,
) -> QueryResult<bool> {
    let email = recipient_address(message)?;
    let event = recipient_event(
        message,
        &email,
        EventKind::OptIn,
        level,
        source,
        None,
        origin,
    );
    opt_outs::lift(conn, &event)
}

/// The recipient accepted an opt-in request: lifts every opt-out that blocks the request's
/// sender (its user, client and group levels) in one transaction, each with an event naming
/// the request. Returns the levels lifted (none: a second click, harmless).
pub fn opt_in_by_request(
    conn: &mut DbConnection,
    request: &LinkedMessage,
    origin: &RequestOrigin<'_>,
) -> QueryResult<Vec<Level>> {
    let email = recipient_address(request)?;
    write_transaction(conn, |conn| {
        let applying = opt_outs::applying_to(conn, &request.to_email, &request.sender)?;
        let mut lifted = Vec::new();
        for explained in applying {
            let level = explained.opt_out.scope.level();
            let event = recipient_event(
                request,
                &email,
                EventKind::OptIn,
                level,
                Source::OptInRequest,
                None,
                origin,
            );
            if opt_outs::lift(conn, &event)? {
                lifted.push(level);
            }
        }
        Ok(lifted)
    })
}
