//! The vocabulary of the evidence: what happened, how, and who did it; and the written
//! consent support records when it lifts opt-outs.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// How an opt-out or opt-in came about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, diesel::AsExpression, diesel::FromSqlRow)]
#[diesel(sql_type = diesel::sql_types::Text)]
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

    /// Opt-outs the recipient made through a link of ours: the only ones the Preference
    /// Center offers to resume (staff, imports and support are not the recipient; their
    /// opt-outs are lifted only from a page that lists them and is confirmed, or by support).
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, diesel::AsExpression, diesel::FromSqlRow)]
#[diesel(sql_type = diesel::sql_types::Text)]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, diesel::AsExpression, diesel::FromSqlRow)]
#[diesel(sql_type = diesel::sql_types::Text)]
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
    pub const ALL: [ActorKind; 4] = [
        ActorKind::User,
        ActorKind::Recipient,
        ActorKind::Support,
        ActorKind::System,
    ];

    pub fn from_stored(stored: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == stored)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ActorKind::User => "user",
            ActorKind::Recipient => "recipient",
            ActorKind::Support => "support",
            ActorKind::System => "system",
        }
    }
}

/// The recipient's written consent, which support must record to lift an opt-out. Kept in
/// each lifting event's evidence as JSON (`{"written_consent": {…}}`); this type is the only
/// place that writes or reads that JSON, so every page and export shows the same fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WrittenConsent {
    /// Who gave it: the person's name and address, as support typed them.
    pub given_by: String,
    pub received_on: NaiveDate,
    /// A ticket or letter number.
    pub reference: String,
    /// The words of the consent.
    pub text: String,
    /// The staff member who forwarded the consent to support, when one did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asked_by: Option<AskedBy>,
}

/// The staff member who asked support to lift, as they were when they asked (their name may
/// change later; the evidence keeps what was true then).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AskedBy {
    pub name: String,
    pub email: String,
}

/// The form fields support fills in, as typed.
#[derive(Debug, Clone, Copy, Default)]
pub struct ConsentFields<'a> {
    pub given_by: &'a str,
    pub received_on: &'a str,
    pub reference: &'a str,
    pub text: &'a str,
}

const MAX_FIELD_CHARS: usize = 200;
const MAX_CONSENT_TEXT_CHARS: usize = 5000;

/// How the evidence JSON nests the consent.
#[derive(Serialize, Deserialize)]
struct Stored<'a> {
    written_consent: std::borrow::Cow<'a, WrittenConsent>,
}

impl WrittenConsent {
    /// Checks the typed fields one by one (all are required); the error says what is missing,
    /// worded for support. `today` bounds the date: consent cannot arrive in the future.
    pub fn from_fields(fields: &ConsentFields<'_>, today: NaiveDate) -> Result<Self, String> {
        let checks = [
            ("who gave the consent", fields.given_by, MAX_FIELD_CHARS),
            ("the date the consent was received", fields.received_on, 10),
            (
                "a reference (ticket or letter number)",
                fields.reference,
                MAX_FIELD_CHARS,
            ),
            (
                "the text of the consent",
                fields.text,
                MAX_CONSENT_TEXT_CHARS,
            ),
        ];
        for (label, value, max) in checks {
            let value = value.trim();
            if value.is_empty() {
                return Err(format!("Nothing was changed: enter {label}."));
            }
            if value.chars().count() > max {
                return Err(format!("Nothing was changed: {label} is too long."));
            }
        }
        let received_on = NaiveDate::parse_from_str(fields.received_on.trim(), "%Y-%m-%d")
            .map_err(|_| {
                "Nothing was changed: the date the consent was received must look like 2026-11-26."
                    .to_owned()
            })?;
        if received_on > today {
            return Err(
                "Nothing was changed: the consent cannot have been received in the future."
                    .to_owned(),
            );
        }
        Ok(Self {
            given_by: fields.given_by.trim().to_owned(),
            received_on,
            reference: fields.reference.trim().to_owned(),
            text: fields.text.trim().to_owned(),
            asked_by: None,
        })
    }

    /// The JSON kept in the event's evidence.
    pub fn to_evidence(&self) -> String {
        serde_json::to_string(&Stored {
            written_consent: std::borrow::Cow::Borrowed(self),
        })
        .expect("strings and a date always serialise")
    }

    /// The consent in an event's evidence; None for evidence of another kind (an import's
    /// file name, a recipient's page) or none at all.
    pub fn from_evidence(evidence: &str) -> Option<Self> {
        serde_json::from_str::<Stored<'_>>(evidence)
            .ok()
            .map(|stored| stored.written_consent.into_owned())
    }

    /// The consent an event was lifted on: read only from support's events, so text anyone
    /// else could have put into evidence never passes for written consent.
    pub fn of_event(source: &str, evidence: Option<&str>) -> Option<Self> {
        evidence
            .filter(|_| source == Source::Support.as_str())
            .and_then(Self::from_evidence)
    }

    /// Who asked support, as one line: "Nina Patel <nina.patel@acme.example>".
    pub fn asked_by_line(&self) -> Option<String> {
        self.asked_by
            .as_ref()
            .map(|asked| format!("{} <{}>", asked.name, asked.email))
    }

    /// The consent as labelled lines, in the order pages show them.
    pub fn labelled(&self) -> Vec<(&'static str, String)> {
        let mut lines = vec![
            ("Given by", self.given_by.clone()),
            (
                "Received on",
                self.received_on.format("%-d %b %Y").to_string(),
            ),
            ("Reference", self.reference.clone()),
            ("Consent text", self.text.clone()),
        ];
        if let Some(asked_by) = self.asked_by_line() {
            lines.push(("Asked by", asked_by));
        }
        lines
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

    fn consent() -> WrittenConsent {
        WrittenConsent::from_fields(
            &ConsentFields {
                given_by: " Zoë Müller, zoe@müller.example ",
                received_on: "2026-11-20",
                reference: "TICKET-4711",
                text: "Please email me again.",
            },
            NaiveDate::from_ymd_opt(2026, 11, 26).unwrap(),
        )
        .unwrap()
    }

    #[test]
    fn written_consent_round_trips_through_the_evidence() {
        let mut consent = consent();
        assert_eq!(consent.given_by, "Zoë Müller, zoe@müller.example");
        assert_eq!(
            WrittenConsent::from_evidence(&consent.to_evidence()),
            Some(consent.clone())
        );
        consent.asked_by = Some(AskedBy {
            name: "Nina Patel".into(),
            email: "nina.patel@acme.example".into(),
        });
        assert_eq!(
            WrittenConsent::from_evidence(&consent.to_evidence()),
            Some(consent)
        );
    }

    #[test]
    fn evidence_stored_before_asked_by_existed_still_reads() {
        let stored = r#"{"written_consent":{"given_by":"Zoë","received_on":"2026-11-20","reference":"T-1","text":"Yes"}}"#;
        let consent = WrittenConsent::from_evidence(stored).unwrap();
        assert_eq!(consent.reference, "T-1");
        assert_eq!(consent.asked_by, None);
    }

    #[test]
    fn only_supports_events_carry_written_consent() {
        let evidence = consent().to_evidence();
        assert!(WrittenConsent::of_event("support", Some(&evidence)).is_some());
        assert_eq!(
            WrittenConsent::of_event("preference_center", Some(&evidence)),
            None
        );
        assert_eq!(WrittenConsent::of_event("support", None), None);
    }

    #[test]
    fn other_evidence_is_not_written_consent() {
        for other in [
            "",
            "list.csv",
            r#"{"file":"list.csv"}"#,
            r#"{"written_consent":{"reference":"T-1"}}"#,
        ] {
            assert_eq!(WrittenConsent::from_evidence(other), None, "{other}");
        }
    }

    #[test]
    fn written_consent_reads_as_labelled_lines() {
        let labelled = consent().labelled();
        assert_eq!(
            labelled,
            [
                ("Given by", "Zoë Müller, zoe@müller.example".to_owned()),
                ("Received on", "20 Nov 2026".to_owned()),
                ("Reference", "TICKET-4711".to_owned()),
                ("Consent text", "Please email me again.".to_owned()),
            ]
        );
    }

    #[test]
    fn incomplete_or_future_consent_is_refused_with_the_reason() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 26).unwrap();
        let complete = ConsentFields {
            given_by: "Zoë",
            received_on: "2026-11-20",
            reference: "T-1",
            text: "Yes",
        };
        let refused =
            |fields: ConsentFields<'_>| WrittenConsent::from_fields(&fields, today).unwrap_err();
        assert!(
            refused(ConsentFields {
                given_by: " ",
                ..complete
            })
            .contains("who gave")
        );
        assert!(
            refused(ConsentFields {
                reference: "",
                ..complete
            })
            .contains("reference")
        );
        assert!(
            refused(ConsentFields {
                received_on: "20.11.2026",
                ..complete
            })
            .contains("look like")
        );
        assert!(
            refused(ConsentFields {
                received_on: "2026-11-27",
                ..complete
            })
            .contains("future")
        );
        assert!(
            refused(ConsentFields {
                text: &"x".repeat(5001),
                ..complete
            })
            .contains("too long")
        );
    }
}
