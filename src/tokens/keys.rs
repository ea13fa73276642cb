//! Signing keys for links and sessions, with `kid`s so keys can rotate: the first key signs,
//! every key verifies.

use anyhow::{Context, bail};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{DecodingKey, EncodingKey};
use std::fmt;
use std::io::Write;
use std::path::Path;

/// Shorter secrets make HS256 guessable.
const MIN_SECRET_BYTES: usize = 32;

#[derive(Clone)]
pub struct SigningKeys {
    /// Never empty; the first is the current (signing) key.
    keys: Vec<SigningKey>,
}

#[derive(Clone)]
struct SigningKey {
    kid: String,
    encoding: EncodingKey,
    decoding: DecodingKey,
}

impl SigningKeys {
    /// Parses `kid:base64url-secret` entries separated by commas or new lines. Blank lines and
    /// lines starting with `#` are ignored.
    pub fn parse(text: &str) -> anyhow::Result<Self> {
        let keys = text
            .split([',', '\n'])
            .map(str::trim)
            .filter(|entry| !entry.is_empty() && !entry.starts_with('#'))
            .map(parse_entry)
            .collect::<anyhow::Result<Vec<_>>>()?;
        if keys.is_empty() {
            bail!("no signing key given (expected kid:base64secret)");
        }
        let mut kids: Vec<&str> = keys.iter().map(|k| k.kid.as_str()).collect();
        kids.sort_unstable();
        if kids.windows(2).any(|pair| pair[0] == pair[1]) {
            bail!("two signing keys share one kid");
        }
        Ok(Self { keys })
    }

    pub fn read_file(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path).context("cannot read the signing keys file")?;
        Self::parse(&text)
    }

    /// Reads the key file, or on first run creates it with one fresh key, readable by the
    /// owner only. Instances sharing a database must share keys: configure
    /// OPTOUTS_SIGNING_KEYS (or a shared file) for them instead.
    pub fn load_or_generate(path: &Path) -> anyhow::Result<Self> {
        if path.exists() {
            return Self::read_file(path);
        }
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
        }
        let entry = generate_entry()?;
        write_owner_only(path, &format!("{entry}\n"))?;
        tracing::warn!(
            path = %path.display(),
            "no signing key configured: generated one; set OPTOUTS_SIGNING_KEYS to share keys between instances"
        );
        Self::parse(&entry)
    }

    /// A fresh single-key set held in memory (tests, tools).
    pub fn generate() -> anyhow::Result<Self> {
        Self::parse(&generate_entry()?)
    }

    /// This set's keys followed by `previous`'s: rotation keeps old links verifying.
    pub fn with_previous(&self, previous: &SigningKeys) -> Self {
        let mut keys = self.keys.clone();
        keys.extend(previous.keys.iter().cloned());
        Self { keys }
    }

    pub(super) fn current(&self) -> (&str, &EncodingKey) {
        let key = &self.keys[0];
        (&key.kid, &key.encoding)
    }

    /// The key and its id when there is only one (no rotation under way).
    pub(super) fn only_key(&self) -> Option<(&str, &DecodingKey)> {
        match self.keys.as_slice() {
            [key] => Some((&key.kid, &key.decoding)),
            _ => None,
        }
    }

    pub(super) fn decoding_key(&self, kid: &str) -> Option<&DecodingKey> {
        self.keys.iter().find(|k| k.kid == kid).map(|k| &k.decoding)
    }

    pub fn kids(&self) -> impl Iterator<Item = &str> {
        self.keys.iter().map(|k| k.kid.as_str())
    }
}

/// Shows the key ids only: a secret must never reach a log line.
impl fmt::Debug for SigningKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKeys")
            .field("kids", &self.kids().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

fn parse_entry(entry: &str) -> anyhow::Result<SigningKey> {
    let (kid, secret) = entry
        .split_once(':')
        .context("a signing key must look like kid:base64secret")?;
    let kid = kid.trim();
    if kid.is_empty()
        || !kid
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
    {
        bail!("a signing key id may hold only letters, digits, '-', '_' and '.'");
    }
    let secret = URL_SAFE_NO_PAD
        .decode(secret.trim().trim_end_matches('='))
        .with_context(|| format!("signing key {kid}: the secret is not base64url"))?;
    if secret.len() < MIN_SECRET_BYTES {
        bail!("signing key {kid}: the secret must be at least {MIN_SECRET_BYTES} bytes");
    }
    Ok(SigningKey {
        kid: kid.to_owned(),
        encoding: EncodingKey::from_secret(&secret),
        decoding: DecodingKey::from_secret(&secret),
    })
}

fn generate_entry() -> anyhow::Result<String> {
    let mut secret = [0u8; 32];
    getrandom::fill(&mut secret).map_err(|e| anyhow::anyhow!("no randomness available: {e}"))?;
    let mut suffix = [0u8; 3];
    getrandom::fill(&mut suffix).map_err(|e| anyhow::anyhow!("no randomness available: {e}"))?;
    // A date for people reading the key file, a random suffix so two keys made in the same
    // second still have distinct ids.
    let kid = format!(
        "k{}-{}",
        chrono::Utc::now().format("%Y%m%d"),
        URL_SAFE_NO_PAD.encode(suffix)
    );
    Ok(format!("{kid}:{}", URL_SAFE_NO_PAD.encode(secret)))
}

fn write_owner_only(path: &Path, contents: &str) -> anyhow::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    file.write_all(contents.as_bytes())?;
    file.sync_all()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_key_signs_and_all_verify() {
        let a = generate_entry().unwrap();
        let b = generate_entry().unwrap().replacen('k', "old", 1);
        let keys = SigningKeys::parse(&format!("{a},{b}")).unwrap();
        assert_eq!(keys.kids().count(), 2);
        assert_eq!(keys.current().0, a.split(':').next().unwrap());
    }

    #[test]
    fn rejects_short_secrets_and_duplicate_kids() {
        assert!(SigningKeys::parse("k1:c2hvcnQ").is_err());
        let entry = generate_entry().unwrap();
        assert!(SigningKeys::parse(&format!("{entry},{entry}")).is_err());
        assert!(SigningKeys::parse("").is_err());
    }

    #[test]
    fn debug_output_holds_no_secret() {
        let entry = generate_entry().unwrap();
        let secret = entry.split(':').nth(1).unwrap();
        let keys = SigningKeys::parse(&entry).unwrap();
        assert!(!format!("{keys:?}").contains(secret));
    }

    #[cfg(unix)]
    #[test]
    fn generated_key_file_is_private_and_reused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested/signing-keys");
        let first = SigningKeys::load_or_generate(&path).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let second = SigningKeys::load_or_generate(&path).unwrap();
        assert_eq!(
            first.kids().collect::<Vec<_>>(),
            second.kids().collect::<Vec<_>>()
        );
    }
}
