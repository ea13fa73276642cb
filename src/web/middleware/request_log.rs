//! One log line per request: request id, method, path (never the query string, which may hold
//! search terms or addresses; tokens in link paths are cut off), status and latency in
//! microseconds. The id is also returned in `X-Request-Id` so a person can quote it to support.
//! Everything logged while the request is handled (handlers, services) runs inside a span that
//! carries the same id, so its lines can be told apart from other requests' lines.

use actix_web::HttpMessage;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use std::time::Instant;
use tracing::Instrument;

#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// Paths whose last part is a bearer token: logged without it.
const TOKEN_PATH_PREFIXES: &[&str] = &["/u/", "/opt-in/"];

pub fn loggable_path(path: &str) -> String {
    for prefix in TOKEN_PATH_PREFIXES {
        if path.starts_with(prefix) {
            return format!("{prefix}…");
        }
    }
    path.to_owned()
}

pub async fn log_requests(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let request_id = uuid::Uuid::new_v4().simple().to_string();
    req.extensions_mut().insert(RequestId(request_id.clone()));
    let method = req.method().clone();
    let path = loggable_path(req.path());
    let span = tracing::info_span!("request", %request_id);
    let result = next.call(req).instrument(span).await;
    // Whole microseconds: a float prints as 0.017112000000000002 and costs more to format.
    let latency_us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
    match result {
        Ok(mut res) => {
            let status = res.status().as_u16();
            tracing::info!(%request_id, method = method.as_str(), path, status, latency_us, "request");
            if let Ok(value) = HeaderValue::from_str(&request_id) {
                res.headers_mut()
                    .insert(HeaderName::from_static("x-request-id"), value);
            }
            Ok(res)
        }
        Err(error) => {
            let status = error.as_response_error().status_code().as_u16();
            tracing::info!(%request_id, method = method.as_str(), path, status, latency_us, "request");
            Err(error)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::loggable_path;

    #[test]
    fn token_paths_are_cut() {
        assert_eq!(loggable_path("/u/eyJhbGciOi.abc.def"), "/u/…");
        assert_eq!(loggable_path("/opt-in/eyJ"), "/opt-in/…");
        assert_eq!(loggable_path("/contacts"), "/contacts");
    }
}
