//! What recipients' pages show of a sender: the names of its user, client and group, and the
//! Preference Center settings in force for its client (the group's defaults with the client's
//! override on top). Every email of a campaign has the same one, so recipients' pages keep it
//! for a few seconds (`sender_profile_cache`) and read only the email and its opt-outs per
//! request.

use diesel::prelude::*;

use super::DbConnection;
use super::preference_settings as settings;
use super::schema::{clients, groups, preference_settings, users};
use crate::domain::preferences::{Overrides, PreferenceSettings};
use crate::domain::wording::{CLIENTS_LISTED, SenderNames};
use crate::domain::{GroupId, Sender};
use crate::on_each_backend;

#[derive(Debug, Clone, PartialEq)]
pub struct SenderProfile {
    pub sender_name: String,
    pub client_name: String,
    pub group_name: String,
    /// The settings in force for the client (group defaults, the client's override on top).
    pub settings: PreferenceSettings,
    /// "Name shown to recipients" of the group's own settings: the group's name for
    /// recipients. Never a client's: a client's display name does not stand for the group.
    pub group_display_name: Option<String>,
    /// "Name shown to recipients" of the client's override: the client's name for recipients.
    pub client_display_name: Option<String>,
    /// The first [`CLIENTS_LISTED`] clients of the group by their names for recipients, to
    /// say what a group-level opt-out covers.
    pub group_clients: Vec<String>,
    /// How many clients the group has in all.
    pub group_client_count: usize,
}

impl SenderProfile {
    /// The names of the three levels as the sender's own records have them (staff names).
    pub fn names(&self) -> SenderNames<'_> {
        SenderNames {
            user: &self.sender_name,
            client: &self.client_name,
            group: &self.group_name,
            group_clients: &[],
            group_client_count: 0,
        }
    }

    /// The names of the three levels as recipients see them: each level's own "name shown to
    /// recipients" when set, and the group's clients.
    pub fn recipient_names(&self) -> SenderNames<'_> {
        SenderNames {
            user: &self.sender_name,
            client: self
                .client_display_name
                .as_deref()
                .unwrap_or(&self.client_name),
            group: self
                .group_display_name
                .as_deref()
                .unwrap_or(&self.group_name),
            group_clients: &self.group_clients,
            group_client_count: self.group_client_count,
        }
    }
}

/// The sender's names and both settings rows, as [`load`] selects them.
#[derive(Queryable)]
struct Row {
    sender_name: String,
    client_name: String,
    group_name: String,
    group_defaults: Option<settings::Row>,
    client_override: Option<settings::Row>,
}

/// The clients a group-level opt-out covers, as recipients know them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupClients {
    /// The first [`CLIENTS_LISTED`] by name, each by its name for recipients.
    pub names: Vec<String>,
    /// How many clients the group has in all.
    pub count: usize,
}

/// `None` when the sender's user, client or group no longer exists.
pub fn load(conn: &mut DbConnection, sender: Sender) -> QueryResult<Option<SenderProfile>> {
    let (group_defaults, client_override) = diesel::alias!(
        preference_settings as group_defaults,
        preference_settings as client_override
    );
    let (user, client, group) = (sender.user_id, sender.client_id, sender.group_id);
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
    let Some(row) = row else {
        return Ok(None);
    };
    let clients = clients_for_recipients(conn, sender.group_id)?;
    Ok(Some(from_row(row, clients)))
}

/// The group's first clients (by name, as staff pages list them) by their names for
/// recipients, and how many it has: a count only when the list is full, so a group of a few
/// clients costs one query.
pub fn clients_for_recipients(
    conn: &mut DbConnection,
    group: GroupId,
) -> QueryResult<GroupClients> {
    let names: Vec<(String, Option<String>)> = clients::table
        .left_join(
            preference_settings::table
                .on(preference_settings::client_id.eq(clients::id.nullable())),
        )
        .filter(clients::group_id.eq(group))
        .order(clients::name)
        .select((clients::name, preference_settings::display_name.nullable()))
        .limit(CLIENTS_LISTED as i64)
        .load(conn)?;
    let count = if names.len() < CLIENTS_LISTED {
        names.len()
    } else {
        let all: i64 = clients::table
            .filter(clients::group_id.eq(group))
            .count()
            .get_result(conn)?;
        usize::try_from(all).unwrap_or(usize::MAX)
    };
    let names = names
        .into_iter()
        .map(|(name, shown)| shown.unwrap_or(name))
        .collect();
    Ok(GroupClients { names, count })
}

fn from_row(row: Row, clients: GroupClients) -> SenderProfile {
    let group_defaults = row.group_defaults.map(settings::to_overrides);
    let client_override = row
        .client_override
        .map(settings::to_overrides)
        .map(Overrides::as_client_override);
    // The group's defaults first, then the client's override on top.
    let settings = [&group_defaults, &client_override]
        .into_iter()
        .flatten()
        .fold(PreferenceSettings::default(), |settings, layer| {
            settings.with(layer)
        });
    SenderProfile {
        sender_name: row.sender_name,
        client_name: row.client_name,
        group_name: row.group_name,
        settings,
        group_display_name: group_defaults.and_then(|o| o.display_name),
        client_display_name: client_override.and_then(|o| o.display_name),
        group_clients: clients.names,
        group_client_count: clients.count,
    }
}
