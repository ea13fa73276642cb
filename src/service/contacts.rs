//! Contacts as every use case about one sees them: only within the actor's rights.

use super::{Actor, ServiceError, Services};
use crate::db::contacts::{self, Contact};
use crate::domain::{ContactId, rights};

/// The contact, when it exists and the actor may see it; not found otherwise (ids do not
/// leak).
pub async fn visible_contact(
    services: &Services,
    actor: &Actor,
    id: ContactId,
) -> Result<Contact, ServiceError> {
    let person = *actor.person().ok_or(ServiceError::NotFound)?;
    let contact = services
        .db(move |conn| contacts::find(conn, id))
        .await?
        .ok_or(ServiceError::NotFound)?;
    if !rights::can_see_contact_of(&person, &contact.owner) {
        return Err(ServiceError::NotFound);
    }
    Ok(contact)
}
