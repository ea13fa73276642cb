//! Campaigns: drafts, finding and listing them; their recipients (`recipients`) and sending
//! (`sending`) in modules of their own.

mod recipients;
mod sending;

pub use recipients::{
    Added, Recipient, add_matching, add_recipients, added_at, count_recipients, recipients_page,
};
pub use sending::{Queued, count_suppressed_now, queue_send};

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{campaigns, clients, groups, users};
use super::{DbConnection, now};
use crate::domain::rights::ContactsVisible;
use crate::domain::{CampaignId, ClientId, GroupId, Sender, UserId};

pub struct NewDraft<'a> {
    pub group_id: GroupId,
    pub client_id: ClientId,
    pub owner_user_id: UserId,
    pub name: &'a str,
    pub subject: &'a str,
    pub from_name: &'a str,
    pub body_text: &'a str,
    pub body_html: Option<&'a str>,
}

#[derive(Debug, Clone)]
pub struct Campaign {
    pub id: CampaignId,
    pub owner: Sender,
    pub name: String,
    pub subject: String,
    pub from_name: String,
    pub body_text: String,
    pub body_html: Option<String>,
    pub status: String,
    pub created_at: NaiveDateTime,
    pub sent_at: Option<NaiveDateTime>,
    pub owner_name: String,
    pub client_name: String,
    pub group_name: String,
}

/// A campaign as [`campaign_with_names!`] selects it, in that order.
#[derive(Queryable)]
struct CampaignRow {
    id: CampaignId,
    group_id: GroupId,
    client_id: ClientId,
    owner_user_id: UserId,
    name: String,
    subject: String,
    from_name: String,
    body_text: String,
    body_html: Option<String>,
    status: String,
    created_at: NaiveDateTime,
    sent_at: Option<NaiveDateTime>,
    owner_name: String,
    client_name: String,
    group_name: String,
}

impl From<CampaignRow> for Campaign {
    fn from(row: CampaignRow) -> Self {
        Campaign {
            id: row.id,
            owner: Sender {
                user_id: row.owner_user_id,
                client_id: row.client_id,
                group_id: row.group_id,
            },
            name: row.name,
            subject: row.subject,
            from_name: row.from_name,
            body_text: row.body_text,
            body_html: row.body_html,
            status: row.status,
            created_at: row.created_at,
            sent_at: row.sent_at,
            owner_name: row.owner_name,
            client_name: row.client_name,
            group_name: row.group_name,
        }
    }
}

macro_rules! campaign_with_names {
    () => {
        campaigns::table
            .inner_join(users::table)
            .inner_join(clients::table)
            .inner_join(groups::table)
            .select((
                campaigns::id,
                campaigns::group_id,
                campaigns::client_id,
                campaigns::owner_user_id,
                campaigns::name,
                campaigns::subject,
                campaigns::from_name,
                campaigns::body_text,
                campaigns::body_html,
                campaigns::status,
                campaigns::created_at,
                campaigns::sent_at,
                users::display_name,
                clients::name,
                groups::name,
            ))
    };
}

pub fn find_by_owner_and_name(
    conn: &mut DbConnection,
    owner: UserId,
    name: &str,
) -> QueryResult<Option<CampaignId>> {
    campaigns::table
        .filter(campaigns::owner_user_id.eq(owner))
        .filter(campaigns::name.eq(name))
        .select(campaigns::id)
        .first::<CampaignId>(conn)
        .optional()
}

pub fn create_draft(conn: &mut DbConnection, draft: &NewDraft<'_>) -> QueryResult<CampaignId> {
    let at = now();
    diesel::insert_into(campaigns::table)
        .values((
            campaigns::group_id.eq(draft.group_id),
            campaigns::client_id.eq(draft.client_id),
            campaigns::owner_user_id.eq(draft.owner_user_id),
            campaigns::name.eq(draft.name),
            campaigns::subject.eq(draft.subject),
            campaigns::from_name.eq(draft.from_name),
            campaigns::body_text.eq(draft.body_text),
            campaigns::body_html.eq(draft.body_html),
            campaigns::status.eq("draft"),
            campaigns::created_at.eq(at),
            campaigns::updated_at.eq(at),
        ))
        .returning(campaigns::id)
        .get_result::<CampaignId>(conn)
}

pub fn find(conn: &mut DbConnection, id: CampaignId) -> QueryResult<Option<Campaign>> {
    campaign_with_names!()
        .filter(campaigns::id.eq(id))
        .first::<CampaignRow>(conn)
        .optional()
        .map(|row| row.map(Campaign::from))
}

/// Campaigns a person sees, newest first, `limit` per page after `before` (an id).
pub fn page(
    conn: &mut DbConnection,
    visible: ContactsVisible,
    before: Option<CampaignId>,
    limit: i64,
) -> QueryResult<Vec<Campaign>> {
    let mut query = campaign_with_names!().into_boxed();
    query = match visible {
        ContactsVisible::OwnedBy(user) => query.filter(campaigns::owner_user_id.eq(user)),
        ContactsVisible::InClient(client) => query.filter(campaigns::client_id.eq(client)),
        ContactsVisible::InGroup(group) => query.filter(campaigns::group_id.eq(group)),
        ContactsVisible::Everywhere => query,
        ContactsVisible::Nothing => return Ok(Vec::new()),
    };
    if let Some(before) = before {
        query = query.filter(campaigns::id.lt(before));
    }
    query
        .order(campaigns::id.desc())
        .limit(limit)
        .load::<CampaignRow>(conn)
        .map(|rows| rows.into_iter().map(Campaign::from).collect())
}
