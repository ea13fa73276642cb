//! `POST /campaigns/{id}/recipients`: add ticked contacts, or every contact matching a search.
//! When some of them are opted out for this sender, the answer is the campaign page with a
//! dialog listing them and the level that suppresses each; they stay on the list struck
//! through and are never sent to.

use actix_web::{HttpRequest, HttpResponse, Responder, post, web};

use super::detail::{self, DetailQuery, SuppressedDialog};
use super::{load_visible, require_owner};
use crate::db::campaigns;
use crate::db::opt_outs;
use crate::domain::ContactId;
use crate::web::contacts::badge;
use crate::web::csrf::ProtectedForm;
use crate::web::errors::AppError;
use crate::web::state::AppState;

/// Most contacts one submission may tick (the picker shows 50).
const MAX_TICKED: usize = 1000;

#[post("/campaigns/{id}/recipients")]
pub async fn add(
    submitted: ProtectedForm<Vec<(String, String)>>,
    path: web::Path<i64>,
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, AppError> {
    let ProtectedForm { signed_in, form } = submitted;
    let campaign = load_visible(&state, &signed_in.person(), path.into_inner()).await?;
    require_owner(&signed_in.person(), &campaign)?;
    if campaign.status != "draft" {
        return Err(AppError::BadRequest(
            "This campaign has been sent; its recipients cannot change.".into(),
        ));
    }
    let choice = Choice::from_form(&form)?;
    let for_add = campaign.clone();
    let (added, blocked) = state
        .db(move |conn| -> diesel::QueryResult<_> {
            let added = match &choice {
                Choice::Ticked(ids) => campaigns::add_recipients(conn, &for_add, ids)?,
                Choice::AllMatching(search) => campaigns::add_matching(conn, &for_add, search)?,
            };
            let suppressed = opt_outs::broadest_for_contacts(conn, &added)?;
            let ids: Vec<ContactId> = suppressed.keys().copied().collect();
            let emails = crate::db::contacts::emails(conn, &ids)?;
            let mut blocked: Vec<(String, String)> = suppressed
                .iter()
                .filter_map(|(id, level)| Some((emails.get(id)?.clone(), badge(*level))))
                .collect();
            blocked.sort();
            Ok((added, blocked))
        })
        .await?;
    let dialog = SuppressedDialog {
        added: added.len(),
        blocked,
    };
    let page = detail::render(
        &state,
        &signed_in,
        campaign,
        DetailQuery::default(),
        Some(dialog),
    )
    .await?;
    Ok(page.respond_to(&req).map_into_boxed_body())
}

enum Choice {
    Ticked(Vec<ContactId>),
    AllMatching(String),
}

impl Choice {
    /// `contact=ID` repeated for ticked boxes, or `all=1` with `q=SEARCH`.
    fn from_form(fields: &[(String, String)]) -> Result<Self, AppError> {
        let field = |name: &str| {
            fields
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
        };
        if field("all").is_some() {
            return Ok(Choice::AllMatching(
                field("q").unwrap_or_default().trim().to_owned(),
            ));
        }
        let ids = fields
            .iter()
            .filter(|(k, _)| k == "contact")
            .map(|(_, v)| v.parse::<i64>().map(ContactId))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| {
                AppError::BadRequest("The list of contacts was damaged. Try again.".into())
            })?;
        if ids.is_empty() {
            return Err(AppError::BadRequest(
                "Tick at least one contact, or add all that match the search.".into(),
            ));
        }
        if ids.len() > MAX_TICKED {
            return Err(AppError::BadRequest(format!(
                "Add at most {MAX_TICKED} contacts at once."
            )));
        }
        Ok(Choice::Ticked(ids))
    }
}
