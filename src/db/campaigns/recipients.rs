//! A campaign's recipients: adding the owner's contacts (chosen, or all matching a search),
//! listing them, counting them.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::Campaign;
use crate::db::contacts::lower;
use crate::db::schema::{campaign_recipients, contacts, messages};
use crate::db::{DbConnection, now, write_transaction};
use crate::domain::{CampaignId, ContactId, Level};
use crate::on_each_backend;

/// Adds the owner's chosen contacts (others' ids are ignored); returns those added now.
pub fn add_recipients(
    conn: &mut DbConnection,
    campaign: &Campaign,
    contact_ids: &[ContactId],
) -> QueryResult<Added> {
    let owned: Vec<ContactId> = contacts::table
        .filter(contacts::owner_user_id.eq(campaign.owner.user_id))
        .filter(contacts::id.eq_any(contact_ids))
        .select(contacts::id)
        .load(conn)?;
    insert_recipients(conn, campaign.id, owned)
}

/// Adds every contact of the owner matching `search` (address or name); returns those added.
pub fn add_matching(
    conn: &mut DbConnection,
    campaign: &Campaign,
    search: &str,
) -> QueryResult<Added> {
    let (address, name) = crate::db::contacts::search_patterns(search);
    let matching: Vec<ContactId> = contacts::table
        .filter(contacts::owner_user_id.eq(campaign.owner.user_id))
        .filter(
            contacts::email
                .like(address)
                .escape('\\')
                .or(lower(contacts::name).like(name).escape('\\')),
        )
        .select(contacts::id)
        .load(conn)?;
    insert_recipients(conn, campaign.id, matching)
}

/// Adds the contacts not on the list yet, all with one `added_at`: the batch's name.
fn insert_recipients(
    conn: &mut DbConnection,
    campaign: CampaignId,
    contact_ids: Vec<ContactId>,
) -> QueryResult<Added> {
    write_transaction(conn, |conn| {
        let at = now();
        let mut added = Vec::new();
        // Row by row inside one transaction: the multi-row form with `on_conflict` does not
        // compile through the connection enum, and a person adds at most a few thousand.
        for contact in contact_ids {
            let values = (
                campaign_recipients::campaign_id.eq(campaign),
                campaign_recipients::contact_id.eq(contact),
                campaign_recipients::status.eq("pending"),
                campaign_recipients::added_at.eq(at),
            );
            let inserted =
                on_each_backend!(conn, |c| diesel::insert_into(campaign_recipients::table)
                    .values(values)
                    .on_conflict_do_nothing()
                    .execute(c))?;
            if inserted == 1 {
                added.push(contact);
            }
        }
        Ok(Added {
            contacts: added,
            at,
        })
    })
}

/// The contacts one submission added, and when (their shared `added_at`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Added {
    pub contacts: Vec<ContactId>,
    pub at: NaiveDateTime,
}

/// A recipient row on the campaign page, in the order [`recipients_page`] selects it.
#[derive(Debug, Clone, Queryable)]
pub struct Recipient {
    pub contact_id: ContactId,
    pub email: String,
    pub name: String,
    pub status: String,
    pub suppressed_level: Option<Level>,
    pub message_status: Option<String>,
}

/// One keyset page of recipients, ordered by address.
pub fn recipients_page(
    conn: &mut DbConnection,
    campaign: CampaignId,
    after: Option<(&str, i64)>,
    limit: i64,
) -> QueryResult<Vec<Recipient>> {
    let mut query = campaign_recipients::table
        .inner_join(contacts::table)
        .left_join(messages::table.on(messages::id.nullable().eq(campaign_recipients::message_id)))
        .filter(campaign_recipients::campaign_id.eq(campaign))
        .select((
            contacts::id,
            contacts::email,
            contacts::name,
            campaign_recipients::status,
            campaign_recipients::suppressed_level,
            messages::status.nullable(),
        ))
        .into_boxed();
    if let Some((email, id)) = after {
        query = query.filter(
            contacts::email.gt(email.to_owned()).or(contacts::email
                .eq(email.to_owned())
                .and(contacts::id.gt(id))),
        );
    }
    query
        .order((contacts::email.asc(), contacts::id.asc()))
        .limit(limit)
        .load::<Recipient>(conn)
}

pub fn count_recipients(conn: &mut DbConnection, campaign: CampaignId) -> QueryResult<i64> {
    campaign_recipients::table
        .filter(campaign_recipients::campaign_id.eq(campaign))
        .count()
        .get_result(conn)
}

/// The contacts added to the campaign in one submission: every row of one add shares its
/// `added_at` (see [`insert_recipients`]), which names the batch in the page's address.
pub fn added_at(
    conn: &mut DbConnection,
    campaign: CampaignId,
    at: NaiveDateTime,
) -> QueryResult<Vec<ContactId>> {
    campaign_recipients::table
        .filter(campaign_recipients::campaign_id.eq(campaign))
        .filter(campaign_recipients::added_at.eq(at))
        .select(campaign_recipients::contact_id)
        .load::<ContactId>(conn)
}
