//! The vocabulary of the evidence: what happened, how, and who did it.

/// How an opt-out or opt-in came about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    PreferenceCenter,
    OneClick,
    Manual,
    Import,
    Support,
    ConfirmationEmail,
    OptInRequest,
}

impl Source {
    pub const ALL: [Source; 7] = [
        Source::PreferenceCenter,
        Source::OneClick,
        Source::Manual,
        Source::Import,
        Source::Support,
        Source::ConfirmationEmail,
        Source::OptInRequest,
    ];

    pub fn from_stored(stored: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == stored)
    }

    /// How the source reads on a page.
    pub fn label(self) -> &'static str {
        match self {
            Source::PreferenceCenter => "Preference Center",
            Source::OneClick => "One-click unsubscribe",
            Source::Manual => "By hand",
            Source::Import => "Import",
            Source::Support => "Support, on written consent",
            Source::ConfirmationEmail => "Link in the confirmation email",
            Source::OptInRequest => "Link in an opt-in request",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Source::PreferenceCenter => "preference_center",
            Source::OneClick => "one_click",
            Source::Manual => "manual",
            Source::Import => "import",
            Source::Support => "support",
            Source::ConfirmationEmail => "confirmation_email",
            Source::OptInRequest => "opt_in_request",
        }
    }
}

/// What a consent event records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    OptOut,
    OptIn,
    OptInRequestSent,
    ConfirmationSent,
}

impl EventKind {
    pub const ALL: [EventKind; 4] = [
        EventKind::OptOut,
        EventKind::OptIn,
        EventKind::OptInRequestSent,
        EventKind::ConfirmationSent,
    ];

    pub fn from_stored(stored: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == stored)
    }

    pub fn label(self) -> &'static str {
        match self {
            EventKind::OptOut => "Opted out",
            EventKind::OptIn => "Opted back in",
            EventKind::OptInRequestSent => "Opt-in request sent",
            EventKind::ConfirmationSent => "Confirmation email sent",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::OptOut => "opt_out",
            EventKind::OptIn => "opt_in",
            EventKind::OptInRequestSent => "opt_in_request_sent",
            EventKind::ConfirmationSent => "confirmation_sent",
        }
    }
}

/// Who acted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActorKind {
    /// A signed-in staff member.
    User,
    /// The recipient, through a signed link.
    Recipient,
    /// Support staff acting on written consent.
    Support,
    /// The system itself (imports, demo data).
    System,
}

impl ActorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ActorKind::User => "user",
            ActorKind::Recipient => "recipient",
            ActorKind::Support => "support",
            ActorKind::System => "system",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_names_round_trip() {
        for source in Source::ALL {
            assert_eq!(Source::from_stored(source.as_str()), Some(source));
        }
        for kind in EventKind::ALL {
            assert_eq!(EventKind::from_stored(kind.as_str()), Some(kind));
        }
        assert_eq!(Source::from_stored("carrier pigeon"), None);
    }
}
