//! `GET|HEAD /u/{token}`: the Preference Center, a page to manage what this sender may send:
//! what is stopped now and at which level, a form to stop more, and a button to resume each
//! opt-out the recipient made themselves. Reading it changes nothing.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;

use super::choices::{ChoiceView, REASONS, choice_views};
use super::link::{self, recipient_response};
use crate::db::link_context::{BlockingOptOut, LinkContext};
use crate::domain::wording::what_stops;
use crate::tokens::{LISTED_LIFT_LIFETIME, LiftAct, SigningKeys};
use crate::web::errors::AppError;
use crate::web::layout::Chrome;
use crate::web::middleware::security_headers::style_nonce;
use crate::web::state::AppState;

#[derive(Template)]
#[template(path = "recipient/preference_center.html")]
pub struct PreferenceCenterPage {
    pub chrome: Chrome,
    pub token: String,
    pub sender_name: String,
    pub organisation: String,
    pub custom_message: Option<String>,
    /// What is stopped for this sender now, broadest first.
    pub stopped: Vec<StoppedView>,
    pub choices: Vec<ChoiceView>,
    pub ask_reason: bool,
    pub reasons: &'static [(&'static str, &'static str)],
    pub error: Option<String>,
    pub accent: Option<String>,
    pub style_nonce: String,
}

/// One active opt-out that stops this sender's mail, as the page shows it.
pub struct StoppedView {
    /// "emails from Nina Patel", "any emails from Acme Holdings, including …".
    pub what: String,
    pub level: &'static str,
    pub since: String,
    /// Made by the recipient through a link: it can be resumed here.
    pub by_recipient: bool,
    /// The signed list naming exactly this opt-out, for its "Resume" button.
    pub resume_token: Option<String>,
}

pub async fn show(
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let id = match state.config.signing_keys.verify_unsubscribe_token(&path) {
        Ok(id) => id,
        Err(error) => return Ok(link::token_refused(error)),
    };
    let linked = match link::load(&state, id).await? {
        Ok(linked) => linked,
        Err(page) => return Ok(page),
    };
    render(
        &state.config.signing_keys,
        path.into_inner(),
        &linked,
        None,
        StatusCode::OK,
    )
}

/// The day an opt-out was made, as the page says it.
pub fn day(at: &chrono::NaiveDateTime) -> String {
    at.format("%-d %B %Y").to_string()
}

fn stopped_view(keys: &SigningKeys, linked: &LinkContext, opt_out: &BlockingOptOut) -> StoppedView {
    let by_recipient = opt_out.made_by_recipient();
    StoppedView {
        what: what_stops(opt_out.level, &linked.names()),
        level: opt_out.level.label(),
        since: day(&opt_out.created_at),
        by_recipient,
        resume_token: by_recipient.then(|| {
            keys.lift_token(
                linked.message.id,
                LiftAct::Resume,
                &[opt_out.id],
                LISTED_LIFT_LIFETIME,
            )
        }),
    }
}

/// Renders the page; also used to show it again with an error.
pub fn render(
    keys: &SigningKeys,
    token: String,
    linked: &LinkContext,
    error: Option<String>,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let names = linked.names();
    let nonce = style_nonce();
    let page = PreferenceCenterPage {
        chrome: Chrome::recipient(linked.organisation()),
        token,
        sender_name: linked.message.sender_name.clone(),
        organisation: linked.organisation().to_owned(),
        custom_message: linked.settings.custom_message.clone(),
        stopped: linked
            .blocking
            .iter()
            .map(|o| stopped_view(keys, linked, o))
            .collect(),
        choices: choice_views(&linked.settings.levels_offered, linked.broadest(), &names),
        ask_reason: linked.settings.ask_reason,
        reasons: &REASONS,
        error,
        accent: linked.accent().map(str::to_owned),
        style_nonce: nonce.clone(),
    };
    let html = page.render().map_err(AppError::internal)?;
    Ok(recipient_response(status, Some(&nonce)).body(html))
}
