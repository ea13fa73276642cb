//! Sending asks first. `GET /campaigns/{id}/send` shows how many contacts will be sent the
//! campaign and how many opted-out ones will be skipped, with the form that sends; `POST
//! /campaigns/{id}/send` with `confirm=1` re-checks suppression at this moment and queues one
//! message per deliverable recipient. Without `confirm` it sends nothing and shows the
//! confirmation again (422). A second send does nothing.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, Responder, get, post, web};
use askama::Template;
use askama_web::WebTemplate;
use serde::Deserialize;

use super::{load_visible, require_owner};
use crate::db::campaigns::{self, Campaign};
use crate::service::Actor;
use crate::service::campaigns::send_campaign;
use crate::web::csrf::ProtectedForm;
use crate::web::errors::AppError;
use crate::web::layout::{Area, Chrome};
use crate::web::session::SignedIn;
use crate::web::state::AppState;

/// "Send to 12 contacts (3 opted out will be skipped)": the button and the question.
pub fn send_label(recipients: i64, suppressed: i64) -> String {
    let sendable = (recipients - suppressed).max(0);
    let mut label = format!(
        "Send to {sendable} contact{}",
        if sendable == 1 { "" } else { "s" }
    );
    if suppressed > 0 {
        label.push_str(&format!(" ({suppressed} opted out will be skipped)"));
    }
    label
}

#[derive(Template, WebTemplate)]
#[template(path = "campaigns/send.html")]
pub struct ConfirmPage {
    chrome: Chrome,
    id: i64,
    name: String,
    subject: String,
    from: String,
    recipients: i64,
    suppressed: i64,
    send_label: String,
    error: Option<&'static str>,
}

#[derive(Deserialize)]
pub struct SendForm {
    /// "1" from the confirmation page's form.
    #[serde(default)]
    confirm: Option<String>,
}

#[get("/campaigns/{id}/send")]
pub async fn confirm(
    signed_in: SignedIn,
    path: web::Path<i64>,
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, AppError> {
    let campaign = owned_campaign(&state, &signed_in, path.into_inner()).await?;
    if campaign.status != "draft" {
        return Ok(see_other(format!("/campaigns/{}", campaign.id)));
    }
    respond(
        &req,
        confirm_page(&state, &signed_in, campaign, None).await?,
        StatusCode::OK,
    )
}

#[post("/campaigns/{id}/send")]
pub async fn send(
    submitted: ProtectedForm<SendForm>,
    path: web::Path<i64>,
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, AppError> {
    let ProtectedForm { signed_in, form } = submitted;
    let campaign = owned_campaign(&state, &signed_in, path.into_inner()).await?;
    let id = campaign.id;
    let confirmed = form.confirm.as_deref() == Some("1");
    if !confirmed && campaign.status == "draft" {
        let error = "Nothing was sent: sending needs the confirmation on this page.";
        let page = confirm_page(&state, &signed_in, campaign, Some(error)).await?;
        return respond(&req, page, StatusCode::UNPROCESSABLE_ENTITY);
    }
    if !confirmed {
        return Ok(see_other(format!("/campaigns/{id}")));
    }
    let actor = Actor::signed_in(signed_in.person());
    send_campaign(&state.services, &actor, id).await?;
    Ok(see_other(format!("/campaigns/{id}?sent=1")))
}

/// The campaign, when the person sees it (404 otherwise) and owns it (403 otherwise).
async fn owned_campaign(
    state: &AppState,
    signed_in: &SignedIn,
    id: i64,
) -> Result<Campaign, AppError> {
    let person = signed_in.person();
    let campaign = load_visible(state, &person, id).await?;
    require_owner(&person, &campaign)?;
    Ok(campaign)
}

/// The question with today's counts; refused (400) when there is nobody to send to.
async fn confirm_page(
    state: &AppState,
    signed_in: &SignedIn,
    campaign: Campaign,
    error: Option<&'static str>,
) -> Result<ConfirmPage, AppError> {
    let for_counts = campaign.clone();
    let (recipients, suppressed) = state
        .db(move |conn| -> diesel::QueryResult<_> {
            Ok((
                campaigns::count_recipients(conn, for_counts.id)?,
                campaigns::count_suppressed_now(conn, &for_counts)?,
            ))
        })
        .await?;
    if recipients == 0 {
        return Err(AppError::BadRequest(
            "Add recipients before sending.".into(),
        ));
    }
    Ok(ConfirmPage {
        chrome: Chrome::signed_in(&signed_in.account, signed_in.csrf_token(), Area::Campaigns),
        id: campaign.id.0,
        name: campaign.name,
        subject: campaign.subject,
        from: campaign.from_name,
        recipients,
        suppressed,
        send_label: send_label(recipients, suppressed),
        error,
    })
}

fn respond(
    req: &HttpRequest,
    page: ConfirmPage,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let mut response = page.respond_to(req).map_into_boxed_body();
    *response.status_mut() = status;
    Ok(response)
}

fn see_other(location: String) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_label_counts_who_is_sent_and_who_is_skipped() {
        assert_eq!(
            send_label(15, 3),
            "Send to 12 contacts (3 opted out will be skipped)"
        );
        assert_eq!(send_label(1, 0), "Send to 1 contact");
        assert_eq!(
            send_label(2, 2),
            "Send to 0 contacts (2 opted out will be skipped)"
        );
    }
}
