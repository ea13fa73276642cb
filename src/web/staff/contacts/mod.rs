//! Contacts: the list with struck-through opted-out contacts and a menu beside each, adding a
//! contact, the detail page ("why is this contact suppressed?" and the consent history), and
//! opting a contact out by hand.

mod add;
mod detail;
mod list;
mod opt_in_request;
mod opt_out;
mod view;

pub use view::{badge, when};

use actix_web::web;

use crate::db::contacts::Contact;
use crate::domain::{ContactId, Person};
use crate::service::Actor;
use crate::service::contacts::visible_contact;
use crate::web::errors::AppError;
use crate::web::state::AppState;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(list::list)
        .service(add::add)
        .service(detail::detail)
        .service(opt_out::confirm)
        .service(opt_out::submit)
        .service(opt_in_request::send);
}

/// The contact, when it exists and the person may see it; 404 otherwise (ids do not leak).
async fn load_visible(state: &AppState, person: &Person, id: i64) -> Result<Contact, AppError> {
    let actor = Actor::signed_in(*person);
    Ok(visible_contact(&state.services, &actor, ContactId(id)).await?)
}
