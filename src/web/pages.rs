//! The start page and the areas that later issues build out. Each placeholder already enforces
//! who may reach it (404 for everyone else) and says plainly that it is not built yet.

use actix_web::http::header;
use actix_web::{HttpResponse, get, web};
use askama::Template;
use askama_web::WebTemplate;

use super::errors::AppError;
use super::layout::{Area, Chrome};
use super::session::SignedIn;
use crate::domain::Role;

#[derive(Template, WebTemplate)]
#[template(path = "pages/placeholder.html")]
struct PlaceholderPage {
    chrome: Chrome,
    title: &'static str,
    breadcrumb: &'static str,
    summary: &'static str,
    coming: &'static str,
}

/// Signed in: the person's main area. Otherwise: the sign-in page.
#[get("/")]
async fn home(signed_in: Option<SignedIn>) -> HttpResponse {
    let target = match signed_in.map(|s| s.account.user.role) {
        Some(Role::Support) => "/support",
        Some(_) => "/contacts",
        None => "/login",
    };
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, target))
        .finish()
}

struct Placeholder {
    area: Area,
    allowed: &'static [Role],
    title: &'static str,
    breadcrumb: &'static str,
    summary: &'static str,
    coming: &'static str,
}

fn render(signed_in: &SignedIn, page: Placeholder) -> Result<PlaceholderPage, AppError> {
    if !page.allowed.contains(&signed_in.account.user.role) {
        return Err(AppError::NotFound);
    }
    Ok(PlaceholderPage {
        chrome: Chrome::signed_in(&signed_in.account, signed_in.csrf_token(), page.area),
        title: page.title,
        breadcrumb: page.breadcrumb,
        summary: page.summary,
        coming: page.coming,
    })
}

#[get("/admin/activity/opt-outs")]
async fn activity_opt_outs(signed_in: SignedIn) -> Result<PlaceholderPage, AppError> {
    render(
        &signed_in,
        Placeholder {
            area: Area::ActivityOptOuts,
            allowed: &[Role::ClientAdmin, Role::GroupAdmin, Role::Support],
            title: "Opt outs",
            breadcrumb: "Admin › Activity › Opt outs",
            summary: "Every opt-out you may see, at group, client and user level.",
            coming: "the filtered list, CSV export and import.",
        },
    )
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(home).service(activity_opt_outs);
}
