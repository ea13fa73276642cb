//! Asking a contact to opt back in: an email naming every opt-out that stops the owner's mail
//! to them. It lifts nothing by itself; only the contact's confirmation does.

use super::contacts::visible_contact;
use super::{Actor, ServiceError, Services};
use crate::db::contacts::Contact;
use crate::db::opt_in_requests::{self, RequestOutcome};
use crate::domain::rights;
use crate::domain::{ContactId, EmailAddress};

#[derive(Debug)]
pub struct OptInRequested {
    pub contact: Contact,
    /// Queued, asked too recently, or nothing to ask about.
    pub outcome: RequestOutcome,
}

/// The owner of the contact or an admin over them may ask; a contact the actor cannot see is
/// [`ServiceError::NotFound`], and support's request is [`ServiceError::Forbidden`].
pub async fn request_opt_in(
    services: &Services,
    actor: &Actor,
    contact: ContactId,
) -> Result<OptInRequested, ServiceError> {
    let contact = visible_contact(services, actor, contact).await?;
    let person = actor.person().ok_or(ServiceError::NotFound)?;
    ServiceError::unless_allowed(rights::may_request_opt_in(person, &contact.owner))?;
    // The request is about the owner's mail, whoever asks: it names the opt-outs that block
    // the owner, and says who asked.
    let (owner, asked_by) = (contact.owner, person.id);
    let email = EmailAddress::parse(&contact.email).map_err(ServiceError::internal)?;
    let id = contact.id;
    let outcome = services
        .db(move |conn| opt_in_requests::request(conn, asked_by, &owner, id, &email))
        .await?;
    if let RequestOutcome::Queued(message) = &outcome {
        tracing::info!(contact = %id, message = %message, "opt-in request queued");
    }
    Ok(OptInRequested { contact, outcome })
}
