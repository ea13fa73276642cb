//! What recipients' pages show of a sender: the names of its user, client and group, and the
//! Preference Center settings in force for its client (the group's defaults with the client's
//! override on top). Every email of a campaign has the same one, so recipients' pages keep it
//! for a few seconds (`sender_profile_cache`) and read only the email and its opt-outs per
//! request.

use diesel::prelude::*;

use super::DbConnection;
use super::preference_settings as settings;
use super::schema::{clients, groups, preference_settings, users};
use crate::domain::Sender;
use crate::domain::preferences::PreferenceSettings;
use crate::domain::wording::SenderNames;
use crate::on_each_backend;

#[derive(Debug, Clone, PartialEq)]
pub struct SenderProfile {
    pub sender_name: String,
    pub client_name: String,
    pub group_name: String,
    pub settings: PreferenceSettings,
}

impl SenderProfile {
    /// The names of the three levels as the sender's own records have them (the organisation
    /// as recipients see it: `LinkContext::names`).
    pub fn names(&self) -> SenderNames<'_> {
        SenderNames {
            user: &self.sender_name,
            client: &self.client_name,
            group: &self.group_name,
        }
    }
}

type Row = (
    String,
    String,
    String,
    Option<settings::Row>,
    Option<settings::Row>,
);

/// `None` when the sender's user, client or group no longer exists.
pub fn load(conn: &mut DbConnection, sender: Sender) -> QueryResult<Option<SenderProfile>> {
    let (group_defaults, client_override) = diesel::alias!(
        preference_settings as group_defaults,
        preference_settings as client_override
    );
    let (user, client, group) = (sender.user_id.0, sender.client_id.0, sender.group_id.0);
    let row: Option<Row> = on_each_backend!(conn, |conn| users::table
        .inner_join(clients::table.on(clients::id.eq(client)))
        .inner_join(groups::table.on(groups::id.eq(group)))
        .left_join(
            group_defaults.on(group_defaults
                .field(preference_settings::group_id)
                .eq(group)
                .and(
                    group_defaults
                        .field(preference_settings::client_id)
                        .is_null()
                )),
        )
        .left_join(
            client_override.on(client_override
                .field(preference_settings::group_id)
                .eq(group)
                .and(
                    client_override
                        .field(preference_settings::client_id)
                        .eq(client)
                )),
        )
        .filter(users::id.eq(user))
        .select((
            users::display_name,
            clients::name,
            groups::name,
            group_defaults.fields(settings::columns()).nullable(),
            client_override.fields(settings::columns()).nullable(),
        ))
        // Not `.first()`: a bound `LIMIT` makes SQLite re-prepare the statement on every run.
        .get_result(conn)
        .optional())?;
    Ok(row.map(from_row))
}

fn from_row(row: Row) -> SenderProfile {
    let (sender_name, client_name, group_name, group_defaults, client_override) = row;
    // The group's defaults first, then the client's override on top.
    let settings = [group_defaults, client_override]
        .into_iter()
        .flatten()
        .fold(PreferenceSettings::default(), |settings, row| {
            settings.with(&settings::to_overrides(row))
        });
    SenderProfile {
        sender_name,
        client_name,
        group_name,
        settings,
    }
}
