//! What recipients reach from their emails, without signing in:
//!
//! - `GET|HEAD /u/{token}`: the Preference Center (changes nothing: mail scanners open links);
//! - `POST /u/{token}`: the form's choice, or an RFC 8058 one-click unsubscribe;
//! - `POST /u/{token}/undo`: "I changed my mind" right after opting out;
//! - `POST /u/{token}/resume`: resume one opt-out the recipient made (the manage page);
//! - `GET|HEAD /opt-in/{token}`, `POST /opt-in/{token}`: opting back in from the confirmation.
//!
//! A bad link (forged, damaged, expired, meant for something else, or naming a deleted email)
//! gets a friendly page that still says how to stop emails, and changes nothing.

mod body;
mod choices;
mod link;
mod opt_in;
mod page;
mod submit;

pub use choices::{ChoiceView, choice_views};

use actix_web::web;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/u/{token}")
            .route(web::get().to(page::show))
            .route(web::head().to(page::show))
            .route(web::post().to(submit::submit)),
    )
    .service(web::resource("/u/{token}/undo").route(web::post().to(submit::undo)))
    .service(web::resource("/u/{token}/resume").route(web::post().to(submit::resume)))
    .service(
        web::resource("/opt-in/{token}")
            .route(web::get().to(opt_in::show))
            .route(web::head().to(opt_in::show))
            .route(web::post().to(opt_in::confirm)),
    );
}
