//! Campaigns as the use cases about one see them, and sending one.

use super::{Actor, ServiceError, Services};
use crate::db::campaigns::{self, Campaign, Queued};
use crate::domain::{CampaignId, rights};

/// The campaign, when the actor may see it (the same scope as its owner's contacts); not found
/// otherwise.
pub async fn visible_campaign(
    services: &Services,
    actor: &Actor,
    id: CampaignId,
) -> Result<Campaign, ServiceError> {
    let person = *actor.person().ok_or(ServiceError::NotFound)?;
    if person.as_sender().is_none() && !rights::may_view_activity(&person) {
        return Err(ServiceError::NotFound);
    }
    let campaign = services
        .db(move |conn| campaigns::find(conn, id))
        .await?
        .ok_or(ServiceError::NotFound)?;
    if !rights::may_see_campaigns(&person) || !rights::can_see_contact_of(&person, &campaign.owner)
    {
        return Err(ServiceError::NotFound);
    }
    Ok(campaign)
}

/// Only the sender changes their campaign; admins who can see it only look.
pub fn require_owner(actor: &Actor, campaign: &Campaign) -> Result<(), ServiceError> {
    match actor.person() {
        Some(person) if rights::may_change_campaign(person, &campaign.owner) => Ok(()),
        _ => Err(ServiceError::Forbidden(format!(
            "Only {}, who owns this campaign, can change or send it.",
            campaign.owner_name
        ))),
    }
}

/// Queues the campaign to its recipients, skipping those opted out at this moment. `None`:
/// it was sent before, and nothing changed. A campaign without recipients is
/// [`ServiceError::Invalid`].
pub async fn send_campaign(
    services: &Services,
    actor: &Actor,
    id: CampaignId,
) -> Result<Option<Queued>, ServiceError> {
    let campaign = visible_campaign(services, actor, id).await?;
    require_owner(actor, &campaign)?;
    let recipients = services
        .db(move |conn| campaigns::count_recipients(conn, id))
        .await?;
    if recipients == 0 {
        return Err(ServiceError::Invalid(
            "Add recipients before sending.".into(),
        ));
    }
    let outcome = services
        .db(move |conn| campaigns::queue_send(conn, &campaign))
        .await?;
    match &outcome {
        Some(queued) => {
            tracing::info!(campaign = %id, queued = queued.queued, suppressed = queued.suppressed, "campaign queued")
        }
        None => tracing::info!(campaign = %id, "send repeated: already sent, nothing changed"),
    }
    Ok(outcome)
}
