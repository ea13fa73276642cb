//! Campaigns: compose a draft, add contacts (opted-out ones are flagged in a dialog and struck
//! through, and can never be sent to), send (queue to the outbox), and follow the counts.

mod detail;
mod list;
mod recipients;
mod send;

use actix_web::web;

use crate::db::campaigns::Campaign;
use crate::domain::{CampaignId, Person};
use crate::service::{Actor, campaigns};
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
    let actor = Actor::signed_in(*person);
    Ok(campaigns::visible_campaign(&state.services, &actor, CampaignId(id)).await?)
}

/// Only the sender changes their campaign (`rights::may_change_campaign`); admins who can
/// see it only look.
fn require_owner(person: &Person, campaign: &Campaign) -> Result<(), AppError> {
    Ok(campaigns::require_owner(
        &Actor::signed_in(*person),
        campaign,
    )?)
}
