//! The signed links we email. They name opaque ids only, never an address.

use serde::{Deserialize, Serialize};
use std::time::Duration;

use super::{Purpose, SigningKeys, TokenError};
use crate::domain::{Level, MessageId};

/// Opt-back-in links (confirmation email, "I changed my mind") expire after 30 days.
pub const OPT_IN_LINK_LIFETIME: Duration = Duration::from_secs(30 * 24 * 3600);

/// What an opt-in link may lift, relative to the email `mid` (its recipient and its sender):
/// `lvl` = "user" | "client" | "group" names exactly one opt-out (a confirmation email);
/// `lvl` = "all" every opt-out blocking that sender (an opt-in request).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OptInClaims {
    pub mid: i64,
    pub lvl: String,
}

/// What an opt-in link lifts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OptInScope {
    /// Exactly the opt-out at this level (confirmation email).
    One(Level),
    /// Every opt-out that blocks the sender (opt-in request).
    AllBlockingSender,
}

const ALL_BLOCKING_SENDER: &str = "all";

/// Unsubscribe links must keep working long after the email arrived: CAN-SPAM asks 30 days,
/// CASL 60; we promise at least 400.
pub const UNSUBSCRIBE_LINK_LIFETIME: Duration = Duration::from_secs(450 * 24 * 3600);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnsubscribeClaims {
    /// The message whose Unsubscribe link this is.
    pub mid: i64,
}

impl SigningKeys {
    pub fn unsubscribe_token(&self, message: MessageId) -> String {
        self.sign(
            Purpose::Unsub,
            &UnsubscribeClaims { mid: message.0 },
            UNSUBSCRIBE_LINK_LIFETIME,
        )
    }

    pub fn opt_in_token(&self, message: MessageId, level: Level) -> String {
        self.sign_opt_in(message, level.as_str())
    }

    /// The link in an opt-in request: lifts every opt-out blocking the request's sender.
    pub fn opt_in_request_token(&self, request: MessageId) -> String {
        self.sign_opt_in(request, ALL_BLOCKING_SENDER)
    }

    fn sign_opt_in(&self, message: MessageId, lvl: &str) -> String {
        let claims = OptInClaims {
            mid: message.0,
            lvl: lvl.to_owned(),
        };
        self.sign(Purpose::Optin, &claims, OPT_IN_LINK_LIFETIME)
    }

    pub fn verify_opt_in_token(&self, token: &str) -> Result<(MessageId, OptInScope), TokenError> {
        let claims = self.verify::<OptInClaims>(Purpose::Optin, token)?;
        let scope = match claims.lvl.as_str() {
            ALL_BLOCKING_SENDER => OptInScope::AllBlockingSender,
            level => OptInScope::One(level.parse().map_err(|_| TokenError::Malformed)?),
        };
        Ok((MessageId(claims.mid), scope))
    }

    pub fn verify_unsubscribe_token(&self, token: &str) -> Result<MessageId, TokenError> {
        self.verify::<UnsubscribeClaims>(Purpose::Unsub, token)
            .map(|claims| MessageId(claims.mid))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_message_and_nothing_else() {
        let keys = SigningKeys::generate().unwrap();
        let token = keys.unsubscribe_token(MessageId(42));
        assert_eq!(keys.verify_unsubscribe_token(&token), Ok(MessageId(42)));
        let payload = token.split('.').nth(1).unwrap();
        let json = String::from_utf8(
            base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, payload)
                .unwrap(),
        )
        .unwrap();
        assert!(!json.contains('@'), "{json}");
    }
}
