//! `POST /contacts/{id}/opt-in-request`: the menu's "Opt in". It does not opt the contact in:
//! it emails them a request naming every opt-out that stops the owner's mail to them, and only
//! their confirmation of that list lifts them. The owner or an admin over them may ask.

use actix_web::http::header;
use actix_web::{HttpResponse, post, web};

use crate::db::opt_in_requests::RequestOutcome;
use crate::domain::ContactId;
use crate::service::Actor;
use crate::service::opt_in_request::{OptInRequested, request_opt_in};
use crate::web::csrf::{NoFields, ProtectedForm};
use crate::web::errors::AppError;
use crate::web::staff::contacts::when;
use crate::web::state::AppState;

#[post("/contacts/{id}/opt-in-request")]
pub async fn send(
    submitted: ProtectedForm<NoFields>,
    path: web::Path<i64>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let actor = Actor::signed_in(submitted.signed_in.person());
    let OptInRequested { contact, outcome } =
        request_opt_in(&state.services, &actor, ContactId(path.into_inner())).await?;
    let id = contact.id;
    match outcome {
        RequestOutcome::Queued(_) => Ok(HttpResponse::SeeOther()
            .insert_header((header::LOCATION, format!("/contacts/{id}?requested=1")))
            .finish()),
        RequestOutcome::TooSoon { next_possible } => Err(AppError::TooManyRequests {
            retry_after_secs: u64::try_from((next_possible - crate::db::now()).num_seconds())
                .unwrap_or(0),
            message: format!(
                "An opt-in request was sent to this contact less than 30 days ago. The next one is possible on {}.",
                when(&next_possible)
            ),
        }),
        RequestOutcome::NotOptedOut => Err(AppError::BadRequest(format!(
            "Nothing stops {}'s emails to this contact: there is nothing to ask.",
            contact.owner_name
        ))),
    }
}
