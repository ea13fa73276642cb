//! `POST /campaigns/{id}/recipients`: add ticked contacts, or every contact matching a search.
//! The answer is a redirect to the campaign page naming the batch just added (`?added=…`),
//! where a dialog says how many were added and lists those opted out for this sender with
//! the level that suppresses each; they stay on the list struck through and are never sent
//! to. A reload shows the page again and adds nothing.

use actix_web::http::header;
use actix_web::{HttpResponse, post, web};

use super::{load_visible, require_owner};
use crate::db::campaigns;
use crate::domain::ContactId;
use crate::web::csrf::ProtectedForm;
use crate::web::errors::AppError;
use crate::web::search::search_term;
use crate::web::state::AppState;

/// Most contacts one submission may tick (the picker shows 50).
const MAX_TICKED: usize = 1000;

#[post("/campaigns/{id}/recipients")]
pub async fn add(
    submitted: ProtectedForm<Vec<(String, String)>>,
    path: web::Path<i64>,
    state: web::Data<AppState>,
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
    let id = campaign.id;
    let added = state
        .db(move |conn| match &choice {
            Choice::Ticked(ids) => campaigns::add_recipients(conn, &campaign, ids),
            Choice::AllMatching(search) => campaigns::add_matching(conn, &campaign, search),
        })
        .await?;
    tracing::info!(campaign = %id, added = added.contacts.len(), "recipients added");
    let batch = if added.contacts.is_empty() {
        super::detail::NOTHING_ADDED.to_owned()
    } else {
        super::detail::batch_name(&added.at)
    };
    Ok(HttpResponse::SeeOther()
        .insert_header((header::LOCATION, format!("/campaigns/{id}?added={batch}")))
        .finish())
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
            return Ok(Choice::AllMatching(search_term(field("q"))?));
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
