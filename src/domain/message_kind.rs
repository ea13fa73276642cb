//! What an outbox row is. Each kind is built differently by the delivery worker, and only
//! campaign email is checked against opt-outs once more before it goes.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, diesel::AsExpression, diesel::FromSqlRow)]
#[diesel(sql_type = diesel::sql_types::Text)]
pub enum MessageKind {
    /// One recipient's copy of a campaign.
    Campaign,
    /// The confirmation of an opt-out made from a link, with the link that lifts it.
    OptOutConfirmation,
    /// A sender's request to a contact who opted out to opt back in.
    OptInRequest,
    /// Support's notice to the staff member who asked it to lift opt-outs (no sender).
    SupportLiftNotice,
}

impl MessageKind {
    pub const ALL: [MessageKind; 4] = [
        MessageKind::Campaign,
        MessageKind::OptOutConfirmation,
        MessageKind::OptInRequest,
        MessageKind::SupportLiftNotice,
    ];

    /// The value stored in `messages.kind`.
    pub const fn as_str(self) -> &'static str {
        match self {
            MessageKind::Campaign => "campaign",
            MessageKind::OptOutConfirmation => "opt_out_confirmation",
            MessageKind::OptInRequest => "opt_in_request",
            MessageKind::SupportLiftNotice => "support_lift_notice",
        }
    }

    /// `None` for a kind this version does not know: never guessed at.
    pub fn from_stored(stored: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == stored)
    }
}

impl fmt::Display for MessageKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_its_stored_name() {
        for kind in MessageKind::ALL {
            assert_eq!(MessageKind::from_stored(kind.as_str()), Some(kind));
        }
        assert_eq!(MessageKind::from_stored("newsletter"), None);
    }
}
