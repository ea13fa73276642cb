//! `GET /campaigns/{id}`: the campaign, its counts, its recipients (opted-out ones struck
//! through with the level), and for its sender the contact picker and the send button.
//! `?added=BATCH` (where adding recipients redirects) opens the dialog about that batch.

use actix_web::{get, web};
use askama::Template;
use askama_web::WebTemplate;
use chrono::NaiveDateTime;
use serde::Deserialize;

use super::load_visible;
use crate::db::campaigns::{self, Campaign, Recipient};
use crate::db::contacts::{self, Contact};
use crate::db::messages::{self, StatusCounts};
use crate::db::opt_outs;
use crate::domain::rights::{self, ContactsVisible};
use crate::domain::{CampaignId, ContactId, EmailAddress, Level};
use crate::web::errors::AppError;
use crate::web::layout::{Area, Chrome};
use crate::web::search::search_term;
use crate::web::session::SignedIn;
use crate::web::staff::contacts::{badge, when};
use crate::web::state::AppState;

const RECIPIENTS_SHOWN: i64 = 200;
const PICKER_SIZE: i64 = 50;

#[derive(Deserialize, Default)]
pub struct DetailQuery {
    pub q: Option<String>,
    pub sent: Option<String>,
    /// The batch of recipients just added ([`batch_name`]), or [`NOTHING_ADDED`].
    pub added: Option<String>,
}

/// `?added=` after a submission that added nobody new.
pub const NOTHING_ADDED: &str = "none";

/// The name of a batch of added recipients in the page's address: their shared `added_at`, in
/// microseconds since 1970 (no contact id or address in the URL).
pub fn batch_name(added_at: &NaiveDateTime) -> String {
    added_at.and_utc().timestamp_micros().to_string()
}

/// Which batch `?added=` names: None for nothing added.
fn parse_batch(raw: &str) -> Result<Option<NaiveDateTime>, AppError> {
    if raw == NOTHING_ADDED {
        return Ok(None);
    }
    raw.parse::<i64>()
        .ok()
        .and_then(chrono::DateTime::from_timestamp_micros)
        .map(|at| Some(at.naive_utc()))
        .ok_or_else(|| {
            AppError::BadRequest("That link is damaged. Open the campaign again.".into())
        })
}

pub struct RecipientView {
    pub email: String,
    pub name: String,
    pub badge: Option<String>,
    pub state: String,
}

pub struct PickerRow {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub badge: Option<String>,
    pub already_added: bool,
}

/// The popup after adding contacts of whom some are opted out.
pub struct SuppressedDialog {
    pub added: usize,
    pub blocked: Vec<(String, String)>,
}

#[derive(Template, WebTemplate)]
#[template(path = "campaigns/detail.html")]
pub struct CampaignPage {
    chrome: Chrome,
    id: i64,
    name: String,
    subject: String,
    from: String,
    owner: String,
    body_text: String,
    body_html: Option<String>,
    is_draft: bool,
    sent_at: Option<String>,
    is_owner: bool,
    recipients: Vec<RecipientView>,
    recipient_count: i64,
    suppressed_count: i64,
    /// "Send to 12 contacts (3 opted out will be skipped)".
    send_label: String,
    counts: StatusCounts,
    search: String,
    picker: Vec<PickerRow>,
    notice: Option<String>,
    dialog: Option<SuppressedDialog>,
}

#[get("/campaigns/{id}")]
pub async fn detail(
    signed_in: SignedIn,
    path: web::Path<i64>,
    query: web::Query<DetailQuery>,
    state: web::Data<AppState>,
) -> Result<CampaignPage, AppError> {
    let campaign = load_visible(&state, &signed_in.person(), path.into_inner()).await?;
    let query = query.into_inner();
    let is_owner = rights::may_change_campaign(&signed_in.person(), &campaign.owner);
    // The dialog is the sender's, about their own submission.
    let batch = match query.added.as_deref() {
        Some(raw) if is_owner => Some(parse_batch(raw)?),
        _ => None,
    };
    let dialog = match batch {
        Some(batch) => Some(suppressed_dialog(&state, campaign.id, batch).await?),
        None => None,
    };
    render(&state, &signed_in, campaign, query, dialog).await
}

/// The dialog about one batch of added recipients: how many, and which are opted out for
/// the sender now (with the broadest level), by address.
async fn suppressed_dialog(
    state: &AppState,
    campaign: CampaignId,
    batch: Option<NaiveDateTime>,
) -> Result<SuppressedDialog, AppError> {
    let Some(at) = batch else {
        return Ok(SuppressedDialog {
            added: 0,
            blocked: Vec::new(),
        });
    };
    let (added, blocked) = state
        .db(move |conn| -> diesel::QueryResult<_> {
            let added = campaigns::added_at(conn, campaign, at)?;
            let suppressed = opt_outs::broadest_for_contacts(conn, &added)?;
            let ids: Vec<ContactId> = suppressed.keys().copied().collect();
            let emails = contacts::emails(conn, &ids)?;
            let mut blocked: Vec<(String, String)> = suppressed
                .iter()
                .filter_map(|(id, level)| {
                    let email = EmailAddress::to_unicode_display(emails.get(id)?);
                    Some((email, badge(*level)))
                })
                .collect();
            blocked.sort();
            Ok((added.len(), blocked))
        })
        .await?;
    Ok(SuppressedDialog { added, blocked })
}

async fn render(
    state: &AppState,
    signed_in: &SignedIn,
    campaign: Campaign,
    query: DetailQuery,
    dialog: Option<SuppressedDialog>,
) -> Result<CampaignPage, AppError> {
    let is_owner = rights::may_change_campaign(&signed_in.person(), &campaign.owner);
    let is_draft = campaign.status == "draft";
    let search = search_term(query.q.as_deref())?;
    let (id, owner) = (campaign.id, campaign.owner);
    let term = search.clone();
    let show_picker = is_owner && is_draft;
    let for_count = campaign.clone();
    let (recipients, recipient_count, counts, picker, suppressed, suppressed_now) = state
        .db(move |conn| -> diesel::QueryResult<_> {
            let recipients = campaigns::recipients_page(conn, id, None, RECIPIENTS_SHOWN)?;
            let count = campaigns::count_recipients(conn, id)?;
            // Before sending, every recipient is checked (not only those shown).
            let suppressed_now = if is_draft {
                campaigns::count_suppressed_now(conn, &for_count)?
            } else {
                0
            };
            let counts = messages::counts_for_campaign(conn, id)?;
            let picker = if show_picker {
                contacts::page(
                    conn,
                    ContactsVisible::OwnedBy(owner.user_id),
                    Some(&term),
                    None,
                    PICKER_SIZE,
                )?
            } else {
                Vec::new()
            };
            // Before sending, suppression is live: check recipients and picker rows now.
            let mut ids: Vec<ContactId> = picker.iter().map(|c| c.id).collect();
            ids.extend(recipients.iter().map(|r| r.contact_id));
            let suppressed = opt_outs::broadest_for_contacts(conn, &ids)?;
            Ok((
                recipients,
                count,
                counts,
                picker,
                suppressed,
                suppressed_now,
            ))
        })
        .await?;
    let added: std::collections::HashSet<ContactId> =
        recipients.iter().map(|r| r.contact_id).collect();
    let recipient_views: Vec<RecipientView> = recipients
        .iter()
        .map(|r| recipient_view(r, is_draft, suppressed.get(&r.contact_id).copied()))
        .collect();
    let suppressed_count = if is_draft {
        suppressed_now
    } else {
        recipient_views.iter().filter(|r| r.badge.is_some()).count() as i64
    };
    let notice = query
        .sent
        .is_some()
        .then(|| "The campaign is queued: emails go out now.".to_owned());
    Ok(CampaignPage {
        chrome: Chrome::signed_in(&signed_in.account, signed_in.csrf_token(), Area::Campaigns),
        id: campaign.id.0,
        name: campaign.name,
        subject: campaign.subject,
        from: campaign.from_name,
        owner: format!(
            "{} · {} · {}",
            campaign.owner_name, campaign.client_name, campaign.group_name
        ),
        body_text: campaign.body_text,
        body_html: campaign.body_html,
        is_draft,
        sent_at: campaign.sent_at.as_ref().map(when),
        is_owner,
        recipients: recipient_views,
        recipient_count,
        suppressed_count,
        send_label: super::send::send_label(recipient_count, suppressed_count),
        counts,
        search,
        picker: picker
            .iter()
            .map(|c| picker_row(c, suppressed.get(&c.id).copied(), added.contains(&c.id)))
            .collect(),
        notice,
        dialog,
    })
}

fn recipient_view(recipient: &Recipient, is_draft: bool, live: Option<Level>) -> RecipientView {
    // A draft shows today's suppression; a sent campaign what was decided at send time (or
    // just before delivery).
    let level = if is_draft {
        live
    } else {
        recipient.suppressed_level
    };
    let state = match (is_draft, recipient.message_status.as_deref(), level) {
        (_, _, Some(_)) => "Will not be sent".to_owned(),
        (true, _, None) => "Will be sent".to_owned(),
        (false, Some(status), None) => message_state(status).to_owned(),
        (false, None, None) => "Not sent".to_owned(),
    };
    RecipientView {
        email: EmailAddress::to_unicode_display(&recipient.email),
        name: recipient.name.clone(),
        badge: level.map(badge),
        state,
    }
}

fn message_state(status: &str) -> &'static str {
    match status {
        "queued" | "sending" => "Queued",
        "sent" => "Sent",
        "failed" => "Failed",
        "suppressed" => "Not sent: opted out",
        _ => "Unknown",
    }
}

fn picker_row(contact: &Contact, level: Option<Level>, already_added: bool) -> PickerRow {
    PickerRow {
        id: contact.id.0,
        email: EmailAddress::to_unicode_display(&contact.email),
        name: contact.name.clone(),
        badge: level.map(badge),
        already_added,
    }
}
