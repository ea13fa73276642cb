//! Sending a campaign: what an opt-out would skip now, and queueing the send in one
//! transaction with the suppression check.

use chrono::NaiveDateTime;
use diesel::dsl::exists;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text, Timestamp};

use super::Campaign;
use crate::db::cascade::blocks_sender;
use crate::db::schema::{campaign_recipients, campaigns, contacts, messages, opt_outs};
use crate::db::{DbConnection, now, write_transaction};
use crate::domain::{Level, MessageKind};

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
