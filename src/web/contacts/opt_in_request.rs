//! `POST /contacts/{id}/opt-in-request`: the menu's "Opt in". It does not opt the contact in:
//! it emails them a request with a link, and only their confirmation lifts the opt-outs.

use actix_web::http::header;
use actix_web::{HttpResponse, post, web};

use super::load_visible;
use crate::db::opt_in_requests::{self, RequestOutcome};
use crate::domain::EmailAddress;
use crate::web::contacts::when;
use crate::web::csrf::{NoFields, ProtectedForm};
use crate::web::errors::AppError;
use crate::web::state::AppState;

#[post("/contacts/{id}/opt-in-request")]
pub async fn send(
    submitted: ProtectedForm<NoFields>,
    path: web::Path<i64>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let person = submitted.signed_in.person();
    let contact = load_visible(&state, &person, path.into_inner()).await?;
    // A request goes out as the sender; only the contact's owner sends to it.
    let sender = person
        .as_sender()
        .filter(|s| *s == contact.owner)
        .ok_or_else(|| {
            AppError::Forbidden(format!(
                "Only {}, whose contact this is, can ask it to opt back in.",
                contact.owner_name
            ))
        })?;
    let email = EmailAddress::parse(&contact.email).map_err(AppError::internal)?;
    let id = contact.id;
    let outcome = state
        .db(move |conn| opt_in_requests::request(conn, &sender, id, &email))
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
        RequestOutcome::NotOptedOut => Err(AppError::BadRequest(
            "This contact has not opted out of your emails: there is nothing to ask.".into(),
        )),
    }
}
