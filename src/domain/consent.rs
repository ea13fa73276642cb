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

    /// Opt-outs the recipient made through a link of ours: the only ones a recipient's link
    /// may lift without the page having listed them to a person who confirmed (their own
    /// "resume"). Staff, imports and support are not the recipient.
    pub fn is_recipients_own(self) -> bool {
        matches!(self, Source::PreferenceCenter | Source::OneClick)
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

/// What a recipient's page, answer or email said when they acted on it, kept with the event
/// as evidence (consent is what the person saw): one line per opt-out named, as shown.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Shown {
    pub shown: Vec<String>,
}

impl Shown {
    /// The stored form (JSON in `consent_events.evidence`).
    pub fn to_evidence(lines: Vec<String>) -> String {
        serde_json::to_string(&Shown { shown: lines }).expect("a list of strings serialises")
    }

    /// Reads stored evidence back; `None` for evidence of another kind.
    pub fn from_evidence(stored: &str) -> Option<Self> {
        serde_json::from_str(stored).ok()
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

    #[test]
    fn what_was_shown_round_trips() {
        let stored = Shown::to_evidence(vec!["emails from Nina Patel".into()]);
        assert_eq!(
            Shown::from_evidence(&stored).unwrap().shown,
            ["emails from Nina Patel"]
        );
        assert_eq!(Shown::from_evidence(r#"{"given_by":"x"}"#), None);
    }
}
