//! The settings form as submitted, and the preference overrides it asks for.

use serde::Deserialize;

use crate::domain::Level;
use crate::domain::preferences::Overrides;
use crate::web::errors::AppError;

#[derive(Deserialize)]
pub struct SettingsForm {
    pub(super) client: Option<i64>,
    #[serde(default)]
    pub(super) override_group: Option<String>,
    #[serde(default)]
    pub(super) level_user: Option<String>,
    #[serde(default)]
    pub(super) level_client: Option<String>,
    #[serde(default)]
    pub(super) level_group: Option<String>,
    pub(super) one_click_level: String,
    #[serde(default)]
    pub(super) confirmation_email: Option<String>,
    #[serde(default)]
    pub(super) ask_reason: Option<String>,
    #[serde(default)]
    pub(super) display_name: String,
    #[serde(default)]
    pub(super) accent_colour: String,
    #[serde(default)]
    pub(super) custom_message: String,
}

impl SettingsForm {
    /// The submitted values. A client's form may leave the one-click level empty: it then
    /// inherits the group's.
    pub(super) fn overrides(&self, for_client: bool) -> Result<Overrides, AppError> {
        let levels = [
            (Level::User, &self.level_user),
            (Level::Client, &self.level_client),
            (Level::Group, &self.level_group),
        ]
        .into_iter()
        .filter(|(_, ticked)| ticked.is_some())
        .map(|(level, _)| level)
        .collect();
        let one_click = match self.one_click_level.as_str() {
            "" if for_client => None,
            level => Some(
                level
                    .parse()
                    .map_err(|_| AppError::BadRequest("Choose the one-click level.".into()))?,
            ),
        };
        let text = |value: &str| Some(value.trim().to_owned()).filter(|v| !v.is_empty());
        Ok(Overrides {
            levels_offered: Some(levels),
            one_click_level: one_click,
            confirmation_email: Some(self.confirmation_email.is_some()),
            ask_reason: Some(self.ask_reason.is_some()),
            display_name: text(&self.display_name),
            accent_colour: text(&self.accent_colour).map(|c| c.to_ascii_lowercase()),
            custom_message: text(&self.custom_message),
        })
    }
}
