//! HTTP: handlers (one module per area), middleware and error pages. Handlers parse input into
//! domain types, call db and mail functions, and render a template.

pub mod admin;
pub mod assets;
pub mod csrf;
pub mod errors;
pub mod health;
pub mod keyset;
pub mod layout;
pub mod middleware;
pub mod recipient;
pub mod search;
pub mod session;
pub mod staff;
pub mod state;

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
        .configure(recipient::routes)
        .configure(assets::routes)
        .configure(health::routes)
        .configure(staff::auth::routes)
        .configure(staff::account::routes)
        .configure(staff::contacts::routes)
        .configure(staff::campaigns::routes)
        .configure(admin::activity_emails::routes)
        .configure(admin::activity_opt_outs::routes)
        .configure(admin::settings::routes)
        .configure(admin::support::routes)
        .configure(staff::pages::routes);
}

/// Every unknown path: the HTML 404 page.
pub async fn not_found() -> Result<actix_web::HttpResponse, AppError> {
    Err(AppError::NotFound)
}
