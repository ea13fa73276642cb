//! Account › Password: every signed-in person changes their own password. The current password
//! is checked like a sign-in (same throttle, so a stolen session cannot guess it), the new one
//! must meet the same rule as `optouts user add`, and the change ends every other session while
//! this one continues with a fresh cookie.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, Responder, get, post, web};
use askama::Template;
use askama_web::WebTemplate;
use secrecy::SecretString;
use serde::Deserialize;

use crate::passwords::MIN_PASSWORD_CHARS;
use crate::service::password_change::{ChangePassword, change_password};
use crate::service::{Actor, ServiceError};
use crate::web::csrf::ProtectedForm;
use crate::web::errors::AppError;
use crate::web::layout::{Area, Chrome};
use crate::web::session::{SessionClaims, SignedIn, session_cookie};
use crate::web::state::AppState;

#[derive(Template, WebTemplate)]
#[template(path = "account/password.html")]
pub struct PasswordPage {
    chrome: Chrome,
    min_chars: usize,
    error: Option<String>,
    notice: Option<&'static str>,
}

#[derive(Deserialize)]
pub struct PasswordQuery {
    changed: Option<String>,
}

#[derive(Deserialize)]
pub struct PasswordForm {
    current_password: String,
    new_password: String,
    new_password_again: String,
}

#[get("/account/password")]
async fn show(signed_in: SignedIn, query: web::Query<PasswordQuery>) -> PasswordPage {
    let notice = query
        .changed
        .is_some()
        .then_some("Your password has been changed. Every other session has been signed out.");
    page(&signed_in, None, notice)
}

fn page(signed_in: &SignedIn, error: Option<String>, notice: Option<&'static str>) -> PasswordPage {
    PasswordPage {
        chrome: Chrome::signed_in(&signed_in.account, signed_in.csrf_token(), Area::None),
        min_chars: MIN_PASSWORD_CHARS,
        error,
        notice,
    }
}

#[post("/account/password")]
async fn change(
    submitted: ProtectedForm<PasswordForm>,
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, AppError> {
    let ProtectedForm { signed_in, form } = submitted;
    let refuse = |message: String, status: StatusCode| {
        let mut response = page(&signed_in, Some(message), None)
            .respond_to(&req)
            .map_into_boxed_body();
        *response.status_mut() = status;
        response
    };
    let change = ChangePassword {
        email: signed_in.account.user.email.clone(),
        current_password: SecretString::from(form.current_password),
        new_password: SecretString::from(form.new_password),
        new_password_again: SecretString::from(form.new_password_again),
        client_address: crate::web::middleware::client_address::of(&req, &state.config),
    };
    let actor = Actor::signed_in(signed_in.person());
    match change_password(&state.services, &actor, change).await {
        Ok(changed) => {
            let claims = SessionClaims::new(signed_in.user_id(), changed.session_version)?;
            let cookie = session_cookie(&state.config, &claims)
                .ok_or_else(|| AppError::internal(anyhow::anyhow!("session max age is zero")))?;
            Ok(HttpResponse::SeeOther()
                .insert_header((header::LOCATION, "/account/password?changed=1"))
                .cookie(cookie)
                .finish())
        }
        Err(ServiceError::Throttled { retry_after_secs }) => {
            let minutes = retry_after_secs.div_ceil(60);
            let mut response = refuse(
                format!(
                    "Too many wrong passwords. For your security, please wait {minutes} minute{} and try again.",
                    if minutes == 1 { "" } else { "s" }
                ),
                StatusCode::TOO_MANY_REQUESTS,
            );
            response.headers_mut().insert(
                header::RETRY_AFTER,
                header::HeaderValue::from(retry_after_secs),
            );
            Ok(response)
        }
        // A weak new password, or a wrong current one: the form again, saying which.
        Err(ServiceError::Invalid(message) | ServiceError::Forbidden(message)) => {
            Ok(refuse(message, StatusCode::UNPROCESSABLE_ENTITY))
        }
        Err(other) => Err(other.into()),
    }
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(show).service(change);
}
