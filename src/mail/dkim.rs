//! DKIM signing. The signed headers include both List-Unsubscribe headers, so a receiver can
//! trust the one-click button (RFC 8058 requires them to be covered by a valid signature).

use lettre::message::dkim::{
    DkimCanonicalization, DkimCanonicalizationType, DkimConfig, DkimSigningAlgorithm,
    DkimSigningKey,
};
use lettre::message::header::HeaderName;
use secrecy::ExposeSecret;

use crate::config::DkimSettings;

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

pub fn signing_config(settings: &DkimSettings) -> anyhow::Result<DkimConfig> {
    let key = DkimSigningKey::new(
        settings.private_key_pem.expose_secret(),
        DkimSigningAlgorithm::Rsa,
    )
    .map_err(|e| anyhow::anyhow!("not an RSA private key in PKCS#1 PEM form: {e}"))?;
    Ok(DkimConfig::new(
        settings.selector.clone(),
        settings.domain.clone(),
        key,
        SIGNED_HEADERS
            .iter()
            .map(|h| HeaderName::new_from_ascii_str(h))
            .collect(),
        // Relaxed survives the header folding and whitespace changes relays make.
        DkimCanonicalization {
            header: DkimCanonicalizationType::Relaxed,
            body: DkimCanonicalizationType::Relaxed,
        },
    ))
}
