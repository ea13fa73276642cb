//! The signed links we email, and the signed lists that recipients' pages post back. They name
//! opaque ids only, never an address.

use serde::{Deserialize, Serialize};
use std::time::Duration;

use super::{Purpose, SigningKeys, TokenError};
use crate::domain::{Level, MessageId, OptOutId};

/// Opt-back-in links (confirmation email, opt-in request) expire after 30 days.
pub const OPT_IN_LINK_LIFETIME: Duration = Duration::from_secs(30 * 24 * 3600);

/// "I changed my mind" works for this long after the opt-out it undoes: it is a correction of
/// a click just made, not a second way back in for the life of the link.
pub const UNDO_WINDOW: Duration = Duration::from_secs(15 * 60);

/// How long a page that lists opt-outs to lift (the Preference Center's "resume", an opt-in
/// request's page) may stay open before its button must be reloaded.
pub const LISTED_LIFT_LIFETIME: Duration = Duration::from_secs(60 * 60);

/// What an opt-in link names, relative to the email `mid`:
/// - `oid`: exactly this opt-out (the confirmation of an opt-out; `mid` is the email it was
///   made from);
/// - `lvl = "all"`: an opt-in request (`mid` is the request); its page lists what it lifts;
/// - `lvl = "user" | "client" | "group"` without `oid`: a confirmation link signed before
///   links named the opt-out (kept working for their 30 days, see [`OptInScope::Legacy`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OptInClaims {
    pub mid: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lvl: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oid: Option<i64>,
}

/// What an opt-in link may lift.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OptInScope {
    /// Exactly this opt-out, while it is active (a confirmation email).
    Exactly(OptOutId),
    /// An opt-in request: what its page lists, and only after the recipient confirms that list.
    Request,
    /// A confirmation link from before links named the opt-out: the opt-out at this level that
    /// the recipient made from this very email, while it is active.
    Legacy(Level),
}

const REQUEST: &str = "all";

/// Unsubscribe links must keep working long after the email arrived: CAN-SPAM asks 30 days,
/// CASL 60; we promise at least 400.
pub const UNSUBSCRIBE_LINK_LIFETIME: Duration = Duration::from_secs(450 * 24 * 3600);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnsubscribeClaims {
    /// The message whose Unsubscribe link this is.
    pub mid: i64,
}

/// Which recipient act a listed lift belongs to; a list signed for one is refused by the others.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LiftAct {
    /// "I changed my mind" on the page shown right after an opt-out.
    Undo,
    /// "Resume" on the Preference Center, for an opt-out the recipient made.
    Resume,
    /// Confirming an opt-in request.
    Request,
}

/// The exact opt-outs a recipient's page offered to lift, signed into the page's form so that
/// the POST lifts what the page showed and nothing else. `mid` is the email of the link the
/// page belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiftClaims {
    pub mid: i64,
    pub act: LiftAct,
    pub oids: Vec<i64>,
}

impl SigningKeys {
    pub fn unsubscribe_token(&self, message: MessageId) -> String {
        self.sign(
            Purpose::Unsub,
            &UnsubscribeClaims { mid: message.0 },
            UNSUBSCRIBE_LINK_LIFETIME,
        )
    }

    /// The confirmation email's link: lifts exactly `opt_out`, made from `message`.
    pub fn opt_in_token(&self, message: MessageId, opt_out: OptOutId) -> String {
        self.sign_opt_in(OptInClaims {
            mid: message.0,
            lvl: None,
            oid: Some(opt_out.0),
        })
    }

    /// The confirmation link as it was signed before it named the opt-out; only for
    /// confirmation emails queued before then (their payload has no opt-out id).
    pub fn legacy_opt_in_token(&self, message: MessageId, level: Level) -> String {
        self.sign_opt_in(OptInClaims {
            mid: message.0,
            lvl: Some(level.as_str().to_owned()),
            oid: None,
        })
    }

    /// The link in an opt-in request.
    pub fn opt_in_request_token(&self, request: MessageId) -> String {
        self.sign_opt_in(OptInClaims {
            mid: request.0,
            lvl: Some(REQUEST.to_owned()),
            oid: None,
        })
    }

    fn sign_opt_in(&self, claims: OptInClaims) -> String {
        self.sign(Purpose::Optin, &claims, OPT_IN_LINK_LIFETIME)
    }

    pub fn verify_opt_in_token(&self, token: &str) -> Result<(MessageId, OptInScope), TokenError> {
        let claims = self.verify::<OptInClaims>(Purpose::Optin, token)?;
        let scope = match (claims.oid, claims.lvl.as_deref()) {
            (Some(oid), None) => OptInScope::Exactly(OptOutId(oid)),
            (None, Some(REQUEST)) => OptInScope::Request,
            (None, Some(level)) => {
                OptInScope::Legacy(level.parse().map_err(|_| TokenError::Malformed)?)
            }
            _ => return Err(TokenError::Malformed),
        };
        Ok((MessageId(claims.mid), scope))
    }

    pub fn verify_unsubscribe_token(&self, token: &str) -> Result<MessageId, TokenError> {
        self.verify::<UnsubscribeClaims>(Purpose::Unsub, token)
            .map(|claims| MessageId(claims.mid))
    }

    /// Signs the list of opt-outs a page offers to lift for `act`, valid for `ttl`.
    pub fn lift_token(
        &self,
        message: MessageId,
        act: LiftAct,
        opt_outs: &[OptOutId],
        ttl: Duration,
    ) -> String {
        let claims = LiftClaims {
            mid: message.0,
            act,
            oids: opt_outs.iter().map(|id| id.0).collect(),
        };
        self.sign(Purpose::Lift, &claims, ttl)
    }

    /// The opt-outs a page offered to lift, when `token` was signed for `act` on a page of the
    /// link naming `message`. A list from another link or for another act is not ours.
    pub fn verify_lift_token(
        &self,
        token: &str,
        message: MessageId,
        act: LiftAct,
    ) -> Result<Vec<OptOutId>, TokenError> {
        let claims = self.verify::<LiftClaims>(Purpose::Lift, token)?;
        if claims.mid != message.0 || claims.act != act {
            return Err(TokenError::WrongPurpose);
        }
        Ok(claims.oids.into_iter().map(OptOutId).collect())
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

    #[test]
    fn opt_in_links_name_what_they_lift() {
        let keys = SigningKeys::generate().unwrap();
        let exact = keys.opt_in_token(MessageId(7), OptOutId(99));
        assert_eq!(
            keys.verify_opt_in_token(&exact),
            Ok((MessageId(7), OptInScope::Exactly(OptOutId(99))))
        );
        let request = keys.opt_in_request_token(MessageId(8));
        assert_eq!(
            keys.verify_opt_in_token(&request),
            Ok((MessageId(8), OptInScope::Request))
        );
        let legacy = keys.legacy_opt_in_token(MessageId(9), Level::Group);
        assert_eq!(
            keys.verify_opt_in_token(&legacy),
            Ok((MessageId(9), OptInScope::Legacy(Level::Group)))
        );
        let both = keys.sign(
            Purpose::Optin,
            &OptInClaims {
                mid: 1,
                lvl: Some("all".into()),
                oid: Some(2),
            },
            OPT_IN_LINK_LIFETIME,
        );
        assert_eq!(keys.verify_opt_in_token(&both), Err(TokenError::Malformed));
    }

    #[test]
    fn a_lift_list_is_bound_to_its_link_and_act() {
        let keys = SigningKeys::generate().unwrap();
        let ids = [OptOutId(3), OptOutId(5)];
        let token = keys.lift_token(MessageId(7), LiftAct::Resume, &ids, UNDO_WINDOW);
        assert_eq!(
            keys.verify_lift_token(&token, MessageId(7), LiftAct::Resume),
            Ok(ids.to_vec())
        );
        assert_eq!(
            keys.verify_lift_token(&token, MessageId(8), LiftAct::Resume),
            Err(TokenError::WrongPurpose)
        );
        assert_eq!(
            keys.verify_lift_token(&token, MessageId(7), LiftAct::Undo),
            Err(TokenError::WrongPurpose)
        );
        let unsubscribe = keys.unsubscribe_token(MessageId(7));
        assert!(
            keys.verify_lift_token(&unsubscribe, MessageId(7), LiftAct::Undo)
                .is_err()
        );
    }
}
