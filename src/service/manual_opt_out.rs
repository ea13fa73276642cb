//! Opting a contact out by hand, at a level the actor's rights allow, with an optional note.

use super::contacts::visible_contact;
use super::{Actor, ServiceError, Services};
use crate::db::consent_events::NewConsentEvent;
use crate::db::contacts::Contact;
use crate::db::opt_outs;
use crate::domain::rights;
use crate::domain::{ContactId, EmailAddress, EventKind, Level, Source};

/// The longest note kept with the opt-out.
pub const MAX_NOTE_CHARS: usize = 500;

pub struct ManualOptOut {
    pub contact: ContactId,
    pub level: Level,
    /// Why, in the staff member's words; empty for none.
    pub note: String,
}

#[derive(Debug)]
pub struct ManualOptOutDone {
    pub contact: Contact,
    /// False when the contact was already opted out at that scope.
    pub recorded: bool,
}

/// A contact the actor cannot see is [`ServiceError::NotFound`]; a level above their rights,
/// [`ServiceError::Forbidden`] with the reason; a note too long, [`ServiceError::Invalid`].
pub async fn opt_out_by_hand(
    services: &Services,
    actor: &Actor,
    asked: ManualOptOut,
) -> Result<ManualOptOutDone, ServiceError> {
    let contact = visible_contact(services, actor, asked.contact).await?;
    let person = actor.person().ok_or(ServiceError::NotFound)?;
    let level = asked.level;
    ServiceError::unless_allowed(rights::may_opt_out(person, &contact.owner, level))?;
    let note = asked.note.trim().to_owned();
    if note.chars().count() > MAX_NOTE_CHARS {
        return Err(ServiceError::Invalid(format!(
            "The note can be at most {MAX_NOTE_CHARS} characters long."
        )));
    }
    let email = EmailAddress::parse(&contact.email).map_err(ServiceError::internal)?;
    let scope = contact.owner.scope_at(level);
    let group_id = contact.owner.group_id;
    let (actor_kind, actor_id) = (actor.kind(), person.id);
    let recorded = services
        .db(move |conn| {
            opt_outs::record(
                conn,
                &NewConsentEvent {
                    group_id,
                    email: &email,
                    kind: EventKind::OptOut,
                    scope: Some(scope),
                    source: Source::Manual,
                    actor_kind,
                    actor_user_id: Some(actor_id),
                    campaign_id: None,
                    message_id: None,
                    reason: (!note.is_empty()).then_some(note.as_str()),
                    ip_address: None,
                    user_agent: None,
                    evidence: None,
                },
            )
        })
        .await?;
    tracing::info!(contact = %contact.id, level = %level, recorded, "manual opt-out");
    Ok(ManualOptOutDone { contact, recorded })
}
