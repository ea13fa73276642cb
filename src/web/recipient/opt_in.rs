//! `/opt-in/{token}`: from a confirmation email (lifts exactly the opt-out it confirmed) or from
//! an opt-in request (lifts exactly the opt-outs its page lists, which are those the request
//! named and that are still active). GET (and HEAD) says plainly what will change and changes
//! nothing; POST lifts, in one transaction.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use super::body::read_fields;
use super::link::{self, recipient_response};
use super::submit::{lift_and_answer, nothing_changed, receive_again};
use crate::db::link_context::LinkContext;
use crate::db::{opt_in_requests, unsubscribes};
use crate::domain::{OptOutId, Source};
use crate::tokens::{LISTED_LIFT_LIFETIME, LiftAct, OptInScope, TokenError};
use crate::web::errors::AppError;
use crate::web::layout::Chrome;
use crate::web::state::AppState;

const NOTHING: &str = "Nothing was changed: you are not unsubscribed from the emails this link is about any more, or their opt-out was replaced by a newer one that this link does not name.";

#[derive(Template)]
#[template(path = "recipient/opt_in.html")]
struct OptInPage {
    chrome: Chrome,
    token: String,
    /// What the recipient would receive again, one sentence per opt-out to lift.
    again: Vec<String>,
    /// For a request: who asked, about whose emails.
    asked: Option<String>,
    /// For a request: the signed list of the opt-outs shown, posted back with the form.
    lift: Option<String>,
    nothing: &'static str,
}

/// What a link offers to lift now, and for a request who asked.
struct Offer {
    ids: Vec<OptOutId>,
    asked: Option<String>,
}

/// The opt-outs the link names that are active now (broadest first).
async fn offer(
    state: &AppState,
    linked: &LinkContext,
    scope: OptInScope,
) -> Result<Offer, AppError> {
    let active = |id: &OptOutId| linked.blocking.iter().any(|b| b.id == *id);
    let message = linked.message.clone();
    let (ids, asked) = match scope {
        OptInScope::Exactly(id) => (vec![id], None),
        OptInScope::Legacy(level) => {
            let found = state
                .db(move |conn| unsubscribes::made_from_email(conn, &message, level))
                .await?;
            (found.into_iter().collect(), None)
        }
        OptInScope::Request => {
            let id = message.id;
            let request = state
                .db(move |conn| opt_in_requests::find(conn, id))
                .await?;
            match request {
                Some(opt_in_requests::FoundRequest {
                    payload,
                    asker_name: asker,
                }) => {
                    let sender = &message.sender_name;
                    let asked = match asker {
                        _ if payload.asked_by == message.sender.user_id => {
                            format!("{sender} asked.")
                        }
                        Some(asker) => format!("{asker} asked, for {sender}."),
                        None => format!("Someone at {} asked, for {sender}.", linked.names().group),
                    };
                    (payload.lifts, Some(asked))
                }
                // Queued before requests named their opt-outs: what blocks the sender now,
                // listed on the page before the recipient confirms.
                None => (linked.blocking.iter().map(|b| b.id).collect(), None),
            }
        }
    };
    let ids = linked
        .blocking
        .iter()
        .map(|b| b.id)
        .filter(|id| ids.contains(id) && active(id))
        .collect();
    Ok(Offer { ids, asked })
}

pub async fn show(
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let (id, scope) = match state.config.signing_keys.verify_opt_in_token(&path) {
        Ok(named) => named,
        Err(error) => return Ok(link::token_refused(error)),
    };
    // A page that shows (mail scanners open it): the sender's profile as remembered.
    let linked = match link::load(&state, id).await? {
        Ok(linked) => linked,
        Err(page) => return Ok(page),
    };
    let offer = offer(&state, &linked, scope).await?;
    let names = linked.names();
    let lift = (scope == OptInScope::Request && !offer.ids.is_empty()).then(|| {
        state.config.signing_keys.lift_token(
            linked.message.id,
            LiftAct::Request,
            &offer.ids,
            LISTED_LIFT_LIFETIME,
        )
    });
    let page = OptInPage {
        chrome: Chrome::recipient(linked.organisation()),
        token: path.into_inner(),
        again: linked
            .blocking
            .iter()
            .filter(|b| offer.ids.contains(&b.id))
            .map(|b| receive_again(b.level, &names))
            .collect(),
        asked: offer.asked,
        lift,
        nothing: NOTHING,
    };
    let html = page.render().map_err(AppError::internal)?;
    Ok(recipient_response(StatusCode::OK, None).body(html))
}

pub async fn confirm(
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let keys = &state.config.signing_keys;
    let (id, scope) = match keys.verify_opt_in_token(&path) {
        Ok(named) => named,
        Err(error) => return Ok(link::token_refused(error)),
    };
    // A body that is not a small readable form is not our form: refuse it (413, 415, 400)
    // before lifting anything.
    let fields = read_fields(&req, payload).await?;
    // A request's page listed what it lifts and signed that list; exactly that list comes
    // back. Checked before any database read: a junk POST costs a signature check.
    let listed = match scope {
        OptInScope::Request => {
            let listed = fields
                .iter()
                .find(|(name, _)| name == "lift")
                .ok_or(TokenError::Malformed)
                .and_then(|(_, token)| keys.verify_lift_token(token, id, LiftAct::Request));
            match listed {
                Ok(ids) => Some(ids),
                Err(_) => {
                    let reload = "Nothing was changed: the page was open too long or is not the one we showed. Open the link in the email again to see the list before you confirm.";
                    return nothing_changed(Chrome::anonymous(), reload, StatusCode::BAD_REQUEST);
                }
            }
        }
        OptInScope::Exactly(_) | OptInScope::Legacy(_) => None,
    };
    let linked = match link::load_for_change(&state, id).await? {
        Ok(linked) => linked,
        Err(page) => return Ok(page),
    };
    let (ids, source) = match listed {
        Some(ids) => (ids, Source::OptInRequest),
        None => (
            offer(&state, &linked, scope).await?.ids,
            Source::ConfirmationEmail,
        ),
    };
    lift_and_answer(&req, &state, &linked, &ids, source, NOTHING).await
}
