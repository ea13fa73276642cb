//! `GET /campaigns` (the campaigns in the person's scope, newest first) and `POST /campaigns`
//! (a new draft).

use actix_web::http::header;
use actix_web::{HttpResponse, get, post, web};
use askama::Template;
use askama_web::WebTemplate;
use serde::Deserialize;

use crate::db::campaigns::{self, NewDraft};
use crate::domain::{CampaignId, rights};
use crate::web::csrf::ProtectedForm;
use crate::web::errors::AppError;
use crate::web::keyset;
use crate::web::layout::{Area, Chrome};
use crate::web::session::SignedIn;
use crate::web::staff::contacts::when;
use crate::web::state::AppState;

const PAGE_SIZE: i64 = 50;

#[derive(Deserialize)]
pub struct ListQuery {
    before: Option<i64>,
}

pub struct CampaignRowView {
    pub id: i64,
    pub name: String,
    pub subject: String,
    pub owner: String,
    pub status: String,
    pub created: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "campaigns/list.html")]
pub struct CampaignsPage {
    chrome: Chrome,
    rows: Vec<CampaignRowView>,
    next_before: Option<i64>,
    can_create: bool,
    show_owner: bool,
    default_from_name: String,
}

#[get("/campaigns")]
pub async fn list(
    signed_in: SignedIn,
    query: web::Query<ListQuery>,
    state: web::Data<AppState>,
) -> Result<CampaignsPage, AppError> {
    let person = signed_in.person();
    if !rights::may_see_campaigns(&person) {
        return Err(AppError::NotFound);
    }
    let visible = rights::visible_contacts(&person);
    let before = query.before.map(CampaignId);
    let mut page = state
        .db(move |conn| campaigns::page(conn, visible, before, PAGE_SIZE + 1))
        .await?;
    let next_before = keyset::last_before_next_page(&mut page, PAGE_SIZE as usize).map(|c| c.id.0);
    Ok(CampaignsPage {
        chrome: Chrome::signed_in(&signed_in.account, signed_in.csrf_token(), Area::Campaigns),
        rows: page
            .iter()
            .map(|c| CampaignRowView {
                id: c.id.0,
                name: c.name.clone(),
                subject: c.subject.clone(),
                owner: format!("{} · {}", c.owner_name, c.client_name),
                status: if c.status == "draft" {
                    "Draft".into()
                } else {
                    "Sent".into()
                },
                created: when(&c.created_at),
            })
            .collect(),
        next_before,
        can_create: person.as_sender().is_some(),
        show_owner: rights::sees_other_senders(&person),
        default_from_name: signed_in.account.user.display_name.clone(),
    })
}

#[derive(Deserialize)]
pub struct NewCampaignForm {
    name: String,
    subject: String,
    from_name: String,
    body_text: String,
    #[serde(default)]
    body_html: String,
}

/// Limits that keep a campaign sensible; the messages say which field is wrong.
fn validate(form: &NewCampaignForm) -> Result<(), AppError> {
    let checks = [
        ("name", form.name.trim(), 1, 200),
        ("subject", form.subject.trim(), 1, 300),
        ("sender name", form.from_name.trim(), 1, 100),
        ("text body", form.body_text.trim(), 1, 100_000),
    ];
    for (label, value, min, max) in checks {
        let length = value.chars().count();
        if length < min {
            return Err(AppError::BadRequest(format!(
                "The campaign needs a {label}."
            )));
        }
        if length > max {
            return Err(AppError::BadRequest(format!(
                "The {label} can be at most {max} characters long."
            )));
        }
    }
    if form.body_html.chars().count() > 200_000 {
        return Err(AppError::BadRequest("The HTML body is too long.".into()));
    }
    if form.from_name.contains(['\r', '\n']) || form.subject.contains(['\r', '\n']) {
        return Err(AppError::BadRequest(
            "The subject and sender name must be on one line.".into(),
        ));
    }
    Ok(())
}

#[post("/campaigns")]
pub async fn create(
    submitted: ProtectedForm<NewCampaignForm>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let ProtectedForm { signed_in, form } = submitted;
    let sender = signed_in.person().as_sender().ok_or_else(|| {
        AppError::Forbidden("Only people who belong to a client send campaigns.".into())
    })?;
    validate(&form)?;
    let id = state
        .db(move |conn| {
            let html = form.body_html.trim();
            campaigns::create_draft(
                conn,
                &NewDraft {
                    group_id: sender.group_id,
                    client_id: sender.client_id,
                    owner_user_id: sender.user_id,
                    name: form.name.trim(),
                    subject: form.subject.trim(),
                    from_name: form.from_name.trim(),
                    body_text: form.body_text.trim(),
                    body_html: (!html.is_empty()).then_some(html),
                },
            )
        })
        .await?;
    Ok(HttpResponse::SeeOther()
        .insert_header((header::LOCATION, format!("/campaigns/{id}")))
        .finish())
}
