//! `GET /contacts/{id}`: the contact, its effective status, "Why is this contact suppressed?"
//! and its consent history, newest first.

use actix_web::{get, web};
use askama::Template;
use askama_web::WebTemplate;
use serde::Deserialize;

use super::load_visible;
use super::view::{self, EventView, LevelChoice, OptInOffer, ReasonView};
use crate::db::{consent_events, opt_outs};
use crate::domain::{EmailAddress, Level, rights};
use crate::web::errors::AppError;
use crate::web::layout::{Area, Chrome};
use crate::web::session::SignedIn;
use crate::web::state::AppState;

/// The history shown on the page; older events stay in the database (and the export).
const HISTORY_LIMIT: i64 = 100;

#[derive(Deserialize)]
pub struct DetailQuery {
    added: Option<String>,
    opted_out: Option<String>,
    already: Option<String>,
    requested: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "contacts/detail.html")]
pub struct DetailPage {
    chrome: Chrome,
    id: i64,
    name: String,
    email: String,
    owner: String,
    status: String,
    badge: Option<String>,
    reasons: Vec<ReasonView>,
    history: Vec<EventView>,
    history_truncated: bool,
    choices: Vec<LevelChoice>,
    opt_in: Option<OptInOffer>,
    notice: Option<String>,
}

#[get("/contacts/{id}")]
pub async fn detail(
    signed_in: SignedIn,
    path: web::Path<i64>,
    query: web::Query<DetailQuery>,
    state: web::Data<AppState>,
) -> Result<DetailPage, AppError> {
    let person = signed_in.person();
    let contact = load_visible(&state, &person, path.into_inner()).await?;
    let (email, owner) = (contact.email.clone(), contact.owner);
    let (applying, history, last_request) = state
        .db(move |conn| -> diesel::QueryResult<_> {
            let requests =
                consent_events::last_opt_in_requests(conn, &owner, std::slice::from_ref(&email))?;
            Ok((
                opt_outs::applying_to(conn, &email, &owner)?,
                consent_events::history_for(conn, &email, &owner, HISTORY_LIMIT + 1)?,
                requests.into_values().next(),
            ))
        })
        .await?;
    let broadest = applying.first().map(|o| o.opt_out.scope.level());
    let allowed = rights::manual_opt_out_levels(&person, &contact.owner);
    let status = match broadest {
        Some(level) => format!("Does not receive {}.", view::what_stops(&contact, level)),
        None => format!("Receives emails from {}.", contact.owner_name),
    };
    let notice = notice(&query, &contact);
    let history_truncated = history.len() > HISTORY_LIMIT as usize;
    Ok(DetailPage {
        chrome: Chrome::signed_in(&signed_in.account, signed_in.csrf_token(), Area::Contacts),
        id: contact.id.0,
        name: contact.name.clone(),
        email: EmailAddress::to_unicode_display(&contact.email),
        owner: format!(
            "{} · {} · {}",
            contact.owner_name, contact.client_name, contact.group_name
        ),
        status,
        badge: broadest.map(view::badge),
        reasons: applying
            .iter()
            .map(|o| view::reason_view(&contact, o))
            .collect(),
        history: history
            .iter()
            .take(HISTORY_LIMIT as usize)
            .map(|e| view::event_view(&contact, e))
            .collect(),
        history_truncated,
        choices: view::level_choices(&contact, &view::offered_levels(&allowed, broadest)),
        opt_in: view::opt_in_offer(
            rights::may_request_opt_in(&person, &contact.owner) == rights::Access::Allowed,
            broadest,
            last_request.as_ref(),
        ),
        notice,
    })
}

fn notice(query: &DetailQuery, contact: &crate::db::contacts::Contact) -> Option<String> {
    if query.added.is_some() {
        return Some("Contact added.".to_owned());
    }
    if query.requested.is_some() {
        return Some(format!(
            "An opt-in request has been emailed to {}. Their opt-outs are lifted only if they confirm.",
            EmailAddress::to_unicode_display(&contact.email)
        ));
    }
    let level: Level = query.opted_out.as_deref()?.parse().ok()?;
    let what = view::what_stops(contact, level);
    Some(if query.already.is_some() {
        format!("This contact was already opted out of {what}; nothing changed.")
    } else {
        format!("Opted out: this contact will no longer receive {what}.")
    })
}
