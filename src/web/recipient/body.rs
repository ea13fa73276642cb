//! Reading a recipient's POST body: url-encoded or multipart (RFC 8058 allows both; nothing
//! else is a form), at most [`BODY_LIMIT`] bytes in all — for multipart that counts the parts'
//! headers, names and boundaries as much as their values — and at most [`MAX_PARTS`] parts.
//! These endpoints take no cookie and no token: anyone may send them anything, so nothing is
//! read past the limit.

use actix_web::error::PayloadError;
use actix_web::http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use actix_web::web::Bytes;
use actix_web::{HttpRequest, web};
use futures_util::{Stream, StreamExt};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::web::errors::AppError;

/// A form or one-click body is tiny; anything bigger is not one.
pub const BODY_LIMIT: usize = 16 * 1024;

/// Our forms have at most four fields; a few more are tolerated (unknown fields are ignored).
pub const MAX_PARTS: usize = 16;

/// The body's fields. Over the limits: 413; not a form: 415; not readable or not UTF-8: 400.
pub async fn read_fields(
    req: &HttpRequest,
    payload: web::Payload,
) -> Result<Vec<(String, String)>, AppError> {
    // A declared length over the limit is refused before a byte is read.
    let declared = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|length| length > BODY_LIMIT as u64) {
        return Err(AppError::PayloadTooLarge);
    }
    let content_type = req
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    if content_type.starts_with("multipart/form-data") {
        return read_multipart(req, payload).await;
    }
    let body = read_all(payload).await?;
    // A bare POST with no body (and so no type) is an empty form.
    let empty_untyped = content_type.is_empty() && body.is_empty();
    if !(content_type.starts_with("application/x-www-form-urlencoded") || empty_untyped) {
        return Err(AppError::UnsupportedMediaType);
    }
    crate::web::csrf::parse_form(&body)
}

fn unreadable() -> AppError {
    AppError::BadRequest("The form could not be read.".into())
}

async fn read_all(mut payload: web::Payload) -> Result<web::BytesMut, AppError> {
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|_| unreadable())?;
        if body.len() + chunk.len() > BODY_LIMIT {
            return Err(AppError::PayloadTooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// The body as it arrives, cut off with an error once it passes [`BODY_LIMIT`] bytes;
/// `overflowed` tells that error apart from a damaged body.
fn limited(
    payload: web::Payload,
    overflowed: Arc<AtomicBool>,
) -> impl Stream<Item = Result<Bytes, PayloadError>> {
    let mut seen = 0usize;
    payload.map(move |chunk| {
        let chunk = chunk?;
        seen += chunk.len();
        if seen > BODY_LIMIT {
            overflowed.store(true, Ordering::Relaxed);
            return Err(PayloadError::Overflow);
        }
        Ok(chunk)
    })
}

async fn read_multipart(
    req: &HttpRequest,
    payload: web::Payload,
) -> Result<Vec<(String, String)>, AppError> {
    let overflowed = Arc::new(AtomicBool::new(false));
    let refused = |overflowed: &AtomicBool| {
        if overflowed.load(Ordering::Relaxed) {
            AppError::PayloadTooLarge
        } else {
            unreadable()
        }
    };
    let stream = limited(payload, Arc::clone(&overflowed));
    let mut multipart = actix_multipart::Multipart::new(req.headers(), stream);
    let mut fields = Vec::new();
    while let Some(field) = multipart.next().await {
        if fields.len() == MAX_PARTS {
            return Err(AppError::PayloadTooLarge);
        }
        let mut field = field.map_err(|_| refused(&overflowed))?;
        let name = field.name().unwrap_or_default().to_owned();
        let mut value = Vec::new();
        while let Some(chunk) = field.next().await {
            value.extend_from_slice(&chunk.map_err(|_| refused(&overflowed))?);
        }
        fields.push((name, String::from_utf8(value).map_err(|_| unreadable())?));
    }
    Ok(fields)
}
