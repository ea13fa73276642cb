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

use crate::db::accounts;
use crate::passwords::{self, MIN_PASSWORD_CHARS};
use crate::service::sign_in::Outcome;
use crate::web::csrf::ProtectedForm;
use crate::web::errors::AppError;
use crate::web::layout::{Area, Chrome};
use crate::web::session::{SessionClaims, SignedIn, session_cookie};
use crate::web::staff::password_check::check_password;
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

/// What is wrong with the new password on its own, before the current one is checked: these
/// mistakes cost no password check and count as no failed attempt.
fn new_password_problem(form: &PasswordForm) -> Option<String> {
    if form.new_password != form.new_password_again {
        return Some("The two new passwords do not match. Type the same password twice.".into());
    }
    if let Err(weak) = passwords::check_strength(&SecretString::from(form.new_password.clone())) {
        return Some(weak.to_string());
    }
    if form.new_password == form.current_password {
        return Some("The new password must differ from the current one.".into());
    }
    None
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
    if let Some(problem) = new_password_problem(&form) {
        return Ok(refuse(problem, StatusCode::UNPROCESSABLE_ENTITY));
    }
    let user_id = signed_in.user_id();
    let email = signed_in.account.user.email.clone();
    let client_address = crate::web::middleware::client_address::of(&req, &state.config);
    let current = SecretString::from(form.current_password);
    let new = SecretString::from(form.new_password);
    // The current password is checked exactly like a sign-in, so failures here count towards
    // the same throttle and a guessed-at account is slowed the same way.
    let outcome = match check_password(&state, email, current, client_address).await? {
        // The address is the signed-in person's own; anything else is refused.
        Outcome::SignedIn(user) if user.id == user_id => {
            let hash = state
                .passwords
                .hash(new)
                .await
                .map_err(|busy| AppError::Busy(busy.to_string()))??;
            Ok(state
                .db(move |conn| accounts::change_password(conn, user_id, &hash))
                .await?)
        }
        Outcome::SignedIn(_) => Err(Outcome::Refused),
        refused => Err(refused),
    };
    match outcome {
        Ok(session_version) => {
            let claims = SessionClaims::new(user_id, session_version)?;
            let cookie = session_cookie(&state.config, &claims)
                .ok_or_else(|| AppError::internal(anyhow::anyhow!("session max age is zero")))?;
            tracing::info!(user = %user_id, "password changed; other sessions ended");
            Ok(HttpResponse::SeeOther()
                .insert_header((header::LOCATION, "/account/password?changed=1"))
                .cookie(cookie)
                .finish())
        }
        Err(Outcome::Throttled { retry_after_secs }) => {
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
        Err(_) => {
            tracing::info!(user = %user_id, "password change refused: wrong current password");
            Ok(refuse(
                "The current password is not right. Nothing was changed.".into(),
                StatusCode::UNPROCESSABLE_ENTITY,
            ))
        }
    }
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(show).service(change);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(current: &str, new: &str, again: &str) -> PasswordForm {
        PasswordForm {
            current_password: current.into(),
            new_password: new.into(),
            new_password_again: again.into(),
        }
    }

    #[test]
    fn the_new_password_is_checked_before_the_current_one() {
        let long = "a long new password";
        assert!(new_password_problem(&form("old password!", long, long)).is_none());
        assert!(
            new_password_problem(&form("x", long, "a long new passwort"))
                .unwrap()
                .contains("do not match")
        );
        assert!(
            new_password_problem(&form("x", "short", "short"))
                .unwrap()
                .contains(&MIN_PASSWORD_CHARS.to_string())
        );
        assert!(
            new_password_problem(&form(long, long, long))
                .unwrap()
                .contains("differ")
        );
    }
}
