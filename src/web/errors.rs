//! One error type for handlers, rendered as a real HTML page with the right status. Internal
//! error text is logged, never shown.

use actix_web::body::{BoxBody, EitherBody, MessageBody};
use actix_web::dev::ServiceResponse;
use actix_web::http::{StatusCode, header};
use actix_web::middleware::ErrorHandlerResponse;
use actix_web::{HttpResponse, ResponseError};
use askama::Template;

use super::layout::Chrome;
use crate::service::ServiceError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The input was wrong; the message says how, in words for the person.
    #[error("bad request: {0}")]
    BadRequest(String),
    /// No valid session: send the person to the sign-in page, and back here afterwards.
    #[error("sign-in required")]
    SignInRequired {
        /// The page to return to after signing in (GET requests only).
        next: Option<String>,
        /// A session cookie came with the request: it has ended (timed out, signed out).
        expired: bool,
    },
    /// Inside the person's scope but above their rights; the message says what is missing.
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// A POST without the right CSRF token.
    #[error("CSRF token missing or wrong")]
    CsrfRejected,
    /// Missing, or outside the person's scope (404, so ids do not leak).
    #[error("not found")]
    NotFound,
    /// A body over the size limit.
    #[error("payload too large")]
    PayloadTooLarge,
    /// A body in an encoding the endpoint does not read (not a form).
    #[error("unsupported media type")]
    UnsupportedMediaType,
    #[error("too many requests")]
    TooManyRequests {
        retry_after_secs: u64,
        message: String,
    },
    /// No database connection came free in time (the pool is exhausted): a short wait and a
    /// retry help, so 503 with `Retry-After`, not a 500.
    #[error("service busy: {0}")]
    Busy(String),
    /// Anything unexpected: logged in full, shown as a plain 500 page.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// How long a client is asked to wait when no database connection came free in time.
pub const BUSY_RETRY_AFTER_SECS: u64 = 5;

impl AppError {
    pub fn internal(error: impl Into<anyhow::Error>) -> Self {
        AppError::Internal(error.into())
    }
}

impl From<diesel::result::Error> for AppError {
    fn from(error: diesel::result::Error) -> Self {
        match error {
            diesel::result::Error::NotFound => AppError::NotFound,
            other => AppError::Internal(other.into()),
        }
    }
}

impl From<ServiceError> for AppError {
    fn from(error: ServiceError) -> Self {
        match error {
            ServiceError::NotFound => AppError::NotFound,
            ServiceError::Forbidden(reason) => AppError::Forbidden(reason),
            ServiceError::Invalid(message) => AppError::BadRequest(message),
            ServiceError::Throttled { retry_after_secs } => AppError::TooManyRequests {
                retry_after_secs,
                message: "Too many attempts. Wait a little and try again.".into(),
            },
            ServiceError::Busy(what) => AppError::Busy(what),
            ServiceError::Internal(error) => AppError::Internal(error),
        }
    }
}

#[derive(Template)]
#[template(path = "errors/error.html")]
pub struct ErrorPage<'a> {
    pub chrome: Chrome,
    pub status: u16,
    pub title: &'a str,
    pub message: &'a str,
}

impl ErrorPage<'_> {
    pub fn render_response(&self) -> HttpResponse {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        match self.render() {
            Ok(html) => HttpResponse::build(status)
                .content_type("text/html; charset=utf-8")
                .body(html),
            Err(e) => {
                tracing::error!(error = %e, "error page template failed");
                HttpResponse::build(status)
                    .content_type("text/plain; charset=utf-8")
                    .body(self.title.to_owned())
            }
        }
    }
}

fn sign_in_location(next: Option<&str>, expired: bool) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    if let Some(next) = next {
        query.append_pair("next", next);
    }
    if expired {
        query.append_pair("expired", "1");
    }
    let query = query.finish();
    if query.is_empty() {
        "/login".to_owned()
    } else {
        format!("/login?{query}")
    }
}

/// Title and message shown for a status when there is nothing more specific to say.
pub fn generic_text(status: StatusCode) -> (&'static str, &'static str) {
    match status.as_u16() {
        400 => (
            "That request could not be understood",
            "Something in the form or the address was not as expected. Go back, check it and try again.",
        ),
        401 | 403 => (
            "You cannot do that",
            "Your account does not have the rights for this action. Ask an admin of your group if you need it.",
        ),
        404 => (
            "Page not found",
            "There is nothing here, or it is not yours to see. Check the address, or go back to the start page.",
        ),
        405 => (
            "That action is not available here",
            "This address does not accept that kind of request. Go back and use the page's buttons.",
        ),
        413 => (
            "That was too large",
            "The form or file you sent is larger than we accept. Send a smaller one.",
        ),
        415 => (
            "That could not be read",
            "This address accepts web forms only. Go back and use the page's buttons.",
        ),
        429 => (
            "Too many attempts",
            "Please wait a little before trying again.",
        ),
        503 => (
            "Temporarily unavailable",
            "The service cannot reach its database right now. Please try again in a minute.",
        ),
        _ => (
            "Something went wrong on our side",
            "The error has been logged. Please try again; if it keeps happening, tell support.",
        ),
    }
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::SignInRequired { .. } => StatusCode::SEE_OTHER,
            AppError::Forbidden(_) | AppError::CsrfRejected => StatusCode::FORBIDDEN,
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            AppError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::Busy(_) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        let (generic_title, generic_message) = generic_text(status);
        let mut response = match self {
            AppError::SignInRequired { next, expired } => {
                return HttpResponse::SeeOther()
                    .insert_header((header::LOCATION, sign_in_location(next.as_deref(), *expired)))
                    .finish();
            }
            AppError::BadRequest(message) | AppError::Forbidden(message) => ErrorPage {
                chrome: Chrome::anonymous(),
                status: status.as_u16(),
                title: generic_title,
                message,
            }
            .render_response(),
            AppError::CsrfRejected => ErrorPage {
                chrome: Chrome::anonymous(),
                status: status.as_u16(),
                title: "This form has expired",
                message: "The form was open too long or did not come from this site, so nothing was changed. Go back, reload the page and try again.",
            }
            .render_response(),
            AppError::TooManyRequests { message, .. } => ErrorPage {
                chrome: Chrome::anonymous(),
                status: status.as_u16(),
                title: generic_title,
                message,
            }
            .render_response(),
            AppError::Internal(error) => {
                tracing::error!(error = format!("{error:#}"), "internal error");
                ErrorPage {
                    chrome: Chrome::anonymous(),
                    status: status.as_u16(),
                    title: generic_title,
                    message: generic_message,
                }
                .render_response()
            }
            AppError::Busy(error) => {
                tracing::warn!(%error, "refused while busy");
                ErrorPage {
                    chrome: Chrome::anonymous(),
                    status: status.as_u16(),
                    title: generic_title,
                    message: "The service is busy right now and did not change anything. Please try again in a few seconds.",
                }
                .render_response()
            }
            AppError::NotFound | AppError::PayloadTooLarge | AppError::UnsupportedMediaType => ErrorPage {
                chrome: Chrome::anonymous(),
                status: status.as_u16(),
                title: generic_title,
                message: generic_message,
            }
            .render_response(),
        };
        let retry_after = match self {
            AppError::TooManyRequests {
                retry_after_secs, ..
            } => Some(*retry_after_secs),
            AppError::Busy(_) => Some(BUSY_RETRY_AFTER_SECS),
            _ => None,
        };
        if let Some(seconds) = retry_after
            && let Ok(value) = header::HeaderValue::from_str(&seconds.to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        response
    }
}

/// For errors actix produces itself (unknown method, oversized or malformed body, a panic in
/// a handler): swaps a plain-text body for the HTML error page of the same status. Bodies that
/// are already HTML or JSON are left alone.
pub fn render_framework_error<B: MessageBody + 'static>(
    res: ServiceResponse<B>,
) -> actix_web::Result<ErrorHandlerResponse<B>> {
    let content_type = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !(content_type.is_empty() || content_type.starts_with("text/plain")) {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    }
    let status = res.status();
    if let Some(error) = res.response().error() {
        tracing::debug!(%status, error = %error, "framework error");
    }
    let (title, message) = generic_text(status);
    let page = ErrorPage {
        chrome: Chrome::anonymous(),
        status: status.as_u16(),
        title,
        message,
    }
    .render_response();
    let (req, original) = res.into_parts();
    let mut page = page;
    // Keep headers such as Allow (405) and Retry-After from the original response.
    for (name, value) in original.headers() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            page.headers_mut().insert(name.clone(), value.clone());
        }
    }
    let res = ServiceResponse::new(req, page).map_into_boxed_body();
    Ok(ErrorHandlerResponse::Response(res.map_into_right_body()))
}

/// Keeps the `EitherBody` type name out of `startup.rs`.
pub type FrameworkErrorBody<B> = EitherBody<B, BoxBody>;
