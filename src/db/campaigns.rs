//! Campaigns, their recipients, and queueing a send.

use chrono::NaiveDateTime;
use diesel::dsl::exists;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text, Timestamp};

use super::cascade::blocks_sender;
use super::contacts::lower;
use super::schema::{
    campaign_recipients, campaigns, clients, contacts, groups, messages, opt_outs, users,
};
use super::{DbConnection, now, write_transaction};
use crate::domain::rights::ContactsVisible;
use crate::domain::{CampaignId, ClientId, ContactId, GroupId, Level, MessageKind, Sender, UserId};
use crate::on_each_backend;

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
    let (address, name) = super::contacts::search_patterns(search);
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

/// How many of the campaign's recipients an active opt-out blocks for its sender right now:
/// what a send would skip if it ran now (it checks again when it runs).
pub fn count_suppressed_now(conn: &mut DbConnection, campaign: &Campaign) -> QueryResult<i64> {
    let sender = campaign.owner;
    let blocking = opt_outs::table
        .filter(opt_outs::email.eq(contacts::email))
        .filter(blocks_sender!(
            sender.group_id,
            sender.client_id,
            sender.user_id
        ));
    campaign_recipients::table
        .inner_join(contacts::table)
        .filter(campaign_recipients::campaign_id.eq(campaign.id))
        .filter(exists(blocking))
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

/// What a send did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Queued {
    pub queued: usize,
    pub suppressed: usize,
}

/// Queues the campaign: re-checks every recipient against the active opt-outs at this moment
/// (set-based, broadest level first), records the suppressed ones with their level, and writes
/// one outbox message per deliverable recipient — all in one transaction, so an opt-out
/// committed before the send began is never sent to. `None` when the campaign is not a draft
/// (already sent: a second click does nothing).
pub fn queue_send(conn: &mut DbConnection, campaign: &Campaign) -> QueryResult<Option<Queued>> {
    let id = campaign.id;
    let sender = campaign.owner;
    write_transaction(conn, |conn| {
        let at = now();
        let started = diesel::update(
            campaigns::table
                .filter(campaigns::id.eq(id))
                .filter(campaigns::status.eq("draft")),
        )
        .set((
            campaigns::status.eq("sent"),
            campaigns::sent_at.eq(Some(at)),
            campaigns::updated_at.eq(at),
        ))
        .execute(conn)?;
        if started == 0 {
            return Ok(None);
        }
        let mut suppressed = 0;
        for level in Level::ALL {
            // The blocking opt-outs at this level: broadest first, so a recipient blocked at
            // several is recorded with the broadest (the reason shown).
            let blocking = opt_outs::table
                .inner_join(contacts::table.on(contacts::email.eq(opt_outs::email)))
                .filter(contacts::id.eq(campaign_recipients::contact_id))
                .filter(blocks_sender!(
                    sender.group_id,
                    sender.client_id,
                    sender.user_id
                ))
                .filter(opt_outs::level.eq(level));
            suppressed += diesel::update(
                campaign_recipients::table
                    .filter(campaign_recipients::campaign_id.eq(id))
                    .filter(campaign_recipients::status.eq("pending"))
                    .filter(exists(blocking)),
            )
            .set((
                campaign_recipients::status.eq("suppressed"),
                campaign_recipients::suppressed_level.eq(Some(level)),
            ))
            .execute(conn)?;
        }
        let queued = queue_messages(conn, campaign, at)?;
        Ok(Some(Queued { queued, suppressed }))
    })
}

/// One outbox row per pending recipient, then the recipients point at their messages.
fn queue_messages(
    conn: &mut DbConnection,
    campaign: &Campaign,
    at: NaiveDateTime,
) -> QueryResult<usize> {
    let sender = campaign.owner;
    let pending = campaign_recipients::table
        .inner_join(contacts::table)
        .filter(campaign_recipients::campaign_id.eq(campaign.id))
        .filter(campaign_recipients::status.eq("pending"))
        .select((
            MessageKind::Campaign.into_sql::<Text>(),
            sender.group_id.into_sql::<BigInt>(),
            Some(sender.client_id).into_sql::<Nullable<BigInt>>(),
            Some(sender.user_id).into_sql::<Nullable<BigInt>>(),
            Some(campaign.id).into_sql::<Nullable<BigInt>>(),
            contacts::id.nullable(),
            contacts::email,
            "queued".into_sql::<Text>(),
            at.into_sql::<Timestamp>(),
            at.into_sql::<Timestamp>(),
            at.into_sql::<Timestamp>(),
        ));
    let queued = diesel::insert_into(messages::table)
        .values(pending)
        .into_columns((
            messages::kind,
            messages::group_id,
            messages::client_id,
            messages::sender_user_id,
            messages::campaign_id,
            messages::contact_id,
            messages::to_email,
            messages::status,
            messages::next_attempt_at,
            messages::created_at,
            messages::updated_at,
        ))
        .execute(conn)?;
    let message_of_recipient = messages::table
        .filter(messages::campaign_id.eq(campaign.id))
        .filter(messages::contact_id.eq(campaign_recipients::contact_id.nullable()))
        .select(messages::id.nullable())
        .single_value();
    diesel::update(
        campaign_recipients::table
            .filter(campaign_recipients::campaign_id.eq(campaign.id))
            .filter(campaign_recipients::status.eq("pending")),
    )
    .set((
        campaign_recipients::status.eq("queued"),
        campaign_recipients::message_id.eq(message_of_recipient.assume_not_null().nullable()),
    ))
    .execute(conn)?;
    Ok(queued)
}
