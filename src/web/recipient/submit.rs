//! `POST /u/{token}`: either the Preference Center form (a chosen level, maybe a reason) or an
//! RFC 8058 one-click unsubscribe from a mail client (`List-Unsubscribe=One-Click`, url-encoded
//! or multipart; no cookie, no CSRF token: the signed link is the credential). Either way the
//! opt-out is committed before the answer, so the next send check sees it.
//!
//! `POST /u/{token}/undo`: "I changed my mind", lifting exactly the opt-out just made (named by
//! a signed id in the form, for [`UNDO_WINDOW`]); `POST /u/{token}/resume`: the Preference
//! Center's "Resume", lifting exactly one opt-out the recipient made, named the same way.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use super::body::read_fields;
use super::link::{self, recipient_response};
use super::page;
use crate::db::link_context::{BlockingOptOut, LinkContext};
use crate::db::unsubscribes::{self, RequestOrigin};
use crate::domain::consent::Shown;
use crate::domain::wording::{SenderNames, what_stops};
use crate::domain::{Level, OptOutId, Source};
use crate::service::opt_out_writer::LinkOptOut;
use crate::tokens::{LiftAct, TokenError, UNDO_WINDOW};
use crate::web::errors::AppError;
use crate::web::layout::Chrome;
use crate::web::middleware::client_address;
use crate::web::state::AppState;

const MAX_REASON_CHARS: usize = 500;

#[derive(Template)]
#[template(path = "recipient/unsubscribed.html")]
struct UnsubscribedPage {
    chrome: Chrome,
    token: String,
    what: String,
    /// The signed id of the opt-out this act made, for "I changed my mind"; `None` when it
    /// made none (it was active already).
    undo_token: Option<String>,
    undo_minutes: u64,
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
    let linked = match link::load_for_change(&state, id).await? {
        Ok(linked) => linked,
        Err(page) => return Ok(page),
    };
    if field(&fields, "List-Unsubscribe") == Some("One-Click") {
        return one_click(&req, &state, &linked).await;
    }
    let keys = &state.config.signing_keys;
    let Some(level) = field(&fields, "level").and_then(|l| l.parse::<Level>().ok()) else {
        let error = "Choose which emails you want to stop.".to_owned();
        return page::render(
            keys,
            path.into_inner(),
            &linked,
            Some(error),
            StatusCode::UNPROCESSABLE_ENTITY,
        );
    };
    if !linked.settings.levels_offered.contains(&level) {
        let error = "That choice is not offered here. Choose one of the options below.".to_owned();
        return page::render(
            keys,
            path.into_inner(),
            &linked,
            Some(error),
            StatusCode::UNPROCESSABLE_ENTITY,
        );
    }
    let reason =
        super::choices::reason_text(field(&fields, "reason"), field(&fields, "reason_text"))
            .map(|r| r.chars().take(MAX_REASON_CHARS).collect::<String>())
            .filter(|_| linked.settings.ask_reason);
    // The evidence keeps the choice as the page worded it.
    let shown = super::choices::choice_label(level, &linked.names());
    let recorded = record(
        &req,
        &state,
        &linked,
        level,
        Source::PreferenceCenter,
        reason,
        shown,
    )
    .await?;
    tracing::info!(message = %id, %level, recorded = recorded.is_some(), "preference center opt-out");
    let page = UnsubscribedPage {
        chrome: Chrome::recipient(linked.organisation()),
        token: path.into_inner(),
        what: what_stops(level, &linked.names()),
        undo_token: recorded.map(|opt_out| {
            keys.lift_token(linked.message.id, LiftAct::Undo, &[opt_out], UNDO_WINDOW)
        }),
        undo_minutes: UNDO_WINDOW.as_secs() / 60,
        confirmation_sent: recorded.is_some() && linked.settings.confirmation_email,
    };
    let html = page.render().map_err(AppError::internal)?;
    Ok(recipient_response(StatusCode::OK, None).body(html))
}

fn field<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// RFC 8058: record at the configured one-click level and answer 200 with a short text; no
/// redirect, no cookie. Repeats are harmless.
async fn one_click(
    req: &HttpRequest,
    state: &AppState,
    linked: &LinkContext,
) -> Result<HttpResponse, AppError> {
    let level = linked.settings.one_click_level;
    let answer = format!(
        "Unsubscribed: you will no longer receive {}.",
        what_stops(level, &linked.names())
    );
    let recorded = record(
        req,
        state,
        linked,
        level,
        Source::OneClick,
        None,
        answer.clone(),
    )
    .await?;
    tracing::info!(message = %linked.message.id, %level, recorded = recorded.is_some(), "one-click opt-out");
    Ok(HttpResponse::Ok()
        .content_type("text/plain; charset=utf-8")
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .body(format!("{answer}\n")))
}

/// Records the opt-out and returns once it is committed: the new opt-out's id, or `None` when
/// it was active already. On SQLite it goes through the one writer, which commits a burst of
/// them together and durably; on PostgreSQL (or should that writer have stopped) this request
/// commits its own transaction. `shown` is what the recipient was shown, for the evidence.
async fn record(
    req: &HttpRequest,
    state: &AppState,
    linked: &LinkContext,
    level: Level,
    source: Source,
    reason: Option<String>,
    shown: String,
) -> Result<Option<OptOutId>, AppError> {
    let opt_out = LinkOptOut {
        message: linked.message.clone(),
        level,
        source,
        reason,
        ip_address: Some(client_address::of(req, &state.config)),
        user_agent: client_address::user_agent(req),
        shown: Some(Shown::to_evidence(vec![shown])),
        confirm: linked.settings.confirmation_email,
    };
    if let Some(writer) = &state.services.opt_out_writer {
        match writer.record(opt_out.clone()).await {
            Some(outcome) => return Ok(outcome?),
            None => tracing::error!("the opt-out writer has stopped; recording per request"),
        }
    }
    state.db(move |conn| opt_out.record(conn)).await
}

#[derive(Template)]
#[template(path = "recipient/opted_in.html")]
pub struct OptedInPage {
    pub chrome: Chrome,
    /// What the recipient receives again, one line per lifted opt-out.
    pub again: Vec<String>,
    /// When nothing was lifted: why, in plain words.
    pub nothing: String,
}

/// `POST /u/{token}/undo`: "I changed my mind", right after an opt-out. The form carries the
/// signed id of the opt-out that act made; that row, and only while it is active, is lifted.
pub async fn undo(
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let nothing = "Nothing was changed: the button “I changed my mind” works for a few minutes after you unsubscribe, on that page only. To receive emails again, open the link in the email and resume them there.";
    lift_signed(req, path, payload, state, LiftAct::Undo, "undo", nothing).await
}

/// `POST /u/{token}/resume`: "Resume" on the Preference Center, for one opt-out the recipient
/// made themselves, named by the signed list in the form.
pub async fn resume(
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let nothing = "Nothing was changed: those emails are not stopped any more, or the page was open too long. Open the link in the email again to see what is stopped now.";
    lift_signed(req, path, payload, state, LiftAct::Resume, "lift", nothing).await
}

/// Lifts exactly the opt-outs the signed list in the form's `field_name` names, for `act` on
/// this link's page. A missing, forged, expired or foreign list changes nothing (400).
async fn lift_signed(
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    state: web::Data<AppState>,
    act: LiftAct,
    field_name: &str,
    nothing: &'static str,
) -> Result<HttpResponse, AppError> {
    let keys = &state.config.signing_keys;
    let id = match keys.verify_unsubscribe_token(&path) {
        Ok(id) => id,
        Err(error) => return Ok(link::token_refused(error)),
    };
    let fields = read_fields(&req, payload).await?;
    // The signed list first: a junk POST costs a signature check, not database reads.
    let listed = field(&fields, field_name)
        .ok_or(TokenError::Malformed)
        .and_then(|token| keys.verify_lift_token(token, id, act));
    let Ok(listed) = listed else {
        return nothing_changed(Chrome::anonymous(), nothing, StatusCode::BAD_REQUEST);
    };
    let linked = match link::load_for_change(&state, id).await? {
        Ok(linked) => linked,
        Err(page) => return Ok(page),
    };
    lift_and_answer(
        &req,
        &state,
        &linked,
        &listed,
        Source::PreferenceCenter,
        nothing,
    )
    .await
}

/// Lifts `ids` for the link's recipient (each only while active) and shows what changed.
pub async fn lift_and_answer(
    req: &HttpRequest,
    state: &AppState,
    linked: &LinkContext,
    ids: &[OptOutId],
    source: Source,
    nothing: &'static str,
) -> Result<HttpResponse, AppError> {
    // Only the named opt-outs that still stop this sender's mail: what the page says for each
    // is what the evidence keeps, and exactly those are lifted.
    let named: Vec<&BlockingOptOut> = linked
        .blocking
        .iter()
        .filter(|b| ids.contains(&b.id))
        .collect();
    if named.is_empty() {
        let chrome = Chrome::recipient(linked.organisation());
        return nothing_changed(chrome, nothing, StatusCode::OK);
    }
    let again: Vec<String> = named
        .iter()
        .map(|b| receive_again(b.level, &linked.names()))
        .collect();
    let ids: Vec<OptOutId> = named.iter().map(|b| b.id).collect();
    let ip = client_address::of(req, &state.config);
    let user_agent = client_address::user_agent(req);
    let shown = Shown::to_evidence(again);
    let message = linked.message.clone();
    let lifted = state
        .db(move |conn| {
            let origin = RequestOrigin {
                ip_address: Some(&ip),
                user_agent: user_agent.as_deref(),
                shown: Some(&shown),
            };
            unsubscribes::lift_listed(conn, &message, &ids, source, &origin)
        })
        .await?;
    tracing::info!(message = %linked.message.id, lifted = lifted.len(), source = source.as_str(), "recipient opted back in");
    let names = linked.names();
    let page = OptedInPage {
        chrome: Chrome::recipient(linked.organisation()),
        again: lifted
            .iter()
            .map(|o| receive_again(o.scope.level(), &names))
            .collect(),
        nothing: nothing.to_owned(),
    };
    let html = page.render().map_err(AppError::internal)?;
    Ok(recipient_response(StatusCode::OK, None).body(html))
}

/// "You will again receive emails from Nina Patel." — a line of the page and of the evidence.
pub fn receive_again(level: Level, names: &SenderNames<'_>) -> String {
    format!("You will again receive {}.", what_stops(level, names))
}

/// "Nothing to change", and why.
pub fn nothing_changed(
    chrome: Chrome,
    nothing: &str,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let page = OptedInPage {
        chrome,
        again: Vec::new(),
        nothing: nothing.to_owned(),
    };
    let html = page.render().map_err(AppError::internal)?;
    Ok(recipient_response(status, None).body(html))
}
