//! Everything a recipient's link page needs about the email the link names, in one query: the
//! email with its sender's names, the Preference Center settings in force for its client (the
//! group's defaults with the client's override on top), and the levels at which mail from its
//! sender to its recipient is blocked now.
//!
//! One query, not three: these pages are opened by every mail scanner and by every recipient
//! of a campaign that asks them to, and on PostgreSQL each query is a round trip. The shape is
//! fixed (no boxing, no bound `LIMIT`), so each connection prepares it once.

use diesel::prelude::*;

use super::DbConnection;
use super::messages::{self, LinkedMessage, LinkedRow};
use super::opt_outs::parse_level;
use super::preference_settings as settings;
use super::schema::{messages as emails, opt_outs, preference_settings};
use crate::domain::preferences::{PreferenceSettings, is_hex_colour};
use crate::domain::wording::SenderNames;
use crate::domain::{Level, MessageId};
use crate::on_each_backend;

/// The email a link names, as its pages need it.
#[derive(Debug, Clone)]
pub struct LinkContext {
    pub message: LinkedMessage,
    pub settings: PreferenceSettings,
    /// Active opt-outs blocking the sender for this recipient, broadest first.
    pub blocking: Vec<Level>,
}

impl LinkContext {
    /// The names the pages use for the three levels, as recipients see them.
    pub fn names(&self) -> SenderNames<'_> {
        SenderNames {
            user: &self.message.sender_name,
            client: &self.message.client_name,
            group: self.organisation(),
        }
    }

    /// The organisation's name as recipients see it: the configured display name, or the
    /// group's name.
    pub fn organisation(&self) -> &str {
        self.settings
            .display_name
            .as_deref()
            .unwrap_or(&self.message.group_name)
    }

    /// The configured accent colour, when it is a valid `#rrggbb`.
    pub fn accent(&self) -> Option<&str> {
        self.settings
            .accent_colour
            .as_deref()
            .filter(|c| is_hex_colour(c))
    }
}

type Row = (
    LinkedRow,
    Option<settings::Row>,
    Option<settings::Row>,
    Option<String>,
);

/// `None` when the email no longer exists or has no sender.
pub fn load(conn: &mut DbConnection, id: MessageId) -> QueryResult<Option<LinkContext>> {
    let (group_defaults, client_override) = diesel::alias!(
        preference_settings as group_defaults,
        preference_settings as client_override
    );
    // Run on the backend's own connection: through the `DbConnection` enum, diesel walks the
    // query into SQL text on every run (to check it is cacheable and to bind it), which was a
    // quarter of this page's CPU; the backend's own connection finds it by type.
    let rows: Vec<Row> = on_each_backend!(conn, |conn| messages::with_sender()
        .left_join(
            group_defaults.on(group_defaults
                .field(preference_settings::group_id)
                .eq(emails::group_id)
                .and(
                    group_defaults
                        .field(preference_settings::client_id)
                        .is_null()
                )),
        )
        .left_join(
            client_override.on(client_override
                .field(preference_settings::group_id)
                .eq(emails::group_id)
                .and(
                    client_override
                        .field(preference_settings::client_id)
                        .eq(emails::client_id),
                )),
        )
        // One row per blocking opt-out (none: one row with a NULL level). The same test as
        // `opt_outs::blocks_mail_from`, against the email's own sender.
        .left_join(
            opt_outs::table.on(opt_outs::email
                .eq(emails::to_email)
                .and(opt_outs::group_id.eq(emails::group_id))
                .and(
                    (opt_outs::level
                        .eq("group")
                        .and(opt_outs::scope_id.eq(emails::group_id)))
                    .or(opt_outs::level
                        .eq("client")
                        .and(opt_outs::scope_id.nullable().eq(emails::client_id)))
                    .or(opt_outs::level
                        .eq("user")
                        .and(opt_outs::scope_id.nullable().eq(emails::sender_user_id))),
                )),
        )
        .filter(emails::id.eq(id.0))
        .select((
            messages::linked_columns(),
            group_defaults.fields(settings::columns()).nullable(),
            client_override.fields(settings::columns()).nullable(),
            opt_outs::level.nullable(),
        ))
        .load(conn))?;
    from_rows(rows)
}

/// Folds the joined rows (one per blocking opt-out) into one context.
fn from_rows(rows: Vec<Row>) -> QueryResult<Option<LinkContext>> {
    let mut blocking = Vec::new();
    let mut first = None;
    for (email, group_defaults, client_override, level) in rows {
        if let Some(level) = level {
            blocking.push(parse_level(&level)?);
        }
        first.get_or_insert((email, group_defaults, client_override));
    }
    let Some((email, group_defaults, client_override)) = first else {
        return Ok(None);
    };
    // The group's defaults first, then the client's override on top.
    let settings = [group_defaults, client_override]
        .into_iter()
        .flatten()
        .fold(PreferenceSettings::default(), |settings, row| {
            settings.with(&settings::to_overrides(row))
        });
    blocking.sort();
    blocking.dedup();
    Ok(messages::linked_from_row(email).map(|message| LinkContext {
        message,
        settings,
        blocking,
    }))
}
