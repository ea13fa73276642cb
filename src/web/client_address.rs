//! The client's network address: for sign-in throttling and for the evidence kept with a
//! recipient's opt-out.

use actix_web::HttpRequest;

use crate::config::Config;

/// Behind a trusted proxy, the address it reports; otherwise the socket's peer (a client could
/// forge forwarding headers).
pub fn of(req: &HttpRequest, config: &Config) -> String {
    if config.behind_proxy
        && let Some(real) = req.connection_info().realip_remote_addr()
    {
        return real.to_owned();
    }
    req.peer_addr()
        .map(|addr| addr.ip().to_string())
        .unwrap_or_else(|| "unknown".to_owned())
}

/// The User-Agent header, cut to a sane length for storage.
pub fn user_agent(req: &HttpRequest) -> Option<String> {
    req.headers()
        .get(actix_web::http::header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(|ua| ua.chars().take(300).collect())
}
