//! Opting a contact out by hand: `GET /contacts/{id}/opt-out` asks for confirmation (with an
//! optional note), `POST` records it with its evidence. The menu links to the GET, so the step
//! works without JavaScript and a stray click changes nothing.

use actix_web::http::header;
use actix_web::{HttpResponse, get, post, web};
use askama::Template;
use askama_web::WebTemplate;
use serde::Deserialize;

use super::load_visible;
use super::view::{self, LevelChoice};
use crate::domain::rights::{self, Access};
use crate::domain::{ContactId, EmailAddress, Level};
use crate::service::Actor;
use crate::service::contacts::visible_contact;
use crate::service::manual_opt_out::{ManualOptOut, opt_out_by_hand};
use crate::web::csrf::ProtectedForm;
use crate::web::errors::AppError;
use crate::web::layout::{Area, Chrome};
use crate::web::session::SignedIn;
use crate::web::state::AppState;

#[derive(Deserialize)]
pub struct ConfirmQuery {
    level: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "contacts/opt_out.html")]
pub struct ConfirmPage {
    chrome: Chrome,
    id: i64,
    name: String,
    email: String,
    choices: Vec<LevelChoice>,
    selected: String,
}

#[get("/contacts/{id}/opt-out")]
pub async fn confirm(
    signed_in: SignedIn,
    path: web::Path<i64>,
    query: web::Query<ConfirmQuery>,
    state: web::Data<AppState>,
) -> Result<ConfirmPage, AppError> {
    let person = signed_in.person();
    let contact = load_visible(&state, &person, path.into_inner()).await?;
    let allowed = rights::manual_opt_out_levels(&person, &contact.owner);
    if allowed.is_empty() {
        return Err(forbidden(rights::may_opt_out(
            &person,
            &contact.owner,
            Level::User,
        )));
    }
    let selected = query
        .level
        .as_deref()
        .and_then(|l| l.parse::<Level>().ok())
        .filter(|l| allowed.contains(l))
        .unwrap_or(allowed[allowed.len() - 1]);
    Ok(ConfirmPage {
        chrome: Chrome::signed_in(&signed_in.account, signed_in.csrf_token(), Area::Contacts),
        id: contact.id.0,
        name: contact.name.clone(),
        email: EmailAddress::to_unicode_display(&contact.email),
        choices: view::level_choices(&contact, &allowed),
        selected: selected.as_str().to_owned(),
    })
}

#[derive(Deserialize)]
pub struct OptOutForm {
    level: String,
    #[serde(default)]
    note: String,
}

#[post("/contacts/{id}/opt-out")]
pub async fn submit(
    submitted: ProtectedForm<OptOutForm>,
    path: web::Path<i64>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let ProtectedForm { signed_in, form } = submitted;
    let actor = Actor::signed_in(signed_in.person());
    let contact = ContactId(path.into_inner());
    let Ok(level) = form.level.parse::<Level>() else {
        // An unseen contact stays "not found" whatever the form says.
        visible_contact(&state.services, &actor, contact).await?;
        return Err(AppError::BadRequest(
            "Choose the level to opt this contact out at.".into(),
        ));
    };
    let asked = ManualOptOut {
        contact,
        level,
        note: form.note,
    };
    let done = opt_out_by_hand(&state.services, &actor, asked).await?;
    let mut location = format!("/contacts/{}?opted_out={level}", done.contact.id);
    if !done.recorded {
        location.push_str("&already=1");
    }
    Ok(HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .finish())
}

fn forbidden(access: Access) -> AppError {
    match access {
        Access::NotFound => AppError::NotFound,
        Access::Forbidden(reason) => AppError::Forbidden(reason.to_owned()),
        Access::Allowed => AppError::Forbidden("You cannot opt this contact out.".to_owned()),
    }
}
