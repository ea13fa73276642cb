//! Campaigns. Composing, recipients and sending arrive with the campaigns issue.

use diesel::prelude::*;

use super::schema::campaigns;
use super::{DbConnection, now};
use crate::domain::{CampaignId, ClientId, GroupId, UserId};

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

pub fn find_by_owner_and_name(
    conn: &mut DbConnection,
    owner: UserId,
    name: &str,
) -> QueryResult<Option<CampaignId>> {
    campaigns::table
        .filter(campaigns::owner_user_id.eq(owner.0))
        .filter(campaigns::name.eq(name))
        .select(campaigns::id)
        .first::<i64>(conn)
        .optional()
        .map(|id| id.map(CampaignId))
}

pub fn create_draft(conn: &mut DbConnection, draft: &NewDraft<'_>) -> QueryResult<CampaignId> {
    let at = now();
    diesel::insert_into(campaigns::table)
        .values((
            campaigns::group_id.eq(draft.group_id.0),
            campaigns::client_id.eq(draft.client_id.0),
            campaigns::owner_user_id.eq(draft.owner_user_id.0),
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
        .get_result::<i64>(conn)
        .map(CampaignId)
}
