//! The start page: each person lands in their main area.

use actix_web::http::header;
use actix_web::{HttpResponse, get, web};

use crate::domain::rights;
use crate::web::session::SignedIn;

/// Signed in: the person's main area. Otherwise: the sign-in page.
#[get("/")]
async fn home(signed_in: Option<SignedIn>) -> HttpResponse {
    let target = match signed_in.map(|s| s.person()) {
        // Support's work is lifting opt-outs on written consent.
        Some(person) if rights::may_lift_on_written_consent(&person) => "/support",
        Some(_) => "/contacts",
        None => "/login",
    };
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, target))
        .finish()
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(home);
}
