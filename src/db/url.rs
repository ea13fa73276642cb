//! Which database to use, chosen by the URL's scheme.

use anyhow::bail;
use secrecy::{ExposeSecret, SecretString};
use std::fmt;
use std::path::PathBuf;

#[derive(Clone)]
pub enum DatabaseUrl {
    /// `sqlite://relative/path.sqlite` or `sqlite:///absolute/path.sqlite`.
    Sqlite { path: PathBuf },
    /// `postgres://…` or `postgresql://…`; may hold a password, so it stays secret.
    Postgres { url: SecretString },
}

impl DatabaseUrl {
    pub fn parse(raw: &str) -> anyhow::Result<Self> {
        if let Some(path) = raw.strip_prefix("sqlite://") {
            if path.is_empty() {
                bail!("sqlite:// needs a file path, e.g. sqlite://data/optouts.sqlite");
            }
            return Ok(DatabaseUrl::Sqlite { path: path.into() });
        }
        if raw.starts_with("postgres://") || raw.starts_with("postgresql://") {
            return Ok(DatabaseUrl::Postgres {
                url: SecretString::from(raw.to_owned()),
            });
        }
        bail!("unsupported database URL: expected sqlite://PATH or postgres://…")
    }

    pub fn backend_name(&self) -> &'static str {
        match self {
            DatabaseUrl::Sqlite { .. } => "sqlite",
            DatabaseUrl::Postgres { .. } => "postgres",
        }
    }

    /// The URL with any password replaced: safe for logs.
    pub fn redacted(&self) -> String {
        match self {
            DatabaseUrl::Sqlite { path } => format!("sqlite://{}", path.display()),
            DatabaseUrl::Postgres { url } => {
                crate::telemetry::redact::url_password(url.expose_secret())
            }
        }
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DatabaseUrl({})", self.redacted())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_the_backend_by_scheme() {
        assert!(matches!(
            DatabaseUrl::parse("sqlite://data/optouts.sqlite"),
            Ok(DatabaseUrl::Sqlite { path }) if path.as_path() == std::path::Path::new("data/optouts.sqlite")
        ));
        assert!(matches!(
            DatabaseUrl::parse("sqlite:///var/lib/optouts.sqlite"),
            Ok(DatabaseUrl::Sqlite { path }) if path.as_path() == std::path::Path::new("/var/lib/optouts.sqlite")
        ));
        assert!(matches!(
            DatabaseUrl::parse("postgresql://u@h/db"),
            Ok(DatabaseUrl::Postgres { .. })
        ));
        assert!(DatabaseUrl::parse("mysql://u@h/db").is_err());
        assert!(DatabaseUrl::parse("data/optouts.sqlite").is_err());
    }

    #[test]
    fn debug_hides_the_password() {
        let url = DatabaseUrl::parse("postgres://app:s3cret@db/optouts").unwrap();
        assert!(!format!("{url:?}").contains("s3cret"));
    }
}
