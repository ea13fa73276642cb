//! Campaigns: compose a draft, add contacts (opted-out ones are flagged in a dialog and struck
//! through, and can never be sent to), send (queue to the outbox), and follow the counts.

mod detail;
mod list;
mod recipients;
mod send;

use actix_web::web;

use crate::db::campaigns::{self, Campaign};
use crate::domain::{CampaignId, Person, rights};
use crate::web::errors::AppError;
use crate::web::state::AppState;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(list::list)
        .service(list::create)
        .service(detail::detail)
        .service(recipients::add)
        .service(send::confirm)
        .service(send::send);
}

/// The campaign, when the person may see it (the same scope as its owner's contacts); 404
/// otherwise.
async fn load_visible(state: &AppState, person: &Person, id: i64) -> Result<Campaign, AppError> {
    if person.as_sender().is_none() && !rights::may_view_activity(person) {
        return Err(AppError::NotFound);
    }
    let campaign = state
        .db(move |conn| campaigns::find(conn, CampaignId(id)))
        .await?
        .ok_or(AppError::NotFound)?;
    if !rights::may_see_campaigns(person) || !rights::can_see_contact_of(person, &campaign.owner) {
        return Err(AppError::NotFound);
    }
    Ok(campaign)
}

/// Only the sender changes their campaign (`rights::may_change_campaign`); admins who can
/// see it only look.
fn require_owner(person: &Person, campaign: &Campaign) -> Result<(), AppError> {
    if rights::may_change_campaign(person, &campaign.owner) {
        Ok(())
    } else {
        Err(AppError::Forbidden(format!(
            "Only {}, who owns this campaign, can change or send it.",
            campaign.owner_name
        )))
    }
}
