//! Sliding session expiry: the session extractor re-issues the cookie on every authenticated
//! request (`web::session`); this adds it to the response.

use actix_web::HttpMessage;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;

use crate::web::session::{RefreshedCookie, SESSION_COOKIE};

/// Middleware: adds the re-issued session cookie (sliding idle timeout) to responses of
/// authenticated requests, unless the handler set the cookie itself (sign-out clears it).
pub async fn refresh_session_cookie(
    req: ServiceRequest,
    next: Next<impl actix_web::body::MessageBody>,
) -> Result<ServiceResponse<impl actix_web::body::MessageBody>, actix_web::Error> {
    let mut res = next.call(req).await?;
    let refreshed = res.request().extensions().get::<RefreshedCookie>().cloned();
    if let Some(RefreshedCookie(cookie)) = refreshed {
        let already_set = res.response().cookies().any(|c| c.name() == SESSION_COOKIE);
        if !already_set {
            res.response_mut()
                .add_cookie(&cookie)
                .map_err(actix_web::error::ErrorInternalServerError)?;
        }
    }
    Ok(res)
}
