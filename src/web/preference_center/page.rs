//! `GET|HEAD /u/{token}`: the Preference Center. Reading it changes nothing.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;

use super::choices::{ChoiceView, REASONS, choice_views};
use super::link::{self, recipient_response};
use crate::db::link_context::LinkContext;
use crate::domain::wording::what_stops;
use crate::web::errors::AppError;
use crate::web::layout::Chrome;
use crate::web::security_headers::style_nonce;
use crate::web::state::AppState;

#[derive(Template)]
#[template(path = "recipient/preference_center.html")]
pub struct PreferenceCenterPage {
    pub chrome: Chrome,
    pub token: String,
    pub sender_name: String,
    pub organisation: String,
    pub custom_message: Option<String>,
    /// "emails from Nina Patel (user level)" when already opted out.
    pub already: Option<String>,
    pub choices: Vec<ChoiceView>,
    pub ask_reason: bool,
    pub reasons: &'static [(&'static str, &'static str)],
    pub error: Option<String>,
    pub accent: Option<String>,
    pub style_nonce: String,
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
    render(path.into_inner(), &linked, None, StatusCode::OK)
}

/// Renders the page; also used to show it again with an error.
pub fn render(
    token: String,
    linked: &LinkContext,
    error: Option<String>,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let current = linked.blocking.first().copied();
    let names = linked.names();
    let nonce = style_nonce();
    let page = PreferenceCenterPage {
        chrome: Chrome::recipient(linked.organisation()),
        token,
        sender_name: linked.message.sender_name.clone(),
        organisation: linked.organisation().to_owned(),
        custom_message: linked.settings.custom_message.clone(),
        already: current
            .map(|level| format!("{} ({} level)", what_stops(level, &names), level.as_str())),
        choices: choice_views(&linked.settings.levels_offered, current, &names),
        ask_reason: linked.settings.ask_reason,
        reasons: &REASONS,
        error,
        accent: linked.accent().map(str::to_owned),
        style_nonce: nonce.clone(),
    };
    let html = page.render().map_err(AppError::internal)?;
    Ok(recipient_response(status, Some(&nonce)).body(html))
}
