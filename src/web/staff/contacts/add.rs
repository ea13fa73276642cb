//! `POST /contacts`: add a contact to the signed-in sender's list.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, Responder, post, web};
use serde::Deserialize;

use super::list::{self, AddForm};
use crate::db::contacts::{self, NewContact};
use crate::domain::{EmailAddress, rights};
use crate::web::csrf::ProtectedForm;
use crate::web::errors::AppError;
use crate::web::state::AppState;

const MAX_NAME_CHARS: usize = 200;

#[derive(Deserialize)]
pub struct AddContactForm {
    email: String,
    #[serde(default)]
    name: String,
}

#[post("/contacts")]
pub async fn add(
    submitted: ProtectedForm<AddContactForm>,
    state: web::Data<AppState>,
    req: actix_web::HttpRequest,
) -> Result<HttpResponse, AppError> {
    let ProtectedForm { signed_in, form } = submitted;
    let person = signed_in.person();
    let sender = match person.as_sender() {
        Some(sender) if rights::may_add_contacts(&person) => sender,
        _ => {
            return Err(AppError::Forbidden(
                "Only people who send campaigns keep contacts. Your account does not belong to a client.".into(),
            ));
        }
    };
    let name = form.name.trim().to_owned();
    let refuse = |error: String, status: StatusCode| {
        let add_form = AddForm {
            email: form.email.clone(),
            name: name.clone(),
            error: Some(error),
        };
        (add_form, status)
    };
    let outcome = match EmailAddress::parse(&form.email) {
        Err(invalid) => Err(refuse(
            invalid.to_string(),
            StatusCode::UNPROCESSABLE_ENTITY,
        )),
        Ok(_) if name.chars().count() > MAX_NAME_CHARS => Err(refuse(
            format!("The name can be at most {MAX_NAME_CHARS} characters long."),
            StatusCode::UNPROCESSABLE_ENTITY,
        )),
        Ok(email) => {
            let stored_name = name.clone();
            let address = email.clone();
            let added = state
                .db(move |conn| {
                    contacts::insert_if_absent(
                        conn,
                        &NewContact {
                            owner_user_id: sender.user_id,
                            client_id: sender.client_id,
                            group_id: sender.group_id,
                            email: &address,
                            name: &stored_name,
                        },
                    )
                })
                .await?;
            added.ok_or_else(|| {
                refuse(
                    format!("You already have a contact with the address {email}."),
                    StatusCode::CONFLICT,
                )
            })
        }
    };
    match outcome {
        Ok(id) => {
            tracing::info!(contact = %id, "contact added");
            Ok(HttpResponse::SeeOther()
                .insert_header((header::LOCATION, format!("/contacts/{id}?added=1")))
                .finish())
        }
        Err((add_form, status)) => {
            let page = list::render(&state, &signed_in, String::new(), None, add_form).await?;
            let mut response = page.respond_to(&req).map_into_boxed_body();
            *response.status_mut() = status;
            Ok(response)
        }
    }
}
