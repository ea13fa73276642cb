//! Preference Center settings: what recipients are offered, with group defaults and per-client
//! overrides. A missing value inherits: a client's from its group, a group's from the defaults
//! below.

use super::Level;

/// The settings in force for one (group, client).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreferenceSettings {
    /// Offered on the page, narrowest first (as the page lists them). Never empty.
    pub levels_offered: Vec<Level>,
    /// The level a mail client's one-click unsubscribe records.
    pub one_click_level: Level,
    pub confirmation_email: bool,
    pub ask_reason: bool,
    /// Shown as the organisation's name; the group's name when unset.
    pub display_name: Option<String>,
    /// `#rrggbb`.
    pub accent_colour: Option<String>,
    pub custom_message: Option<String>,
}

/// Stored values of one settings row; `None` inherits.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Overrides {
    pub levels_offered: Option<Vec<Level>>,
    pub one_click_level: Option<Level>,
    pub confirmation_email: Option<bool>,
    pub ask_reason: Option<bool>,
    pub display_name: Option<String>,
    pub accent_colour: Option<String>,
    pub custom_message: Option<String>,
}

impl Default for PreferenceSettings {
    /// User level and group level offered; one-click opts out of the sender only; a
    /// confirmation email; no reason question.
    fn default() -> Self {
        Self {
            levels_offered: vec![Level::User, Level::Group],
            one_click_level: Level::User,
            confirmation_email: true,
            ask_reason: false,
            display_name: None,
            accent_colour: None,
            custom_message: None,
        }
    }
}

impl PreferenceSettings {
    /// Applies one layer of overrides on top of these settings.
    pub fn with(mut self, layer: &Overrides) -> Self {
        if let Some(levels) = layer.levels_offered.as_ref().filter(|l| !l.is_empty()) {
            self.levels_offered = sorted_narrowest_first(levels);
        }
        if let Some(level) = layer.one_click_level {
            self.one_click_level = level;
        }
        if let Some(on) = layer.confirmation_email {
            self.confirmation_email = on;
        }
        if let Some(on) = layer.ask_reason {
            self.ask_reason = on;
        }
        if layer.display_name.is_some() {
            self.display_name = layer.display_name.clone();
        }
        if layer.accent_colour.is_some() {
            self.accent_colour = layer.accent_colour.clone();
        }
        if layer.custom_message.is_some() {
            self.custom_message = layer.custom_message.clone();
        }
        self
    }
}

impl Overrides {
    /// A client's override as it applies: one-click from a client's mail stops at most that
    /// client (`rights::may_set_one_click_level` refuses "group" there), so a row saved before
    /// that rule reads as client level rather than opting out across clients nobody there
    /// chose.
    pub fn as_client_override(mut self) -> Self {
        if self.one_click_level == Some(Level::Group) {
            self.one_click_level = Some(Level::Client);
        }
        self
    }
}

fn sorted_narrowest_first(levels: &[Level]) -> Vec<Level> {
    let mut sorted = levels.to_vec();
    sorted.sort_by(|a, b| b.cmp(a));
    sorted.dedup();
    sorted
}

/// Why a settings form was refused, worded for the admin.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidSettings {
    #[error("Offer at least one level on the Preference Center.")]
    NoLevel,
    #[error("The accent colour must look like #1d5fd1.")]
    BadColour,
    #[error("The display name can be at most 100 characters long.")]
    LongName,
    #[error("The message can be at most 1000 characters long.")]
    LongMessage,
}

/// Checks explicit values (a full settings form: group defaults, or a client's override).
pub fn validate(overrides: &Overrides) -> Result<(), InvalidSettings> {
    if overrides.levels_offered.as_ref().is_some_and(Vec::is_empty) {
        return Err(InvalidSettings::NoLevel);
    }
    if let Some(colour) = &overrides.accent_colour
        && !is_hex_colour(colour)
    {
        return Err(InvalidSettings::BadColour);
    }
    if overrides
        .display_name
        .as_ref()
        .is_some_and(|n| n.chars().count() > 100)
    {
        return Err(InvalidSettings::LongName);
    }
    if overrides
        .custom_message
        .as_ref()
        .is_some_and(|m| m.chars().count() > 1000)
    {
        return Err(InvalidSettings::LongMessage);
    }
    Ok(())
}

/// `#` and six hex digits: safe to put into a stylesheet as it is.
pub fn is_hex_colour(value: &str) -> bool {
    value.len() == 7 && value.starts_with('#') && value[1..].bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_overrides_win_over_group_defaults_over_built_ins() {
        let group = Overrides {
            levels_offered: Some(vec![Level::Group, Level::Client, Level::User]),
            ask_reason: Some(true),
            display_name: Some("Acme".into()),
            ..Overrides::default()
        };
        let client = Overrides {
            one_click_level: Some(Level::Client),
            ask_reason: Some(false),
            ..Overrides::default()
        };
        let settings = PreferenceSettings::default().with(&group).with(&client);
        assert_eq!(
            settings.levels_offered,
            [Level::User, Level::Client, Level::Group]
        );
        assert_eq!(settings.one_click_level, Level::Client);
        assert!(!settings.ask_reason);
        assert!(
            settings.confirmation_email,
            "inherited from the built-in default"
        );
        assert_eq!(settings.display_name.as_deref(), Some("Acme"));
    }

    #[test]
    fn a_client_override_never_makes_one_click_group_wide() {
        let group = Overrides {
            one_click_level: Some(Level::Group),
            ..Overrides::default()
        };
        let stored_before_the_rule = Overrides {
            one_click_level: Some(Level::Group),
            ..Overrides::default()
        };
        let settings = PreferenceSettings::default()
            .with(&group)
            .with(&stored_before_the_rule.as_client_override());
        assert_eq!(settings.one_click_level, Level::Client);
        let inheriting = PreferenceSettings::default()
            .with(&group)
            .with(&Overrides::default().as_client_override());
        assert_eq!(
            inheriting.one_click_level,
            Level::Group,
            "the group's own defaults may be group-wide"
        );
    }

    #[test]
    fn validation_names_the_problem() {
        let bad = |o: Overrides| validate(&o).unwrap_err();
        assert_eq!(
            bad(Overrides {
                levels_offered: Some(vec![]),
                ..Default::default()
            }),
            InvalidSettings::NoLevel
        );
        for colour in ["red", "#12345", "#12345g", "#1234567", "\"><script>"] {
            assert_eq!(
                bad(Overrides {
                    accent_colour: Some(colour.into()),
                    ..Default::default()
                }),
                InvalidSettings::BadColour
            );
        }
        assert!(
            validate(&Overrides {
                accent_colour: Some("#A0b1C2".into()),
                ..Default::default()
            })
            .is_ok()
        );
        assert_eq!(
            bad(Overrides {
                display_name: Some("x".repeat(101)),
                ..Default::default()
            }),
            InvalidSettings::LongName
        );
    }
}
