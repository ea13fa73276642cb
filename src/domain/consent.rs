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
