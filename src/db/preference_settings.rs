//! Stored Preference Center settings: one row of group defaults, optional client overrides.

use diesel::prelude::*;

use super::schema::preference_settings;
use super::{DbConnection, now, write_transaction};
use crate::domain::preferences::Overrides;
use crate::domain::{ClientId, GroupId, Level, UserId};

/// A settings row as [`columns`] selects it, in that order.
#[derive(Queryable)]
pub(super) struct Row {
    /// Comma-separated level names.
    levels_offered: Option<String>,
    one_click_level: Option<String>,
    confirmation_email: Option<bool>,
    ask_reason: Option<bool>,
    display_name: Option<String>,
    accent_colour: Option<String>,
    custom_message: Option<String>,
}

fn parse_levels(stored: &str) -> Vec<Level> {
    stored
        .split(',')
        .filter_map(|l| l.trim().parse().ok())
        .collect()
}

/// The columns of [`Row`].
#[diesel::dsl::auto_type(no_type_alias)]
pub(super) fn columns() -> _ {
    (
        preference_settings::levels_offered,
        preference_settings::one_click_level,
        preference_settings::confirmation_email,
        preference_settings::ask_reason,
        preference_settings::display_name,
        preference_settings::accent_colour,
        preference_settings::custom_message,
    )
}

pub(super) fn to_overrides(row: Row) -> Overrides {
    Overrides {
        levels_offered: row.levels_offered.as_deref().map(parse_levels),
        // Read as text, not as `Level`: an unknown stored level means "not set" here (the
        // settings page then offers the default) rather than failing the sender's profile.
        one_click_level: row.one_click_level.and_then(|l| l.parse().ok()),
        confirmation_email: row.confirmation_email,
        ask_reason: row.ask_reason,
        display_name: row.display_name,
        accent_colour: row.accent_colour,
        custom_message: row.custom_message,
    }
}

/// The stored row for the group defaults (`client` None) or one client's override.
pub fn overrides(
    conn: &mut DbConnection,
    group: GroupId,
    client: Option<ClientId>,
) -> QueryResult<Option<Overrides>> {
    let query = preference_settings::table
        .filter(preference_settings::group_id.eq(group))
        .select(columns())
        .into_boxed();
    let query = match client {
        Some(client) => query.filter(preference_settings::client_id.eq(client)),
        None => query.filter(preference_settings::client_id.is_null()),
    };
    query
        .first::<Row>(conn)
        .optional()
        .map(|row| row.map(to_overrides))
}

/// Replaces the group defaults (`client` None) or a client's override.
pub fn save(
    conn: &mut DbConnection,
    group: GroupId,
    client: Option<ClientId>,
    values: &Overrides,
    by: UserId,
) -> QueryResult<()> {
    write_transaction(conn, |conn| {
        remove(conn, group, client)?;
        let levels = values
            .levels_offered
            .as_ref()
            .map(|l| l.iter().map(|l| l.as_str()).collect::<Vec<_>>().join(","));
        diesel::insert_into(preference_settings::table)
            .values((
                preference_settings::group_id.eq(group),
                preference_settings::client_id.eq(client),
                preference_settings::levels_offered.eq(levels),
                preference_settings::one_click_level.eq(values.one_click_level),
                preference_settings::confirmation_email.eq(values.confirmation_email),
                preference_settings::ask_reason.eq(values.ask_reason),
                preference_settings::display_name.eq(values.display_name.as_deref()),
                preference_settings::accent_colour.eq(values.accent_colour.as_deref()),
                preference_settings::custom_message.eq(values.custom_message.as_deref()),
                preference_settings::updated_at.eq(now()),
                preference_settings::updated_by_user_id.eq(Some(by)),
            ))
            .execute(conn)?;
        Ok(())
    })
}

/// Drops a row: a client then inherits everything from its group.
pub fn remove(
    conn: &mut DbConnection,
    group: GroupId,
    client: Option<ClientId>,
) -> QueryResult<usize> {
    let target = preference_settings::table.filter(preference_settings::group_id.eq(group));
    match client {
        Some(client) => {
            diesel::delete(target.filter(preference_settings::client_id.eq(client))).execute(conn)
        }
        None => {
            diesel::delete(target.filter(preference_settings::client_id.is_null())).execute(conn)
        }
    }
}
