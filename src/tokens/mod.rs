//! Signed tokens (JWT, HS256) for emailed links and sessions.
//!
//! Every token carries a purpose claim checked on every verify, so an unsubscribe link can
//! never pass as a session and the other way round. Tokens hold opaque ids only, never an
//! email address.

mod keys;
mod links;

pub use keys::SigningKeys;
pub use links::{
    LISTED_LIFT_LIFETIME, LiftAct, LiftClaims, OPT_IN_LINK_LIFETIME, OptInClaims, OptInScope,
    UNDO_WINDOW, UNSUBSCRIBE_LINK_LIFETIME, UnsubscribeClaims,
};

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, Header, Validation, decode, decode_header, encode};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::sync::LazyLock;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Purpose {
    /// A signed-in staff session (cookie).
    Session,
    /// An unsubscribe link in a campaign email.
    Unsub,
    /// An opt-back-in link (confirmation email or opt-in request).
    Optin,
    /// The opt-outs a recipient's page offered to lift, posted back with its form.
    Lift,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("the link is damaged or incomplete")]
    Malformed,
    #[error("the link's signature does not match")]
    BadSignature,
    #[error("the link has expired")]
    Expired,
    #[error("the link is meant for something else")]
    WrongPurpose,
}

/// The claims every token carries around the caller's own.
#[derive(Serialize, Deserialize)]
struct Envelope<C> {
    pur: Purpose,
    iat: i64,
    exp: i64,
    #[serde(flatten)]
    claims: C,
}

/// HS256 only, expiry required and checked without leeway. Built once: every recipient's page
/// verifies a token, and building it allocates.
static VALIDATION: LazyLock<Validation> = LazyLock::new(|| {
    let mut validation = Validation::new(Algorithm::HS256);
    validation.leeway = 0;
    validation.set_required_spec_claims(&["exp"]);
    validation
});

impl SigningKeys {
    /// Signs `claims` for `purpose`, valid for `ttl` from now.
    pub fn sign<C: Serialize>(&self, purpose: Purpose, claims: &C, ttl: Duration) -> String {
        let now = chrono::Utc::now().timestamp();
        let (kid, key) = self.current();
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(kid.to_owned());
        let envelope = Envelope {
            pur: purpose,
            iat: now,
            exp: now.saturating_add(i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX)),
            claims,
        };
        // Serialising our own plain structs cannot fail, and HMAC signing has no failure mode.
        encode(&header, &envelope, key).expect("HS256 signing of plain claims")
    }

    /// Verifies signature, algorithm, expiry (no leeway) and purpose, then returns the claims.
    pub fn verify<C: DeserializeOwned>(
        &self,
        purpose: Purpose,
        token: &str,
    ) -> Result<C, TokenError> {
        let data = match self.only_key() {
            // One key: `decode` reads the header anyway, so the key id is checked after it
            // rather than read first (every recipient's page verifies a token: a second
            // header decode was a fifth of the check).
            Some((kid, key)) => {
                let data = decode::<Envelope<C>>(token, key, &VALIDATION).map_err(refusal)?;
                if data.header.kid.as_deref() != Some(kid) {
                    return Err(TokenError::BadSignature);
                }
                data
            }
            None => {
                let header = decode_header(token).map_err(|_| TokenError::Malformed)?;
                if header.alg != Algorithm::HS256 {
                    return Err(TokenError::BadSignature);
                }
                let kid = header.kid.ok_or(TokenError::BadSignature)?;
                let key = self.decoding_key(&kid).ok_or(TokenError::BadSignature)?;
                decode::<Envelope<C>>(token, key, &VALIDATION).map_err(refusal)?
            }
        };
        if data.claims.pur != purpose {
            return Err(TokenError::WrongPurpose);
        }
        Ok(data.claims.claims)
    }
}

fn refusal(error: jsonwebtoken::errors::Error) -> TokenError {
    match error.kind() {
        ErrorKind::ExpiredSignature => TokenError::Expired,
        ErrorKind::InvalidSignature | ErrorKind::InvalidAlgorithm => TokenError::BadSignature,
        _ => TokenError::Malformed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Serialize, Deserialize, PartialEq)]
    struct Claims {
        mid: i64,
    }

    const HOUR: Duration = Duration::from_secs(3600);

    #[test]
    fn round_trip() {
        let keys = SigningKeys::generate().unwrap();
        let token = keys.sign(Purpose::Unsub, &Claims { mid: 7 }, HOUR);
        assert_eq!(
            keys.verify::<Claims>(Purpose::Unsub, &token),
            Ok(Claims { mid: 7 })
        );
    }

    #[test]
    fn wrong_purpose_is_refused() {
        let keys = SigningKeys::generate().unwrap();
        let token = keys.sign(Purpose::Unsub, &Claims { mid: 7 }, HOUR);
        assert_eq!(
            keys.verify::<Claims>(Purpose::Session, &token),
            Err(TokenError::WrongPurpose)
        );
    }

    #[test]
    fn expired_is_refused() {
        let keys = SigningKeys::generate().unwrap();
        let token = keys.sign(Purpose::Unsub, &Claims { mid: 7 }, Duration::ZERO);
        std::thread::sleep(Duration::from_millis(1100));
        assert_eq!(
            keys.verify::<Claims>(Purpose::Unsub, &token),
            Err(TokenError::Expired)
        );
    }

    #[test]
    fn other_key_and_tampering_are_refused() {
        let keys = SigningKeys::generate().unwrap();
        let other = SigningKeys::generate().unwrap();
        let token = other.sign(Purpose::Unsub, &Claims { mid: 7 }, HOUR);
        assert!(keys.verify::<Claims>(Purpose::Unsub, &token).is_err());

        let token = keys.sign(Purpose::Unsub, &Claims { mid: 7 }, HOUR);
        assert_eq!(
            keys.verify::<Claims>(Purpose::Unsub, &token[..token.len() - 3]),
            Err(TokenError::BadSignature)
        );
        assert_eq!(
            keys.verify::<Claims>(Purpose::Unsub, "not-a-token"),
            Err(TokenError::Malformed)
        );
    }

    /// One key or several (rotation): the same answer for every kind of bad token.
    #[test]
    fn one_key_and_several_refuse_alike() {
        let secret = "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA";
        let keys = SigningKeys::parse(&format!("first:{secret}")).unwrap();
        let rotated = keys.with_previous(&SigningKeys::generate().unwrap());
        let good = keys.sign(Purpose::Unsub, &Claims { mid: 7 }, HOUR);
        let expired = keys.sign(Purpose::Unsub, &Claims { mid: 7 }, Duration::ZERO);
        std::thread::sleep(Duration::from_millis(1100));
        // Same secret, another key id: the id must match too.
        let renamed = SigningKeys::parse(&format!("renamed:{secret}"))
            .unwrap()
            .sign(Purpose::Unsub, &Claims { mid: 7 }, HOUR);
        let other = SigningKeys::generate()
            .unwrap()
            .sign(Purpose::Unsub, &Claims { mid: 7 }, HOUR);
        let cases: [(&str, Result<Claims, TokenError>); 7] = [
            (&good, Ok(Claims { mid: 7 })),
            (&good[..good.len() - 3], Err(TokenError::BadSignature)),
            (&expired, Err(TokenError::Expired)),
            (&renamed, Err(TokenError::BadSignature)),
            (&other, Err(TokenError::BadSignature)),
            ("not-a-token", Err(TokenError::Malformed)),
            ("a.b.c", Err(TokenError::Malformed)),
        ];
        for (token, expected) in cases {
            assert_eq!(
                keys.verify::<Claims>(Purpose::Unsub, token),
                expected,
                "{token}"
            );
            assert_eq!(
                rotated.verify::<Claims>(Purpose::Unsub, token),
                expected,
                "{token}"
            );
        }
    }

    #[test]
    fn tokens_signed_with_a_previous_key_still_verify() {
        let old = SigningKeys::generate().unwrap();
        let token = old.sign(Purpose::Unsub, &Claims { mid: 7 }, HOUR);
        // Rotation: a new current key first, the old one after it.
        let new = SigningKeys::generate().unwrap();
        let rotated = new.with_previous(&old);
        assert_eq!(
            rotated.verify::<Claims>(Purpose::Unsub, &token),
            Ok(Claims { mid: 7 })
        );
        let fresh = rotated.sign(Purpose::Unsub, &Claims { mid: 8 }, HOUR);
        assert!(old.verify::<Claims>(Purpose::Unsub, &fresh).is_err());
    }
}
