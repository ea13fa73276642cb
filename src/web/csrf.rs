//! CSRF protection for every authenticated form: the session carries a random token, every
//! form returns it in a hidden `csrf_token` field, and [`ProtectedForm`] refuses a POST whose
//! token is missing or wrong (403, before the form is even parsed, so nothing changes).

use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::{FromRequest, HttpRequest, web};
use futures_util::future::LocalBoxFuture;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use subtle::ConstantTimeEq;

use super::errors::AppError;
use super::session::SignedIn;

/// The signed-in person and their form, delivered only when the CSRF token matched.
pub struct ProtectedForm<T> {
    pub signed_in: SignedIn,
    pub form: T,
}

/// For forms with no fields besides the token (sign out, …).
#[derive(Deserialize)]
pub struct NoFields {}

#[derive(Deserialize)]
struct CsrfField {
    csrf_token: Option<String>,
}

/// Compares in constant time so the token cannot be guessed byte by byte from timings.
pub fn tokens_match(submitted: Option<&str>, expected: &str) -> bool {
    match submitted {
        Some(submitted) if !expected.is_empty() => {
            submitted.as_bytes().ct_eq(expected.as_bytes()).into()
        }
        _ => false,
    }
}

/// Reads a url-encoded body, telling an oversized body (413) from a broken one (400).
pub async fn read_form_body(
    req: &HttpRequest,
    payload: &mut Payload,
) -> Result<web::Bytes, AppError> {
    web::Bytes::from_request(req, payload).await.map_err(|e| {
        if e.as_response_error().status_code() == StatusCode::PAYLOAD_TOO_LARGE {
            AppError::PayloadTooLarge
        } else {
            AppError::BadRequest("The form could not be read. Please try again.".into())
        }
    })
}

/// Pulls `csrf_token` out of a url-encoded body; anything unreadable counts as no token.
pub fn submitted_token(body: &[u8]) -> Option<String> {
    serde_urlencoded::from_bytes::<CsrfField>(body)
        .ok()
        .and_then(|f| f.csrf_token)
}

/// Whether every name and value of a url-encoded body is UTF-8 once decoded. Our pages declare
/// UTF-8, so browsers never send anything else; serde_urlencoded would quietly turn other
/// bytes into U+FFFD, and a mangled address or reason must not be stored as evidence.
pub fn is_utf8_form(body: &[u8]) -> bool {
    body.split(|b| *b == b'&')
        .flat_map(|pair| pair.splitn(2, |b| *b == b'='))
        .all(|part| percent_encoding::percent_decode(part).decode_utf8().is_ok())
}

/// Parses the form itself, with a message a person can act on.
pub fn parse_form<T: DeserializeOwned>(body: &[u8]) -> Result<T, AppError> {
    if !is_utf8_form(body) {
        return Err(AppError::BadRequest(
            "The form held characters we could not read. Go back and type them again.".into(),
        ));
    }
    serde_urlencoded::from_bytes(body).map_err(|_| {
        AppError::BadRequest(
            "The form was incomplete or held a value we could not read. Go back and check it."
                .into(),
        )
    })
}

impl<T: DeserializeOwned + 'static> FromRequest for ProtectedForm<T> {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let mut payload = payload.take();
        Box::pin(async move {
            let signed_in = SignedIn::from_request(&req, &mut Payload::None).await?;
            let body = read_form_body(&req, &mut payload).await?;
            if !tokens_match(submitted_token(&body).as_deref(), signed_in.csrf_token()) {
                tracing::warn!(user = %signed_in.user_id(), "refused a POST with a missing or wrong CSRF token");
                return Err(AppError::CsrfRejected);
            }
            let form = parse_form(&body)?;
            Ok(ProtectedForm { signed_in, form })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_must_be_present_and_equal() {
        assert!(tokens_match(Some("abc"), "abc"));
        assert!(!tokens_match(Some("abd"), "abc"));
        assert!(!tokens_match(None, "abc"));
        assert!(!tokens_match(Some(""), ""));
    }

    #[test]
    fn finds_the_token_among_other_fields() {
        assert_eq!(
            submitted_token(b"note=hi&csrf_token=t0k&level=user").as_deref(),
            Some("t0k")
        );
        assert_eq!(submitted_token(b"note=hi"), None);
        assert_eq!(submitted_token(&[0xff, 0xfe]), None);
    }

    #[test]
    fn forms_must_decode_to_utf8() {
        assert!(is_utf8_form(b"name=Zo%C3%AB+M%C3%BCller&note=caf\xc3\xa9"));
        assert!(is_utf8_form(b""));
        assert!(!is_utf8_form(b"name=Zo%EB"));
        assert!(!is_utf8_form(b"na%FFme=x"));
        assert!(!is_utf8_form(b"name=\xff"));
        assert!(matches!(
            parse_form::<Vec<(String, String)>>(b"name=%C3%28"),
            Err(AppError::BadRequest(_))
        ));
    }
}
