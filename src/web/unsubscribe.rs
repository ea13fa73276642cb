//! `/u/{token}`: the link in every campaign email. The Preference Center itself is the next
//! issue; for now a plain page that checks the link and changes nothing (GET never changes
//! data: mail scanners open every link).

use actix_web::{HttpResponse, get, web};
use askama::Template;

use super::errors::AppError;
use super::layout::Chrome;
use super::state::AppState;

#[derive(Template)]
#[template(path = "recipient/unsubscribe_pending.html")]
struct PendingPage {
    chrome: Chrome,
    valid: bool,
}

#[get("/u/{token}")]
async fn unsubscribe_page(
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let valid = state
        .config
        .signing_keys
        .verify_unsubscribe_token(&path)
        .is_ok();
    let html = PendingPage {
        chrome: Chrome::anonymous(),
        valid,
    }
    .render()
    .map_err(AppError::internal)?;
    let status = if valid {
        actix_web::http::StatusCode::OK
    } else {
        actix_web::http::StatusCode::BAD_REQUEST
    };
    Ok(HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .body(html))
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(unsubscribe_page);
}
