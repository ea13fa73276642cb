//! Signed-in sessions: a signed token (purpose `session`) in an HttpOnly, SameSite=Lax cookie.
//!
//! Nothing is kept in process memory, so any instance can serve any request. The token expires
//! after the idle timeout and is re-issued on every authenticated request (sliding expiry),
//! never past the session's maximum age. It carries the user's session version: bumping the
//! version in the database ends every session of that user at once.

use actix_web::cookie::{Cookie, SameSite, time};
use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use futures_util::future::LocalBoxFuture;
use serde::{Deserialize, Serialize};
use std::time::Duration;

use super::errors::AppError;
use super::state::AppState;
use crate::config::Config;
use crate::db::accounts::{self, StaffAccount};
use crate::db::revoked_sessions;
use crate::domain::{Person, UserId};
use crate::tokens::Purpose;

pub const SESSION_COOKIE: &str = "optouts_session";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SessionClaims {
    /// The user's id.
    pub sub: i64,
    /// The user's session version when the session began.
    pub sv: i64,
    /// A fresh random id per sign-in.
    pub sid: String,
    /// The CSRF token every form of this session must return.
    pub csrf: String,
    /// When the person signed in (unix seconds): caps the sliding expiry.
    pub auth: i64,
}

impl SessionClaims {
    pub fn new(user: UserId, session_version: i64) -> anyhow::Result<Self> {
        Ok(Self {
            sub: user.0,
            sv: session_version,
            sid: random_token()?,
            csrf: random_token()?,
            auth: chrono::Utc::now().timestamp(),
        })
    }
}

/// 128 random bits, URL-safe.
pub fn random_token() -> anyhow::Result<String> {
    use base64::Engine;
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("no randomness available: {e}"))?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

/// The session cookie for `claims`, valid for the idle timeout or until the maximum age,
/// whichever comes first. `None` once the maximum age has passed.
pub fn session_cookie(config: &Config, claims: &SessionClaims) -> Option<Cookie<'static>> {
    let now = chrono::Utc::now().timestamp();
    let max_age = i64::try_from(config.session.max_age.as_secs()).unwrap_or(i64::MAX);
    let remaining = claims.auth.saturating_add(max_age) - now;
    if remaining <= 0 {
        return None;
    }
    let idle = config.session.idle_timeout.as_secs();
    let ttl = idle.min(u64::try_from(remaining).unwrap_or(0));
    let token = config
        .signing_keys
        .sign(Purpose::Session, claims, Duration::from_secs(ttl));
    // No Max-Age: a browser session cookie; the token's own expiry enforces the timeout.
    Some(base_cookie(config, token))
}

/// When the session ends at the latest, whatever happens: its maximum age.
pub fn latest_expiry(config: &Config, claims: &SessionClaims) -> chrono::NaiveDateTime {
    let max_age =
        chrono::Duration::from_std(config.session.max_age).unwrap_or(chrono::Duration::days(365));
    chrono::DateTime::from_timestamp(claims.auth, 0)
        .map(|signed_in_at| (signed_in_at + max_age).naive_utc())
        .unwrap_or_else(crate::db::now)
}

/// A cookie that makes the browser forget the session.
pub fn cleared_session_cookie(config: &Config) -> Cookie<'static> {
    let mut cookie = base_cookie(config, String::new());
    cookie.set_max_age(time::Duration::ZERO);
    cookie
}

fn base_cookie(config: &Config, value: String) -> Cookie<'static> {
    Cookie::build(SESSION_COOKIE, value)
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(config.served_over_https())
        .finish()
}

/// The signed-in person, extracted from the session cookie. Handlers that take it answer a
/// redirect to the sign-in page when there is no valid session.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub account: StaffAccount,
    pub claims: SessionClaims,
}

impl SignedIn {
    pub fn user_id(&self) -> UserId {
        self.account.user.id
    }

    pub fn csrf_token(&self) -> &str {
        &self.claims.csrf
    }

    /// The signed-in person as the rights functions see them.
    pub fn person(&self) -> Person {
        self.account.user.person()
    }
}

/// The re-issued cookie, waiting for `middleware::session_refresh` to add it to the response.
#[derive(Clone)]
pub(in crate::web) struct RefreshedCookie(pub(in crate::web) Cookie<'static>);

impl FromRequest for SignedIn {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            if let Some(known) = req.extensions().get::<SignedIn>() {
                return Ok(known.clone());
            }
            let state = req
                .app_data::<web::Data<AppState>>()
                .ok_or_else(|| AppError::internal(anyhow::anyhow!("AppState missing")))?
                .clone();
            let cookie = req.cookie(SESSION_COOKIE);
            let sign_in_required = || AppError::SignInRequired {
                next: (req.method() == actix_web::http::Method::GET)
                    .then(|| req.uri().path_and_query().map(|p| p.to_string()))
                    .flatten(),
                expired: cookie.as_ref().is_some_and(|c| !c.value().is_empty()),
            };
            let claims: SessionClaims = cookie
                .as_ref()
                .and_then(|c| {
                    state
                        .config
                        .signing_keys
                        .verify(Purpose::Session, c.value())
                        .ok()
                })
                .ok_or_else(sign_in_required)?;
            let user_id = UserId(claims.sub);
            let session_id = claims.sid.clone();
            let (account, revoked) = state
                .db(move |conn| -> diesel::QueryResult<_> {
                    let account = accounts::find_account(conn, user_id)?;
                    Ok((account, revoked_sessions::is_revoked(conn, &session_id)?))
                })
                .await?;
            let account = account.ok_or_else(sign_in_required)?;
            if revoked || account.user.session_version != claims.sv {
                return Err(sign_in_required());
            }
            let refreshed = session_cookie(&state.config, &claims).ok_or_else(sign_in_required)?;
            let signed_in = SignedIn { account, claims };
            let mut extensions = req.extensions_mut();
            extensions.insert(RefreshedCookie(refreshed));
            extensions.insert(signed_in.clone());
            Ok(signed_in)
        })
    }
}
