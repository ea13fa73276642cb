//! What recipients do through their links: opt out from an email (with the confirmation
//! email queued in the same transaction), and opt back in — always by naming the exact
//! opt-outs to lift, never by level.

use diesel::prelude::*;

use super::consent_events::{self, NewConsentEvent};
use super::messages::{self, LinkedMessage};
use super::opt_outs::{self, ActiveOptOut};
use super::schema::opt_outs as opt_outs_table;
use super::{DbConnection, write_transaction};
use crate::domain::{ActorKind, EmailAddress, EventKind, Level, MessageId, OptOutId, Source};

/// Where the recipient's request came from, and what the page they acted on said: kept with
/// the evidence.
#[derive(Debug, Clone, Copy, Default)]
pub struct RequestOrigin<'a> {
    pub ip_address: Option<&'a str>,
    pub user_agent: Option<&'a str>,
    /// What the page or answer showed the recipient (`domain::consent::Shown`, as JSON).
    pub shown: Option<&'a str>,
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
        evidence: origin.shown,
    }
}

/// Records the recipient's opt-out at `level` for mail like `message`, and when `confirm`
/// queues the confirmation email (with its event). Returns the new opt-out's id; `None` when
/// it was active already (a repeat changes nothing and sends nothing).
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
) -> QueryResult<Option<OptOutId>> {
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
    if let Some(opt_out) = recorded
        && confirm
    {
        let confirmation = messages::queue_confirmation(conn, message, level, opt_out)?;
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
        evidence: None,
        ..*opt_out
    }
}

/// Lifts exactly the opt-outs `ids` of `message`'s recipient — those a signed link or a
/// signed page named — in one transaction, each with an event naming `message` and keeping
/// what the page showed. Ids no longer active are skipped (lifted already, or replaced by a
/// newer opt-out this act did not name). Returns the opt-outs lifted, broadest first.
pub fn lift_listed(
    conn: &mut DbConnection,
    message: &LinkedMessage,
    ids: &[OptOutId],
    source: Source,
    origin: &RequestOrigin<'_>,
) -> QueryResult<Vec<ActiveOptOut>> {
    let email = recipient_address(message)?;
    write_transaction(conn, |conn| {
        let mut lifted = Vec::new();
        for id in ids {
            let opt_in = |active: &ActiveOptOut| NewConsentEvent {
                // The row's own scope (the same as the sender's at that level for every
                // opt-out a page lists; the row is what is lifted).
                scope: Some(active.scope),
                group_id: active.group_id,
                ..recipient_event(
                    message,
                    &email,
                    EventKind::OptIn,
                    active.scope.level(),
                    source,
                    None,
                    origin,
                )
            };
            if let Some(active) = opt_outs::lift_exact(conn, *id, &email, opt_in)? {
                lifted.push(active);
            }
        }
        lifted.sort_by_key(|o| o.scope.level());
        Ok(lifted)
    })
}

/// For a confirmation link signed before links named their opt-out: the active opt-out at
/// `level` that the recipient made from `message` itself (its own link, its own email), if
/// any. Staff, import and support opt-outs never match: they name no email.
pub fn made_from_email(
    conn: &mut DbConnection,
    message: &LinkedMessage,
    level: Level,
) -> QueryResult<Option<OptOutId>> {
    let scope = message.sender.scope_at(level);
    let recipients_own: Vec<Source> = Source::ALL
        .into_iter()
        .filter(|s| s.is_recipients_own())
        .collect();
    opt_outs_table::table
        .filter(opt_outs_table::email.eq(&message.to_email))
        .filter(opt_outs_table::group_id.eq(message.sender.group_id))
        .filter(opt_outs_table::level.eq(level))
        .filter(opt_outs_table::scope_id.eq(scope.scope_id()))
        .filter(opt_outs_table::message_id.eq(message.id))
        .filter(opt_outs_table::source.eq_any(recipients_own))
        .select(opt_outs_table::id)
        .first::<OptOutId>(conn)
        .optional()
}
