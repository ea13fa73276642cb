//! How an event's evidence reads on staff pages: support's written consent as labelled fields
//! (never its JSON), anything else as it was kept.

use crate::domain::consent::WrittenConsent;

/// Labelled lines ("Given by", "Received on", …), for `templates/consent/written_consent.html`.
pub type ConsentLines = Vec<(&'static str, String)>;

/// The written consent of an event (its source and evidence), as lines; None when the event
/// was not lifted on written consent.
pub fn written_consent_lines(source: &str, evidence: Option<&str>) -> Option<ConsentLines> {
    WrittenConsent::of_event(source, evidence).map(|consent| consent.labelled())
}
