//! `POST /campaigns/{id}/send`: re-checks suppression at this moment and queues one message per
//! deliverable recipient. A second click does nothing.

use actix_web::http::header;
use actix_web::{HttpResponse, post, web};

use super::{load_visible, require_owner};
use crate::db::campaigns;
use crate::web::csrf::{NoFields, ProtectedForm};
use crate::web::errors::AppError;
use crate::web::state::AppState;

#[post("/campaigns/{id}/send")]
pub async fn send(
    submitted: ProtectedForm<NoFields>,
    path: web::Path<i64>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let person = submitted.signed_in.person();
    let campaign = load_visible(&state, &person, path.into_inner()).await?;
    require_owner(&person, &campaign)?;
    let id = campaign.id;
    let recipients = state
        .db(move |conn| campaigns::count_recipients(conn, id))
        .await?;
    if recipients == 0 {
        return Err(AppError::BadRequest(
            "Add recipients before sending.".into(),
        ));
    }
    let outcome = state
        .db(move |conn| campaigns::queue_send(conn, &campaign))
        .await?;
    match outcome {
        Some(queued) => {
            tracing::info!(campaign = %id, queued = queued.queued, suppressed = queued.suppressed, "campaign queued")
        }
        None => tracing::info!(campaign = %id, "send repeated: already sent, nothing changed"),
    }
    Ok(HttpResponse::SeeOther()
        .insert_header((header::LOCATION, format!("/campaigns/{id}?sent=1")))
        .finish())
}
