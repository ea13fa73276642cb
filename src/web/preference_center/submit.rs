//! `POST /u/{token}`: either the Preference Center form (a chosen level, maybe a reason) or an
//! RFC 8058 one-click unsubscribe from a mail client (`List-Unsubscribe=One-Click`, url-encoded
//! or multipart; no cookie, no CSRF token: the signed link is the credential). Either way the
//! opt-out is committed before the answer, so the next send check sees it.
//!
//! `POST /u/{token}/undo`: "I changed my mind", lifting exactly the opt-out just made.

use actix_web::http::StatusCode;
use actix_web::http::header::CONTENT_TYPE;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use futures_util::StreamExt;

use super::link::{self, recipient_response};
use super::page;
use crate::db::link_context::LinkContext;
use crate::db::opt_out_writer::LinkOptOut;
use crate::db::unsubscribes::{self, RequestOrigin};
use crate::domain::wording::what_stops;
use crate::domain::{Level, MessageId, Source};
use crate::web::client_address;
use crate::web::errors::AppError;
use crate::web::layout::Chrome;
use crate::web::state::AppState;

/// A form or one-click body is tiny; anything bigger is not one.
const BODY_LIMIT: usize = 16 * 1024;
const MAX_REASON_CHARS: usize = 500;

#[derive(Template)]
#[template(path = "recipient/unsubscribed.html")]
struct UnsubscribedPage {
    chrome: Chrome,
    token: String,
    what: String,
    level: &'static str,
    confirmation_sent: bool,
}

pub async fn submit(
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let id = match state.config.signing_keys.verify_unsubscribe_token(&path) {
        Ok(id) => id,
        Err(error) => return Ok(link::token_refused(error)),
    };
    let fields = read_fields(&req, payload).await?;
    let field = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let linked = match link::load_for_change(&state, id).await? {
        Ok(linked) => linked,
        Err(page) => return Ok(page),
    };
    if field("List-Unsubscribe") == Some("One-Click") {
        return one_click(&req, &state, &linked).await;
    }
    let Some(level) = field("level").and_then(|l| l.parse::<Level>().ok()) else {
        let error = "Choose which emails you want to stop.".to_owned();
        return page::render(
            path.into_inner(),
            &linked,
            Some(error),
            StatusCode::UNPROCESSABLE_ENTITY,
        );
    };
    if !linked.settings.levels_offered.contains(&level) {
        let error = "That choice is not offered here. Choose one of the options below.".to_owned();
        return page::render(
            path.into_inner(),
            &linked,
            Some(error),
            StatusCode::UNPROCESSABLE_ENTITY,
        );
    }
    let reason = super::choices::reason_text(field("reason"), field("reason_text"))
        .map(|r| r.chars().take(MAX_REASON_CHARS).collect::<String>())
        .filter(|_| linked.settings.ask_reason);
    let recorded = record(
        &req,
        &state,
        &linked,
        level,
        Source::PreferenceCenter,
        reason,
    )
    .await?;
    tracing::info!(message = %id, %level, recorded, "preference center opt-out");
    let page = UnsubscribedPage {
        chrome: Chrome::recipient(linked.organisation()),
        token: path.into_inner(),
        what: what_stops(level, &linked.names()),
        level: level.as_str(),
        confirmation_sent: recorded && linked.settings.confirmation_email,
    };
    let html = page.render().map_err(AppError::internal)?;
    Ok(recipient_response(StatusCode::OK, None).body(html))
}

/// RFC 8058: record at the configured one-click level and answer 200 with a short text; no
/// redirect, no cookie. Repeats are harmless.
async fn one_click(
    req: &HttpRequest,
    state: &AppState,
    linked: &LinkContext,
) -> Result<HttpResponse, AppError> {
    let level = linked.settings.one_click_level;
    let recorded = record(req, state, linked, level, Source::OneClick, None).await?;
    tracing::info!(message = %linked.message.id, %level, recorded, "one-click opt-out");
    Ok(HttpResponse::Ok()
        .content_type("text/plain; charset=utf-8")
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .body(format!(
            "Unsubscribed: you will no longer receive {}.\n",
            what_stops(level, &linked.names())
        )))
}

/// Records the opt-out and returns once it is committed (whether it is new). On SQLite it goes
/// through the one writer, which commits a burst of them together and durably; on PostgreSQL
/// (or should that writer have stopped) this request commits its own transaction.
async fn record(
    req: &HttpRequest,
    state: &AppState,
    linked: &LinkContext,
    level: Level,
    source: Source,
    reason: Option<String>,
) -> Result<bool, AppError> {
    let opt_out = LinkOptOut {
        message: linked.message.clone(),
        level,
        source,
        reason,
        ip_address: Some(client_address::of(req, &state.config)),
        user_agent: client_address::user_agent(req),
        confirm: linked.settings.confirmation_email,
    };
    if let Some(writer) = &state.opt_out_writer {
        match writer.record(opt_out.clone()).await {
            Some(outcome) => return Ok(outcome?),
            None => tracing::error!("the opt-out writer has stopped; recording per request"),
        }
    }
    state.db(move |conn| opt_out.record(conn)).await
}

#[derive(serde::Deserialize)]
pub struct UndoForm {
    level: String,
}

#[derive(Template)]
#[template(path = "recipient/opted_in.html")]
pub struct OptedInPage {
    pub chrome: Chrome,
    /// What the recipient receives again, one line per lifted opt-out.
    pub again: Vec<String>,
    /// When nothing was lifted: what they were not unsubscribed from.
    pub nothing_for: String,
}

pub async fn undo(
    req: HttpRequest,
    path: web::Path<String>,
    form: web::Form<UndoForm>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let id = match state.config.signing_keys.verify_unsubscribe_token(&path) {
        Ok(id) => id,
        Err(error) => return Ok(link::token_refused(error)),
    };
    let level: Level = form.level.parse().map_err(|_| {
        AppError::BadRequest("That choice could not be read. Please go back and try again.".into())
    })?;
    lift(&req, &state, id, level, Source::PreferenceCenter).await
}

/// Lifts exactly the opt-out at `level` made from email `id`, and says so.
pub async fn lift(
    req: &HttpRequest,
    state: &AppState,
    id: MessageId,
    level: Level,
    source: Source,
) -> Result<HttpResponse, AppError> {
    let linked = match link::load_for_change(state, id).await? {
        Ok(linked) => linked,
        Err(page) => return Ok(page),
    };
    let ip = client_address::of(req, &state.config);
    let user_agent = client_address::user_agent(req);
    let message = linked.message.clone();
    let lifted = state
        .db(move |conn| {
            let origin = RequestOrigin {
                ip_address: Some(&ip),
                user_agent: user_agent.as_deref(),
            };
            unsubscribes::opt_in_from_link(conn, &message, level, source, &origin)
        })
        .await?;
    tracing::info!(message = %id, %level, lifted, "recipient opted back in");
    let what = what_stops(level, &linked.names());
    let page = OptedInPage {
        chrome: Chrome::recipient(linked.organisation()),
        again: if lifted {
            vec![what.clone()]
        } else {
            Vec::new()
        },
        nothing_for: what,
    };
    let html = page.render().map_err(AppError::internal)?;
    Ok(recipient_response(StatusCode::OK, None).body(html))
}

/// The body's fields, url-encoded or multipart (RFC 8058 allows both; nothing else is a form:
/// 415). Bodies over 16 KiB are refused (413), as are values that are not UTF-8 (400).
pub(super) async fn read_fields(
    req: &HttpRequest,
    mut payload: web::Payload,
) -> Result<Vec<(String, String)>, AppError> {
    let content_type = req
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    if content_type.starts_with("multipart/form-data") {
        return read_multipart(req, payload).await;
    }
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk =
            chunk.map_err(|_| AppError::BadRequest("The form could not be read.".into()))?;
        if body.len() + chunk.len() > BODY_LIMIT {
            return Err(AppError::PayloadTooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    // A bare POST with no body (and so no type) is an empty form.
    let empty_untyped = content_type.is_empty() && body.is_empty();
    if !(content_type.starts_with("application/x-www-form-urlencoded") || empty_untyped) {
        return Err(AppError::UnsupportedMediaType);
    }
    crate::web::csrf::parse_form(&body)
}

async fn read_multipart(
    req: &HttpRequest,
    payload: web::Payload,
) -> Result<Vec<(String, String)>, AppError> {
    let unreadable = || AppError::BadRequest("The form could not be read.".into());
    let mut multipart = actix_multipart::Multipart::new(req.headers(), payload.into_inner());
    let mut fields = Vec::new();
    let mut total = 0;
    while let Some(field) = multipart.next().await {
        let mut field = field.map_err(|_| unreadable())?;
        let name = field.name().unwrap_or_default().to_owned();
        let mut value = Vec::new();
        while let Some(chunk) = field.next().await {
            let chunk = chunk.map_err(|_| unreadable())?;
            total += chunk.len();
            if total > BODY_LIMIT {
                return Err(AppError::PayloadTooLarge);
            }
            value.extend_from_slice(&chunk);
        }
        fields.push((name, String::from_utf8(value).map_err(|_| unreadable())?));
    }
    Ok(fields)
}
