//! The choices the Preference Center offers, worded for recipients. Shared with the settings
//! page's preview.

use crate::domain::Level;
use crate::domain::wording::{SenderNames, group_scope};

pub struct ChoiceView {
    pub level: &'static str,
    pub label: String,
    pub checked: bool,
}

/// "Only emails from Nina Patel", "Any emails from Newsletters", "Any emails from Acme
/// Holdings, including all its clients: Newsletters, Events and Tax".
pub fn choice_label(level: Level, names: &SenderNames<'_>) -> String {
    match level {
        Level::User => format!("Only emails from {}", names.user),
        Level::Client => format!("Any emails from {}", names.client),
        Level::Group => format!("Any emails from {}", group_scope(names)),
    }
}

/// The offered levels broader than `current` (the broadest active opt-out, if any); the first
/// is pre-selected.
pub fn choice_views(
    offered: &[Level],
    current: Option<Level>,
    names: &SenderNames<'_>,
) -> Vec<ChoiceView> {
    offered
        .iter()
        .filter(|level| current.is_none_or(|current| **level < current))
        .enumerate()
        .map(|(index, level)| ChoiceView {
            level: level.as_str(),
            label: choice_label(*level, names),
            checked: index == 0,
        })
        .collect()
}

/// The fixed answers to "Why are you leaving?" (value, label); free text may follow.
pub const REASONS: [(&str, &str); 4] = [
    ("too_many", "I get too many emails"),
    ("not_relevant", "The content is not relevant to me"),
    ("never_signed_up", "I never signed up"),
    ("other", "Another reason"),
];

/// The reason as stored with the evidence: the chosen answer's label, then the free text.
pub fn reason_text(choice: Option<&str>, free_text: Option<&str>) -> Option<String> {
    let label = choice
        .and_then(|c| REASONS.iter().find(|(value, _)| *value == c))
        .map(|(_, l)| *l);
    let free = free_text.map(str::trim).filter(|t| !t.is_empty());
    match (label, free) {
        (Some(label), Some(free)) => Some(format!("{label}: {free}")),
        (Some(label), None) => Some(label.to_owned()),
        (None, Some(free)) => Some(free.to_owned()),
        (None, None) => None,
    }
}
