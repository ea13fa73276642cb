//! DKIM signing. The signed headers include both List-Unsubscribe headers, so a receiver can
//! trust the one-click button (RFC 8058 requires them to be covered by a valid signature).
//!
//! Oversigning (RFC 6376 §8.15): a header signed once still verifies after a relay or attacker
//! adds a second copy above it, and many mail clients show the topmost copy. So the headers a
//! recipient acts on (who it is from, what it is about, which list, where the unsubscribe
//! goes) are listed in `h=` once more than they occur: the extra entry signs "no further
//! copy", and any copy added after signing breaks the signature.
//!
//! Why lettre 0.11 gets this right when a name is listed twice: its signer looks each listed
//! name up and inserts it into the hashed set with `insert_raw`, which replaces an entry of the
//! same name, so the header is hashed once, in the place of its first listing; a verifier
//! hashes the one instance for the first listing and nothing for the second (RFC 6376 §5.4.2).
//! `tests/app/delivery.rs` checks both halves with dkimpy on messages sent through SMTP.

use lettre::message::dkim::{
    DkimCanonicalization, DkimCanonicalizationType, DkimConfig, DkimSigningAlgorithm,
    DkimSigningKey,
};
use lettre::message::header::HeaderName;
use secrecy::ExposeSecret;
use std::sync::Arc;

/// What DKIM signing needs: the selector, the domain and the key, parsed once (at start-up, so
/// a wrong key fails there and not at the first email). `Debug` shows selector and domain only.
#[derive(Clone)]
pub struct DkimSettings {
    pub selector: String,
    pub domain: String,
    /// The signing configuration built from the key; shared, since lettre's is not `Clone`.
    pub signing: Arc<DkimConfig>,
}

impl std::fmt::Debug for DkimSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DkimSettings")
            .field("selector", &self.selector)
            .field("domain", &self.domain)
            .finish_non_exhaustive()
    }
}

impl DkimSettings {
    /// Parses the key (RSA, PKCS#1 PEM) into the signing configuration.
    pub fn checked(
        selector: &str,
        domain: &str,
        private_key_pem: secrecy::SecretString,
    ) -> anyhow::Result<Self> {
        let signing = signing_config(selector, domain, &private_key_pem)?;
        Ok(Self {
            selector: selector.to_owned(),
            domain: domain.to_owned(),
            signing: Arc::new(signing),
        })
    }
}

/// The headers the signature covers (each appears once in our messages).
pub const SIGNED_HEADERS: [&str; 8] = [
    "From",
    "To",
    "Subject",
    "Date",
    "Message-ID",
    "List-Id",
    "List-Unsubscribe",
    "List-Unsubscribe-Post",
];

/// Of those, the ones listed a second time, so none can be added after signing.
pub const OVERSIGNED_HEADERS: [&str; 5] = [
    "From",
    "Subject",
    "List-Id",
    "List-Unsubscribe",
    "List-Unsubscribe-Post",
];

/// The `h=` list: every signed header, then the oversigned ones again.
fn header_list() -> Vec<HeaderName> {
    SIGNED_HEADERS
        .iter()
        .chain(&OVERSIGNED_HEADERS)
        .map(|h| HeaderName::new_from_ascii_str(h))
        .collect()
}

fn signing_config(
    selector: &str,
    domain: &str,
    private_key_pem: &secrecy::SecretString,
) -> anyhow::Result<DkimConfig> {
    let key = DkimSigningKey::new(private_key_pem.expose_secret(), DkimSigningAlgorithm::Rsa)
        .map_err(|e| anyhow::anyhow!("not an RSA private key in PKCS#1 PEM form: {e}"))?;
    Ok(DkimConfig::new(
        selector.to_owned(),
        domain.to_owned(),
        key,
        header_list(),
        // Relaxed survives the header folding and whitespace changes relays make.
        DkimCanonicalization {
            header: DkimCanonicalizationType::Relaxed,
            body: DkimCanonicalizationType::Relaxed,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oversigned_headers_are_signed_and_listed_twice() {
        assert!(
            OVERSIGNED_HEADERS
                .iter()
                .all(|h| SIGNED_HEADERS.contains(h))
        );
        let list = header_list();
        for name in SIGNED_HEADERS {
            let times = list.iter().filter(|h| **h == name).count();
            let expected = if OVERSIGNED_HEADERS.contains(&name) {
                2
            } else {
                1
            };
            assert_eq!(times, expected, "{name}");
        }
        assert_eq!(list.len(), SIGNED_HEADERS.len() + OVERSIGNED_HEADERS.len());
    }
}
