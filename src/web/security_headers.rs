//! Security headers on every response.

use actix_web::middleware::DefaultHeaders;

/// Scripts and styles only from our own origin (no inline script), no framing, forms post only
/// to us.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; \
base-uri 'none'; object-src 'none'";

pub fn headers(https: bool) -> DefaultHeaders {
    let headers = DefaultHeaders::new()
        .add(("Content-Security-Policy", CONTENT_SECURITY_POLICY))
        .add(("X-Content-Type-Options", "nosniff"))
        .add(("X-Frame-Options", "DENY"))
        // Links in emails carry tokens in their path: never pass them on to another site.
        .add(("Referrer-Policy", "no-referrer"))
        // Pages show personal data; static assets set their own caching first.
        .add(("Cache-Control", "no-store"));
    if https {
        headers.add((
            "Strict-Transport-Security",
            "max-age=31536000; includeSubDomains",
        ))
    } else {
        headers
    }
}
