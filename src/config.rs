//! One typed configuration, built from the command line and `OPTOUTS_*` variables.
//! Passed explicitly (no global statics) so tests can build their own.

use anyhow::{Context, bail};
use std::path::{Path, PathBuf};
use std::time::Duration;
use url::Url;

use crate::cli::Settings;
use crate::db::DatabaseUrl;
use crate::mail::MailUrl;
pub use crate::mail::dkim::DkimSettings;
use crate::tokens::SigningKeys;

#[derive(Debug, Clone)]
pub struct Config {
    pub bind: String,
    /// Public address used in emailed links; no trailing slash.
    pub base_url: Url,
    pub data_dir: PathBuf,
    pub database: DatabaseUrl,
    pub db_pool_size: u32,
    pub mail: MailUrl,
    pub session: SessionSettings,
    pub signing_keys: SigningKeys,
    /// The reverse proxies whose `X-Forwarded-For` is believed (none: the socket's peer).
    pub trusted_proxies: Vec<ipnet::IpNet>,
    pub delivery: DeliverySettings,
    /// DKIM signing of outgoing mail, when configured.
    pub dkim: Option<DkimSettings>,
}

/// How the delivery worker paces itself.
#[derive(Debug, Clone, Copy)]
pub struct DeliverySettings {
    pub poll_interval: Duration,
    /// First retry delay; doubles per attempt up to `retry_cap`.
    pub retry_base: Duration,
    pub retry_cap: Duration,
    pub max_attempts: i32,
    /// Messages claimed per round.
    pub batch_size: i64,
    /// How long a claim lasts; an email whose worker died goes back to the queue after this.
    pub claim_timeout: Duration,
}

impl Default for DeliverySettings {
    fn default() -> Self {
        Self {
            poll_interval: Duration::from_secs(2),
            retry_base: Duration::from_secs(30),
            retry_cap: Duration::from_secs(3600),
            max_attempts: 10,
            batch_size: 50,
            claim_timeout: Duration::from_secs(10 * 60),
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub struct SessionSettings {
    pub idle_timeout: Duration,
    pub max_age: Duration,
}

impl Config {
    /// Resolves defaults, parses every URL, and loads (or on first run generates) the signing
    /// keys. Fails with a message naming the setting that is wrong.
    pub fn load(settings: &Settings) -> anyhow::Result<Self> {
        let data_dir = settings.data_dir.clone();
        let database = match &settings.database_url {
            Some(url) => DatabaseUrl::parse(url).context("OPTOUTS_DATABASE_URL")?,
            None => DatabaseUrl::Sqlite {
                path: data_dir.join("optouts.sqlite"),
            },
        };
        let mail = match &settings.mail_url {
            Some(url) => MailUrl::parse(url).context("OPTOUTS_MAIL_URL")?,
            None => MailUrl::File {
                dir: data_dir.join("mail"),
            },
        };
        let base_url = parse_base_url(settings.base_url.as_deref(), &settings.bind)?;
        let signing_keys = load_signing_keys(settings, &data_dir)?;
        if settings.db_pool_size == 0 {
            bail!("OPTOUTS_DB_POOL_SIZE must be at least 1");
        }
        Ok(Self {
            bind: settings.bind.clone(),
            base_url,
            data_dir,
            database,
            db_pool_size: settings.db_pool_size,
            mail,
            session: SessionSettings {
                idle_timeout: settings.session_idle_timeout,
                max_age: settings.session_max_age,
            },
            signing_keys,
            trusted_proxies: settings.trusted_proxies.clone(),
            delivery: DeliverySettings {
                poll_interval: settings.worker_poll_interval,
                retry_base: settings.mail_retry_base,
                retry_cap: settings.mail_retry_cap,
                max_attempts: settings.mail_max_attempts.max(1),
                claim_timeout: settings.mail_claim_timeout,
                ..DeliverySettings::default()
            },
            dkim: load_dkim(settings)?,
        })
    }

    /// Cookies get the `Secure` flag when the public address is https.
    pub fn served_over_https(&self) -> bool {
        self.base_url.scheme() == "https"
    }

    /// An absolute link for emails: `base_url` + `path` (path starts with '/').
    pub fn public_link(&self, path: &str) -> String {
        format!("{}{}", self.base_url.as_str().trim_end_matches('/'), path)
    }
}

fn parse_base_url(configured: Option<&str>, bind: &str) -> anyhow::Result<Url> {
    let raw = configured
        .map(str::to_owned)
        .unwrap_or_else(|| format!("http://{bind}"));
    let url = Url::parse(&raw).with_context(|| format!("OPTOUTS_BASE_URL {raw:?} is not a URL"))?;
    if !matches!(url.scheme(), "http" | "https") {
        bail!("OPTOUTS_BASE_URL must start with http:// or https://");
    }
    Ok(url)
}

fn load_signing_keys(settings: &Settings, data_dir: &Path) -> anyhow::Result<SigningKeys> {
    if let Ok(inline) = std::env::var("OPTOUTS_SIGNING_KEYS") {
        return SigningKeys::parse(&inline).context("OPTOUTS_SIGNING_KEYS");
    }
    if let Some(file) = &settings.signing_keys_file {
        return SigningKeys::read_file(file)
            .with_context(|| format!("OPTOUTS_SIGNING_KEYS_FILE {}", file.display()));
    }
    SigningKeys::load_or_generate(&data_dir.join("signing-keys"))
}

fn load_dkim(settings: &Settings) -> anyhow::Result<Option<DkimSettings>> {
    match (
        &settings.dkim_selector,
        &settings.dkim_domain,
        &settings.dkim_key_file,
    ) {
        (None, None, None) => Ok(None),
        (Some(selector), Some(domain), Some(key_file)) => {
            let pem = std::fs::read_to_string(key_file)
                .with_context(|| format!("OPTOUTS_DKIM_KEY_FILE {}", key_file.display()))?;
            let dkim = DkimSettings::checked(selector, domain, secrecy::SecretString::from(pem))
                .context("OPTOUTS_DKIM_KEY_FILE")?;
            Ok(Some(dkim))
        }
        _ => bail!(
            "DKIM needs all three of OPTOUTS_DKIM_SELECTOR, OPTOUTS_DKIM_DOMAIN and OPTOUTS_DKIM_KEY_FILE"
        ),
    }
}
