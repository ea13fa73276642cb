//! Everything a recipient's link page needs about the email the link names: the email and the
//! levels at which mail from its sender to its recipient is blocked now (one query), with its
//! sender's names and the Preference Center settings in force for its client (the sender's
//! profile, remembered for a few seconds: `service::sender_profile_cache`).
//!
//! These pages are opened by every mail scanner and by every recipient of a campaign that asks
//! them to, and on PostgreSQL each query is a round trip: one per page while the sender's
//! profile is remembered, two when it is read. The shape is fixed (no boxing, no bound
//! `LIMIT`), so each connection prepares it once.

use diesel::prelude::*;
use std::sync::Arc;

use super::DbConnection;
use super::cascade::blocks_sender;
use super::messages::{self, EmailRow, LinkedEmail, LinkedMessage};
use super::schema::{messages as emails, opt_outs};
use super::sender_profile::{self, SenderProfile};
use crate::domain::preferences::{PreferenceSettings, is_hex_colour};
use crate::domain::wording::SenderNames;
use crate::domain::{Level, MessageId, OptOutId, Sender, Source};
use crate::on_each_backend;

/// An opt-out as the link's query reads it (in this order).
#[derive(Queryable)]
struct BlockingRow {
    id: OptOutId,
    level: Level,
    source: String,
    created_at: chrono::NaiveDateTime,
}

/// The email a link names, as its pages need it.
#[derive(Debug, Clone)]
pub struct LinkContext {
    pub message: LinkedMessage,
    pub profile: Arc<SenderProfile>,
    pub settings: PreferenceSettings,
    /// Active opt-outs blocking the sender for this recipient, broadest first.
    pub blocking: Vec<BlockingOptOut>,
}

/// An active opt-out that stops mail from the email's sender to its recipient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockingOptOut {
    pub id: OptOutId,
    pub level: Level,
    /// How it was made; `None` for a source this version does not know.
    pub source: Option<Source>,
    pub created_at: chrono::NaiveDateTime,
}

impl BlockingOptOut {
    /// Whether the recipient made it themselves through a link (and so may resume it from one).
    pub fn made_by_recipient(&self) -> bool {
        self.source.is_some_and(Source::is_recipients_own)
    }
}

impl LinkContext {
    /// The names the pages use for the three levels, as recipients see them.
    pub fn names(&self) -> SenderNames<'_> {
        self.profile.recipient_names()
    }

    /// The name in the recipient pages' header: the client's name for recipients when it has
    /// one, else the group's.
    pub fn organisation(&self) -> &str {
        self.profile
            .client_display_name
            .as_deref()
            .unwrap_or_else(|| self.names().group)
    }

    /// The broadest level at which mail from the sender is stopped now.
    pub fn broadest(&self) -> Option<Level> {
        self.blocking.first().map(|b| b.level)
    }

    /// The configured accent colour, when it is a valid `#rrggbb`.
    pub fn accent(&self) -> Option<&str> {
        self.settings
            .accent_colour
            .as_deref()
            .filter(|c| is_hex_colour(c))
    }
}

/// For a request that records a decision: the sender's settings as they are now, since they
/// decide what is recorded (the one-click level, the levels offered, the reason, the
/// confirmation email).
pub fn load_fresh(conn: &mut DbConnection, id: MessageId) -> QueryResult<Option<LinkContext>> {
    load_with(conn, id, |conn, sender| {
        Ok(sender_profile::load(conn, sender)?.map(Arc::new))
    })
}

/// The email and its blocking opt-outs in one query, the sender's profile from `profile`.
/// The link's context, with the sender's profile from `profile` (a cache in front of
/// `sender_profile::load`, or that function itself).
pub fn load_with(
    conn: &mut DbConnection,
    id: MessageId,
    profile: impl FnOnce(&mut DbConnection, Sender) -> QueryResult<Option<Arc<SenderProfile>>>,
) -> QueryResult<Option<LinkContext>> {
    // Run on the backend's own connection: through the `DbConnection` enum, diesel walks the
    // query into SQL text on every run (to check it is cacheable and to bind it), which was a
    // quarter of this page's CPU; the backend's own connection finds it by type.
    let rows: Vec<(EmailRow, Option<BlockingRow>)> = on_each_backend!(conn, |conn| emails::table
        // One row per blocking opt-out (none: one row with a NULL level). The same test as
        // `opt_outs::blocks_mail_from`, against the email's own sender.
        .left_join(
            opt_outs::table.on(opt_outs::email.eq(emails::to_email).and(blocks_sender!(
                emails::group_id.nullable(),
                emails::client_id,
                emails::sender_user_id
            ))),
        )
        .filter(emails::id.eq(id))
        .select((
            messages::email_columns(),
            (
                opt_outs::id,
                opt_outs::level,
                opt_outs::source,
                opt_outs::created_at
            )
                .nullable()
        ))
        .load(conn))?;
    let mut blocking = Vec::new();
    let mut email = None;
    for (row, opt_out) in rows {
        if let Some(opt_out) = opt_out {
            // Read as text: a source this version does not know still blocks (`None`).
            blocking.push(BlockingOptOut {
                id: opt_out.id,
                level: opt_out.level,
                source: Source::from_stored(&opt_out.source),
                created_at: opt_out.created_at,
            });
        }
        email.get_or_insert(row);
    }
    let Some(email) = email.and_then(LinkedEmail::from_row) else {
        return Ok(None);
    };
    let Some(profile) = profile(conn, email.sender)? else {
        return Ok(None);
    };
    blocking.sort_by_key(|b| (b.level, b.id));
    Ok(Some(LinkContext {
        message: email.with_names(profile.names()),
        settings: profile.settings.clone(),
        profile,
        blocking,
    }))
}
