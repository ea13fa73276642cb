//! Turning a link's token into the email it names, or into the friendly "bad link" page.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, http::header};
use askama::Template;
use std::sync::Arc;

use crate::db::link_context::{self, LinkContext};
use crate::domain::MessageId;
use crate::tokens::TokenError;
use crate::web::errors::AppError;
use crate::web::layout::Chrome;
use crate::web::middleware::security_headers;
use crate::web::state::AppState;

#[derive(Template)]
#[template(path = "recipient/bad_link.html")]
struct BadLinkPage {
    chrome: Chrome,
    title: &'static str,
    reason: &'static str,
}

/// The answer to a link that cannot be used.
pub fn bad_link(status: StatusCode, title: &'static str, reason: &'static str) -> HttpResponse {
    let page = BadLinkPage {
        chrome: Chrome::anonymous(),
        title,
        reason,
    };
    match page.render() {
        Ok(html) => recipient_response(status, None).body(html),
        Err(_) => HttpResponse::build(status).body(title),
    }
}

pub fn token_refused(error: TokenError) -> HttpResponse {
    let reason = match error {
        TokenError::Expired => "The link has expired.",
        TokenError::Malformed => {
            "The link is incomplete or damaged: perhaps it was cut in two by your mail program."
        }
        TokenError::BadSignature | TokenError::WrongPurpose => {
            "The link is not one we made for this."
        }
    };
    bad_link(StatusCode::BAD_REQUEST, "This link does not work", reason)
}

pub fn email_gone() -> HttpResponse {
    bad_link(
        StatusCode::NOT_FOUND,
        "We cannot find that email",
        "The email this link came from no longer exists in our records.",
    )
}

/// Response headers for recipients' pages: never cached (they are personal), and the token in
/// the address never sent on as a Referer. `style_nonce` allows the one inline style block
/// that carries the sender's accent colour.
pub fn recipient_response(
    status: StatusCode,
    style_nonce: Option<&str>,
) -> actix_web::HttpResponseBuilder {
    let mut response = HttpResponse::build(status);
    response
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::REFERRER_POLICY, "no-referrer"));
    if let Some(nonce) = style_nonce {
        response.insert_header((
            header::CONTENT_SECURITY_POLICY,
            security_headers::policy_with_style_nonce(nonce),
        ));
    }
    response
}

/// For a page that shows the email: the email and its active opt-outs, with the sender's names
/// and settings as remembered for a few seconds; or the page to answer instead.
pub async fn load(
    state: &AppState,
    id: MessageId,
) -> Result<Result<LinkContext, HttpResponse>, AppError> {
    let profiles = Arc::clone(&state.services.sender_profiles);
    let found = state
        .db(move |conn| profiles.link_context(conn, id))
        .await?;
    Ok(found.ok_or_else(email_gone))
}

/// For a POST that records a decision: as `load`, with the sender's settings read now.
pub async fn load_for_change(
    state: &AppState,
    id: MessageId,
) -> Result<Result<LinkContext, HttpResponse>, AppError> {
    let found = state
        .db(move |conn| link_context::load_fresh(conn, id))
        .await?;
    Ok(found.ok_or_else(email_gone))
}
