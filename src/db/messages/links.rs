//! The email a recipient's link names, as the link pages read it.

use diesel::prelude::*;

use crate::db::schema::messages;
use crate::domain::wording::SenderNames;
use crate::domain::{CampaignId, ClientId, GroupId, MessageId, Sender, UserId};

/// The email a recipient's link names, with what the Preference Center shows about it.
#[derive(Debug, Clone)]
pub struct LinkedMessage {
    pub id: MessageId,
    pub to_email: String,
    pub sender: Sender,
    pub campaign_id: Option<CampaignId>,
    pub sender_name: String,
}

/// An email's own columns that a link needs: its id, its recipient, its sender's group, client
/// and user, its campaign (selected by [`email_columns`], in that order).
#[derive(Queryable)]
pub(in crate::db) struct EmailRow {
    id: MessageId,
    to_email: String,
    group_id: GroupId,
    client_id: Option<ClientId>,
    sender_user_id: Option<UserId>,
    campaign_id: Option<CampaignId>,
}

/// The columns of [`EmailRow`].
#[diesel::dsl::auto_type(no_type_alias)]
pub(in crate::db) fn email_columns() -> _ {
    (
        messages::id,
        messages::to_email,
        messages::group_id,
        messages::client_id,
        messages::sender_user_id,
        messages::campaign_id,
    )
}

/// The email a link names, before its sender's names are known.
#[derive(Debug)]
pub(in crate::db) struct LinkedEmail {
    id: MessageId,
    to_email: String,
    pub(in crate::db) sender: Sender,
    campaign_id: Option<CampaignId>,
}

impl LinkedEmail {
    /// `None` for an email without a user and client behind it (nothing a link can act on).
    pub(in crate::db) fn from_row(row: EmailRow) -> Option<Self> {
        Some(Self {
            id: row.id,
            to_email: row.to_email,
            sender: Sender {
                user_id: row.sender_user_id?,
                client_id: row.client_id?,
                group_id: row.group_id,
            },
            campaign_id: row.campaign_id,
        })
    }

    /// The email with its sender's names.
    pub(in crate::db) fn with_names(self, names: SenderNames<'_>) -> LinkedMessage {
        LinkedMessage {
            id: self.id,
            to_email: self.to_email,
            sender: self.sender,
            campaign_id: self.campaign_id,
            sender_name: names.user.to_owned(),
        }
    }
}
