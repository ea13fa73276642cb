//! `POST /contacts/{id}/opt-in-request`: the menu's "Opt in". It does not opt the contact in:
//! it emails them a request naming every opt-out that stops the owner's mail to them, and only
//! their confirmation of that list lifts them. The owner or an admin over them may ask.

use actix_web::http::header;
use actix_web::{HttpResponse, post, web};

use super::load_visible;
use crate::db::opt_in_requests::{self, RequestOutcome};
use crate::domain::EmailAddress;
use crate::domain::rights::{self, Access};
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
    let person = submitted.signed_in.person();
    let contact = load_visible(&state, &person, path.into_inner()).await?;
    match rights::may_request_opt_in(&person, &contact.owner) {
        Access::Allowed => {}
        Access::NotFound => return Err(AppError::NotFound),
        Access::Forbidden(reason) => return Err(AppError::Forbidden(reason.to_owned())),
    }
    // The request is about the owner's mail, whoever asks: it names the opt-outs that block
    // the owner, and says who asked.
    let (owner, asked_by) = (contact.owner, person.id);
    let email = EmailAddress::parse(&contact.email).map_err(AppError::internal)?;
    let id = contact.id;
    let outcome = state
        .db(move |conn| opt_in_requests::request(conn, asked_by, &owner, id, &email))
        .await?;
    match outcome {
        RequestOutcome::Queued(message) => {
            tracing::info!(contact = %id, message = %message, "opt-in request queued");
            Ok(HttpResponse::SeeOther()
                .insert_header((header::LOCATION, format!("/contacts/{id}?requested=1")))
                .finish())
        }
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
