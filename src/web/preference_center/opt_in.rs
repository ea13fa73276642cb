//! `/opt-in/{token}`, from the confirmation email: GET (and HEAD) shows what opting back in
//! means and changes nothing; POST lifts exactly the opt-out the email confirmed.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use super::link::{self, recipient_response};
use super::submit::lift;
use crate::domain::Source;
use crate::domain::wording::what_stops;
use crate::web::errors::AppError;
use crate::web::layout::Chrome;
use crate::web::state::AppState;

#[derive(Template)]
#[template(path = "recipient/opt_in.html")]
struct OptInPage {
    chrome: Chrome,
    token: String,
    what: String,
    active: bool,
}

pub async fn show(
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let (id, level) = match state.config.signing_keys.verify_opt_in_token(&path) {
        Ok(named) => named,
        Err(error) => return Ok(link::token_refused(error)),
    };
    let linked = match link::load(&state, id).await? {
        Ok(linked) => linked,
        Err(page) => return Ok(page),
    };
    let active = link::current_levels(&state, &linked.message)
        .await?
        .contains(&level);
    let page = OptInPage {
        chrome: Chrome::recipient(linked.organisation()),
        token: path.into_inner(),
        what: what_stops(level, &linked.names()),
        active,
    };
    let html = page.render().map_err(AppError::internal)?;
    Ok(recipient_response(StatusCode::OK, None).body(html))
}

pub async fn confirm(
    req: HttpRequest,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let (id, level) = match state.config.signing_keys.verify_opt_in_token(&path) {
        Ok(named) => named,
        Err(error) => return Ok(link::token_refused(error)),
    };
    lift(&req, &state, id, level, Source::ConfirmationEmail).await
}
