//! HTTP: handlers (one module per area), middleware and error pages. Handlers parse input into
//! domain types, call db and mail functions, and render a template.

pub mod account;
pub mod activity_emails;
pub mod activity_opt_outs;
pub mod assets;
pub mod auth;
pub mod campaigns;
pub mod client_address;
pub mod contacts;
pub mod csrf;
pub mod errors;
pub mod evidence;
pub mod health;
pub mod keyset;
pub mod layout;
pub mod pages;
pub mod password_check;
pub mod preference_center;
pub mod request_log;
pub mod search;
pub mod security_headers;
pub mod session;
pub mod settings;
pub mod state;
pub mod support;

use actix_web::web;

pub use errors::AppError;
pub use state::AppState;

/// Bodies above this are refused with 413 (forms are small; imports get their own limit).
pub const FORM_BODY_LIMIT: usize = 64 * 1024;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.app_data(web::PayloadConfig::new(FORM_BODY_LIMIT))
        .app_data(web::FormConfig::default().limit(FORM_BODY_LIMIT))
        // First: recipients' links are most of the traffic (every mail scanner opens them), and
        // actix tries routes in order, matching each pattern in turn.
        .configure(preference_center::routes)
        .configure(assets::routes)
        .configure(health::routes)
        .configure(auth::routes)
        .configure(account::routes)
        .configure(contacts::routes)
        .configure(campaigns::routes)
        .configure(activity_emails::routes)
        .configure(activity_opt_outs::routes)
        .configure(settings::routes)
        .configure(support::routes)
        .configure(pages::routes);
}

/// Every unknown path: the HTML 404 page.
pub async fn not_found() -> Result<actix_web::HttpResponse, AppError> {
    Err(AppError::NotFound)
}
