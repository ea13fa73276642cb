//! Sign in and sign out.

use actix_web::cookie::{Cookie, SameSite, time};
use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use askama::Template;
use secrecy::SecretString;
use serde::Deserialize;

use crate::db::{accounts, revoked_sessions};
use crate::service::ServiceError;
use crate::service::sign_in::{Outcome, SignIn, sign_in};
use crate::web::csrf::{
    NoFields, ProtectedForm, parse_form, read_form_body, submitted_token, tokens_match,
};
use crate::web::errors::AppError;
use crate::web::layout::Chrome;
use crate::web::session::{
    SessionClaims, cleared_session_cookie, latest_expiry, random_token, session_cookie,
};
use crate::web::state::AppState;

/// The sign-in form is not behind a session, so it gets its own CSRF token: a random value in a
/// short-lived cookie that the form must echo (double submit). It stops another site from
/// signing a browser into an account of the attacker's choosing.
const LOGIN_CSRF_COOKIE: &str = "optouts_login_csrf";

#[derive(Template)]
#[template(path = "auth/login.html")]
struct LoginPage {
    chrome: Chrome,
    csrf_token: String,
    email: String,
    next: String,
    error: Option<String>,
    notice: Option<&'static str>,
}

#[derive(Deserialize)]
struct LoginQuery {
    next: Option<String>,
    expired: Option<String>,
    signed_out: Option<String>,
}

#[derive(Deserialize)]
struct LoginForm {
    email: String,
    password: String,
    next: Option<String>,
}

#[get("/login")]
async fn login_page(
    query: web::Query<LoginQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let notice = match (&query.expired, query.signed_out.as_deref()) {
        (Some(_), _) => Some("Your session has ended. Please sign in again."),
        (_, Some("everywhere")) => Some("You have been signed out on every device."),
        (_, Some(_)) => Some("You have signed out."),
        _ => None,
    };
    let csrf_token = random_token()?;
    let page = LoginPage {
        chrome: Chrome::anonymous(),
        csrf_token: csrf_token.clone(),
        email: String::new(),
        next: safe_next(query.next.as_deref()).to_owned(),
        error: None,
        notice,
    };
    render_login(
        &page,
        StatusCode::OK,
        Some(login_csrf_cookie(&state, csrf_token)),
    )
}

#[post("/login")]
async fn login_submit(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let body = read_form_body(&req, &mut payload.into_inner()).await?;
    let expected = req.cookie(LOGIN_CSRF_COOKIE).map(|c| c.value().to_owned());
    if !tokens_match(
        submitted_token(&body).as_deref(),
        expected.as_deref().unwrap_or(""),
    ) {
        return Err(AppError::CsrfRejected);
    }
    let form: LoginForm = parse_form(&body)?;
    let next = safe_next(form.next.as_deref()).to_owned();
    let client_address = crate::web::middleware::client_address::of(&req, &state.config);
    let attempt = SignIn {
        email: form.email.clone(),
        password: SecretString::from(form.password),
        client_address,
    };
    let outcome = sign_in(&state.services, attempt).await;

    let retry_page = |error: String, status: StatusCode| -> Result<HttpResponse, AppError> {
        let csrf_token = random_token()?;
        let page = LoginPage {
            chrome: Chrome::anonymous(),
            csrf_token: csrf_token.clone(),
            email: form.email.clone(),
            next: next.clone(),
            error: Some(error),
            notice: None,
        };
        render_login(&page, status, Some(login_csrf_cookie(&state, csrf_token)))
    };
    match outcome {
        Ok(Outcome::SignedIn(user)) => {
            let claims = SessionClaims::new(user.id, user.session_version)?;
            let cookie = session_cookie(&state.config, &claims)
                .ok_or_else(|| AppError::internal(anyhow::anyhow!("session max age is zero")))?;
            tracing::info!(user = %user.id, "signed in");
            Ok(HttpResponse::SeeOther()
                .insert_header((header::LOCATION, next))
                .cookie(cookie)
                .cookie(expired_login_csrf_cookie())
                .finish())
        }
        Ok(Outcome::Refused) => retry_page(
            "That email address and password do not match an account. Check both and try again."
                .into(),
            StatusCode::UNAUTHORIZED,
        ),
        Err(ServiceError::Throttled { retry_after_secs }) => {
            let minutes = retry_after_secs.div_ceil(60);
            let mut response = retry_page(
                format!(
                    "Too many failed sign-ins. For your security, please wait {minutes} minute{} and try again.",
                    if minutes == 1 { "" } else { "s" }
                ),
                StatusCode::TOO_MANY_REQUESTS,
            )?;
            response.headers_mut().insert(
                header::RETRY_AFTER,
                header::HeaderValue::from(retry_after_secs),
            );
            Ok(response)
        }
        Err(other) => Err(other.into()),
    }
}

/// Ends this session: the browser forgets the cookie, and the server refuses the token from
/// now on even if a copy of it turns up.
#[post("/logout")]
async fn logout(
    submitted: ProtectedForm<NoFields>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let claims = &submitted.signed_in.claims;
    let session_id = claims.sid.clone();
    let expires_at = latest_expiry(&state.config, claims);
    state
        .db(move |conn| revoked_sessions::revoke(conn, &session_id, expires_at))
        .await?;
    tracing::info!(user = %submitted.signed_in.user_id(), "signed out");
    Ok(HttpResponse::SeeOther()
        .insert_header((header::LOCATION, "/login?signed_out=1"))
        .cookie(cleared_session_cookie(&state.config))
        .finish())
}

/// Ends every session of this person, on every device, by bumping their session version.
#[post("/logout/everywhere")]
async fn logout_everywhere(
    submitted: ProtectedForm<NoFields>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let user_id = submitted.signed_in.user_id();
    state
        .db(move |conn| accounts::bump_session_version(conn, user_id))
        .await?;
    tracing::info!(user = %user_id, "signed out everywhere");
    Ok(HttpResponse::SeeOther()
        .insert_header((header::LOCATION, "/login?signed_out=everywhere"))
        .cookie(cleared_session_cookie(&state.config))
        .finish())
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(login_page)
        .service(login_submit)
        .service(logout)
        .service(logout_everywhere);
}

fn render_login(
    page: &LoginPage,
    status: StatusCode,
    cookie: Option<Cookie<'static>>,
) -> Result<HttpResponse, AppError> {
    let html = page.render().map_err(AppError::internal)?;
    let mut response = HttpResponse::build(status);
    response.content_type("text/html; charset=utf-8");
    if let Some(cookie) = cookie {
        response.cookie(cookie);
    }
    Ok(response.body(html))
}

fn login_csrf_cookie(state: &AppState, value: String) -> Cookie<'static> {
    Cookie::build(LOGIN_CSRF_COOKIE, value)
        .path("/login")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(state.config.served_over_https())
        .max_age(time::Duration::hours(1))
        .finish()
}

fn expired_login_csrf_cookie() -> Cookie<'static> {
    let mut cookie = Cookie::build(LOGIN_CSRF_COOKIE, "").path("/login").finish();
    cookie.set_max_age(time::Duration::ZERO);
    cookie
}

/// Only a path on this site: never `//evil.example` or `https://…` (no open redirect). Browsers
/// drop tabs and line breaks from a `Location` and read `\` as `/`, so `/\t/evil.example`
/// would leave the site: a path with a control character, a backslash or `//` — as given or
/// once more percent-decoded — goes to the start page. What is left is also a valid header.
fn safe_next(next: Option<&str>) -> &str {
    let Some(path) = next else {
        return "/";
    };
    let unsafe_here =
        |text: &str| text.chars().any(|c| c.is_control() || c == '\\') || text.contains("//");
    let decoded = percent_encoding::percent_decode_str(path).decode_utf8_lossy();
    if !path.starts_with('/') || unsafe_here(path) || unsafe_here(&decoded) {
        return "/";
    }
    path
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn next_stays_on_this_site() {
        assert_eq!(safe_next(Some("/contacts?q=a")), "/contacts?q=a");
        assert_eq!(safe_next(Some("//evil.example")), "/");
        assert_eq!(safe_next(Some("https://evil.example")), "/");
        assert_eq!(safe_next(Some("/\\evil.example")), "/");
        assert_eq!(safe_next(None), "/");
        for sneaky in [
            "/\t/evil.example",
            "/%09/evil.example",
            "/\r\n/evil.example",
            "/%0d%0a/evil.example",
            "/a/\\evil",
            "/a%5c%5cevil",
            "/%2F%2Fevil.example",
            "/contacts\u{7f}",
            "/x\u{85}y",
            "",
            "contacts",
        ] {
            assert_eq!(safe_next(Some(sneaky)), "/", "{sneaky:?}");
        }
        assert_eq!(
            safe_next(Some("/contacts?q=m%C3%BCller")),
            "/contacts?q=m%C3%BCller"
        );
    }
}
