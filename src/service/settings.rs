//! Saving a group's preference center defaults, or one client's override of them.

use std::sync::Arc;

use super::{Actor, ServiceError, Services};
use crate::db::preference_settings;
use crate::domain::preferences::{self, Overrides};
use crate::domain::rights;
use crate::domain::{ClientId, GroupId};

pub struct SavePreferenceSettings {
    pub group: GroupId,
    /// `None`: the group defaults.
    pub client: Option<ClientId>,
    /// For a client: whether it overrides the group at all. When not, its row is removed and
    /// it inherits the group's settings.
    pub overriding: bool,
    pub values: Overrides,
}

/// Someone not allowed to edit the row gets [`ServiceError::NotFound`]; a one-click level
/// above their rights, [`ServiceError::Forbidden`] with the reason; values that do not go
/// together, [`ServiceError::Invalid`]. Nothing is saved then.
pub async fn save_preference_settings(
    services: &Services,
    actor: &Actor,
    save: SavePreferenceSettings,
) -> Result<(), ServiceError> {
    let person = actor.person().ok_or(ServiceError::NotFound)?;
    let SavePreferenceSettings {
        group,
        client,
        overriding,
        values,
    } = save;
    if !rights::may_edit_preference_settings(person, group, client) {
        return Err(ServiceError::NotFound);
    }
    // Refused whether or not the client overrides now: nobody's form offers it.
    if let Some(level) = values.one_click_level {
        ServiceError::unless_allowed(rights::may_set_one_click_level(person, client, level))?;
    }
    if overriding && let Err(invalid) = preferences::validate(&values) {
        return Err(ServiceError::Invalid(invalid.to_string()));
    }
    let by = person.id;
    let profiles = Arc::clone(&services.sender_profiles);
    services
        .db(move |conn| {
            if overriding {
                preference_settings::save(conn, group, client, &values, by)?;
            } else {
                preference_settings::remove(conn, group, client)?;
            }
            // Recipients' pages served by this process show the change from the next request
            // on. Here, not after the await: the change stands even if the caller is dropped.
            profiles.forget_all();
            Ok::<_, diesel::result::Error>(())
        })
        .await?;
    tracing::info!(group = %group, client = ?client, overriding, "preference center settings saved");
    Ok(())
}
