//! Admin › Activity › Emails: the delivery log of the outbox, newest first, scoped by rights
//! (a group admin the group's, a client admin the client's).

use actix_web::{get, web};
use askama::Template;
use askama_web::WebTemplate;
use serde::Deserialize;

use crate::db::messages::{self, LogEntry, LogScope};
use crate::domain::rights::{self, EmailsVisible};
use crate::domain::{EmailAddress, MessageId, Person};
use crate::web::errors::AppError;
use crate::web::keyset;
use crate::web::layout::{Area, Chrome};
use crate::web::session::SignedIn;
use crate::web::staff::contacts::when;
use crate::web::state::AppState;

const PAGE_SIZE: usize = 50;

#[derive(Deserialize)]
pub struct LogQuery {
    after: Option<String>,
}

pub struct LogRowView {
    pub kind: &'static str,
    pub recipient: String,
    pub campaign: String,
    pub status: String,
    pub attempts: i32,
    pub last_error: String,
    pub created: String,
    pub updated: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "activity/emails.html")]
pub struct EmailsPage {
    chrome: Chrome,
    rows: Vec<LogRowView>,
    next_cursor: Option<String>,
    is_later_page: bool,
}

fn scope_of(person: &Person) -> Result<LogScope, AppError> {
    match rights::visible_emails(person) {
        EmailsVisible::InGroup(group) => Ok(LogScope::Group(group)),
        EmailsVisible::InClient(client) => Ok(LogScope::Client(client)),
        EmailsVisible::Nothing => Err(AppError::NotFound),
    }
}

#[get("/admin/activity/emails")]
async fn emails(
    signed_in: SignedIn,
    query: web::Query<LogQuery>,
    state: web::Data<AppState>,
) -> Result<EmailsPage, AppError> {
    let scope = scope_of(&signed_in.person())?;
    let after = query.after.as_deref().map(decode_cursor).transpose()?;
    let is_later_page = after.is_some();
    let mut page = state
        .db(move |conn| messages::log_page(conn, scope, after, PAGE_SIZE as i64 + 1))
        .await?;
    let next_cursor = keyset::last_before_next_page(&mut page, PAGE_SIZE).map(encode_cursor);
    Ok(EmailsPage {
        chrome: Chrome::signed_in(
            &signed_in.account,
            signed_in.csrf_token(),
            Area::ActivityEmails,
        ),
        rows: page.iter().map(row_view).collect(),
        next_cursor,
        is_later_page,
    })
}

fn row_view(entry: &LogEntry) -> LogRowView {
    LogRowView {
        kind: match entry.kind.as_str() {
            "campaign" => "Campaign",
            "opt_out_confirmation" => "Opt-out confirmation",
            "opt_in_request" => "Opt-in request",
            "support_lift_notice" => "Support: opted back in",
            _ => "Email",
        },
        recipient: EmailAddress::to_unicode_display(&entry.to_email),
        campaign: entry.campaign_name.clone().unwrap_or_default(),
        status: entry.status.clone(),
        attempts: entry.attempts,
        last_error: entry.last_error.clone().unwrap_or_default(),
        created: when(&entry.created_at),
        updated: entry
            .sent_at
            .as_ref()
            .map_or_else(|| when(&entry.updated_at), when),
    }
}

fn encode_cursor(row: &LogEntry) -> String {
    keyset::encode(&row.created_at, row.id.0)
}

fn decode_cursor(raw: &str) -> Result<(chrono::NaiveDateTime, MessageId), AppError> {
    keyset::decode(raw).map(|(at, id)| (at, MessageId(id)))
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(emails);
}
