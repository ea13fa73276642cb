//! How an event's evidence reads on staff pages: support's written consent as labelled fields,
//! and what a recipient's page or email showed as labelled lines — never their JSON. Anything
//! else (an import's file name) reads as it was kept.

use crate::domain::consent::{Shown, WrittenConsent};

/// Labelled lines ("Given by", "Received on", …), for `templates/consent/written_consent.html`.
pub type ConsentLines = Vec<(&'static str, String)>;

/// The evidence of an event (its source and evidence) as labelled lines; None when it is
/// neither written consent nor what a recipient was shown.
pub fn evidence_lines(source: &str, evidence: Option<&str>) -> Option<ConsentLines> {
    if let Some(consent) = WrittenConsent::of_event(source, evidence) {
        return Some(consent.labelled());
    }
    let shown = Shown::from_evidence(evidence?)?;
    Some(
        shown
            .shown
            .into_iter()
            .map(|line| ("Shown to the recipient", line))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_a_recipient_was_shown_reads_as_lines() {
        let stored = Shown::to_evidence(vec![
            "You will again receive emails from Nina Patel.".into(),
        ]);
        assert_eq!(
            evidence_lines("preference_center", Some(&stored)),
            Some(vec![(
                "Shown to the recipient",
                "You will again receive emails from Nina Patel.".to_owned()
            )])
        );
        assert_eq!(evidence_lines("import", Some("list.csv")), None);
        assert_eq!(evidence_lines("one_click", None), None);
    }
}
