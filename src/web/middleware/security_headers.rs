//! Security headers on every response.

use actix_web::middleware::DefaultHeaders;

/// Scripts and styles only from our own origin (no inline script), no framing, forms post only
/// to us. Written as one macro so the policy with a style nonce is the same text plus the nonce.
macro_rules! policy {
    ($style_extra:literal) => {
        concat!(
            "default-src 'self'; script-src 'self'; style-src 'self'",
            $style_extra,
            "; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; \
base-uri 'none'; object-src 'none'"
        )
    };
}

pub const CONTENT_SECURITY_POLICY: &str = policy!("");

/// The policy that also allows the one inline style block carrying `nonce`.
pub fn policy_with_style_nonce(nonce: &str) -> String {
    format!(policy!(" 'nonce-{}'"), nonce)
}

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

/// A fresh nonce for one response's inline style block: 128 bits from the thread's CSPRNG
/// (rand's `ThreadRng`: ChaCha12, reseeded from the OS), as unguessable as the OS's own but
/// without a system call per page (recipients' pages are the busiest there are).
pub fn style_nonce() -> String {
    use base64::Engine;
    let bytes: [u8; 16] = rand::random();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_nonce_policy_is_the_policy_with_the_nonce_added_to_styles() {
        assert_eq!(
            policy_with_style_nonce("abc"),
            CONTENT_SECURITY_POLICY.replace("style-src 'self'", "style-src 'self' 'nonce-abc'")
        );
        assert_ne!(style_nonce(), style_nonce());
    }
}
