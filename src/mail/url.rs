//! The mail transport URL: `smtp://`, `smtps://` or `file://`.

use anyhow::bail;
use secrecy::{ExposeSecret, SecretString};
use std::fmt;
use std::path::PathBuf;

#[derive(Clone)]
pub enum MailUrl {
    /// `.eml` files in a folder: the zero-configuration default.
    File { dir: PathBuf },
    /// A real SMTP server. The URL may hold credentials, so it is kept secret and shown
    /// redacted; lettre parses it (`smtp://`, `?tls=required` for STARTTLS, `smtps://`).
    Smtp { url: SecretString },
}

impl MailUrl {
    pub fn parse(raw: &str) -> anyhow::Result<Self> {
        if let Some(path) = raw.strip_prefix("file://") {
            if path.is_empty() {
                bail!("file:// needs a folder, e.g. file://data/mail");
            }
            return Ok(MailUrl::File { dir: path.into() });
        }
        let parsed = ::url::Url::parse(raw)
            .map_err(|_| anyhow::anyhow!("not a URL (expected smtp://, smtps:// or file://)"))?;
        if !matches!(parsed.scheme(), "smtp" | "smtps") {
            bail!(
                "unsupported scheme {:?}: expected smtp://, smtps:// or file://",
                parsed.scheme()
            );
        }
        if parsed.host_str().is_none_or(str::is_empty) {
            bail!("the SMTP URL needs a host");
        }
        Ok(MailUrl::Smtp {
            url: SecretString::from(raw.to_owned()),
        })
    }

    /// The URL with any password replaced, for logs and `--help`-style output.
    pub fn redacted(&self) -> String {
        match self {
            MailUrl::File { dir } => format!("file://{}", dir.display()),
            MailUrl::Smtp { url } => crate::telemetry::redact::url_password(url.expose_secret()),
        }
    }
}

impl fmt::Debug for MailUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MailUrl({})", self.redacted())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_each_kind() {
        assert!(matches!(
            MailUrl::parse("file://data/mail"),
            Ok(MailUrl::File { .. })
        ));
        assert!(matches!(
            MailUrl::parse("smtp://127.0.0.1:1025"),
            Ok(MailUrl::Smtp { .. })
        ));
        assert!(matches!(
            MailUrl::parse("smtps://u:p@mail.example.com"),
            Ok(MailUrl::Smtp { .. })
        ));
        assert!(MailUrl::parse("http://example.com").is_err());
        assert!(MailUrl::parse("file://").is_err());
        assert!(MailUrl::parse("smtp://").is_err());
    }

    #[test]
    fn debug_hides_the_password() {
        let url = MailUrl::parse("smtps://user:hunter2@mail.example.com:465").unwrap();
        let shown = format!("{url:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("mail.example.com"));
    }
}
