//! `/opt-in/{token}`: from a confirmation email (lifts exactly the opt-out it confirmed) or from
//! an opt-in request (lifts every opt-out that blocks the requesting sender). GET (and HEAD)
//! says plainly what will change and changes nothing; POST lifts, in one transaction.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use super::link::{self, recipient_response};
use super::submit::{OptedInPage, lift, read_fields};
use crate::db::link_context::LinkContext;
use crate::db::unsubscribes::{self, RequestOrigin};
use crate::domain::wording::{SenderNames, what_stops};
use crate::domain::{Level, Source};
use crate::tokens::OptInScope;
use crate::web::client_address;
use crate::web::errors::AppError;
use crate::web::layout::Chrome;
use crate::web::state::AppState;

#[derive(Template)]
#[template(path = "recipient/opt_in.html")]
struct OptInPage {
    chrome: Chrome,
    token: String,
    /// What the recipient would receive again, one line per opt-out to lift.
    again: Vec<String>,
    nothing_for: String,
}

/// What lifting an opt-out at `level` gives back, in plain words.
fn receive_again(level: Level, names: &SenderNames<'_>) -> String {
    match level {
        Level::User => format!("emails from {}", names.user),
        Level::Client | Level::Group => format!("emails from every sender at {}", names.at(level)),
    }
}

/// The opt-outs the link would lift right now, broadest first.
fn to_lift(linked: &LinkContext, scope: OptInScope) -> Vec<Level> {
    let current = linked.blocking.iter().copied();
    match scope {
        OptInScope::One(level) => current.filter(|l| *l == level).collect(),
        OptInScope::AllBlockingSender => current.collect(),
    }
}

fn nothing_for(scope: OptInScope, linked: &LinkContext) -> String {
    match scope {
        OptInScope::One(level) => what_stops(level, &linked.names()),
        OptInScope::AllBlockingSender => format!("emails from {}", linked.message.sender_name),
    }
}

pub async fn show(
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let (id, scope) = match state.config.signing_keys.verify_opt_in_token(&path) {
        Ok(named) => named,
        Err(error) => return Ok(link::token_refused(error)),
    };
    let linked = match link::load(&state, id).await? {
        Ok(linked) => linked,
        Err(page) => return Ok(page),
    };
    let names = linked.names();
    let page = OptInPage {
        chrome: Chrome::recipient(linked.organisation()),
        token: path.into_inner(),
        again: to_lift(&linked, scope)
            .into_iter()
            .map(|l| receive_again(l, &names))
            .collect(),
        nothing_for: nothing_for(scope, &linked),
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
    let (id, scope) = match state.config.signing_keys.verify_opt_in_token(&path) {
        Ok(named) => named,
        Err(error) => return Ok(link::token_refused(error)),
    };
    // The form has no fields, but a body that is not a small readable form is not our form:
    // refuse it (413, 415, 400) before lifting anything.
    read_fields(&req, payload).await?;
    if let OptInScope::One(level) = scope {
        return lift(&req, &state, id, level, Source::ConfirmationEmail).await;
    }
    let linked = match link::load_for_change(&state, id).await? {
        Ok(linked) => linked,
        Err(page) => return Ok(page),
    };
    let ip = client_address::of(&req, &state.config);
    let user_agent = client_address::user_agent(&req);
    let request = linked.message.clone();
    let lifted = state
        .db(move |conn| {
            let origin = RequestOrigin {
                ip_address: Some(&ip),
                user_agent: user_agent.as_deref(),
            };
            unsubscribes::opt_in_by_request(conn, &request, &origin)
        })
        .await?;
    tracing::info!(request = %id, lifted = lifted.len(), "opt-in request accepted");
    let names = linked.names();
    let page = OptedInPage {
        chrome: Chrome::recipient(linked.organisation()),
        again: lifted.iter().map(|l| receive_again(*l, &names)).collect(),
        nothing_for: nothing_for(scope, &linked),
    };
    let html = page.render().map_err(AppError::internal)?;
    Ok(recipient_response(StatusCode::OK, None).body(html))
}
