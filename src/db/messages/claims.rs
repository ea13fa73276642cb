//! Handing queued rows to a delivery worker: claiming due rows, renewing and giving back
//! claims, and loading a claimed row with what building its email needs.
//!
//! Claiming: PostgreSQL uses `FOR UPDATE SKIP LOCKED`, so workers in several processes never
//! take the same row; SQLite (one writer at a time) claims with one UPDATE in a `BEGIN
//! IMMEDIATE` transaction. A claim expires: rows a crashed worker held go back to the queue.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text, Timestamp};

use crate::db::schema::{campaigns, messages, users};
use crate::db::{DbConnection, now, write_transaction};
use crate::domain::{CampaignId, ClientId, GroupId, MessageId, MessageKind, Sender, UserId};

#[derive(QueryableByName)]
struct ClaimedRow {
    #[diesel(sql_type = BigInt)]
    id: MessageId,
}

/// Claims up to `batch` due messages for `worker` until `claim_until`; returns their ids.
pub fn claim_due(
    conn: &mut DbConnection,
    worker: &str,
    batch: i64,
    claim_until: NaiveDateTime,
) -> QueryResult<Vec<MessageId>> {
    let at = now();
    let rows: Vec<ClaimedRow> = match conn {
        DbConnection::Postgresql(c) => diesel::sql_query(
            "UPDATE messages SET status = 'sending', claimed_by = $1, claim_expires_at = $2,
                    attempts = attempts + 1, updated_at = $3
             WHERE id IN (SELECT id FROM messages
                          WHERE status = 'queued' AND next_attempt_at <= $3
                          ORDER BY next_attempt_at, id LIMIT $4
                          FOR UPDATE SKIP LOCKED)
             RETURNING id",
        )
        .bind::<Text, _>(worker)
        .bind::<Timestamp, _>(claim_until)
        .bind::<Timestamp, _>(at)
        .bind::<BigInt, _>(batch)
        .load(c)?,
        DbConnection::Sqlite(_) => write_transaction(conn, |conn| {
            let DbConnection::Sqlite(c) = conn else {
                unreachable!("matched SQLite above")
            };
            diesel::sql_query(
                "UPDATE messages SET status = 'sending', claimed_by = ?, claim_expires_at = ?,
                        attempts = attempts + 1, updated_at = ?
                 WHERE id IN (SELECT id FROM messages
                              WHERE status = 'queued' AND next_attempt_at <= ?
                              ORDER BY next_attempt_at, id LIMIT ?)
                 RETURNING id",
            )
            .bind::<Text, _>(worker)
            .bind::<Timestamp, _>(claim_until)
            .bind::<Timestamp, _>(at)
            .bind::<Timestamp, _>(at)
            .bind::<BigInt, _>(batch)
            .load(c)
        })?,
    };
    let mut ids: Vec<MessageId> = rows.into_iter().map(|r| r.id).collect();
    ids.sort();
    Ok(ids)
}

pub(super) type ClaimEnded = (
    diesel::dsl::Eq<messages::claimed_by, Option<String>>,
    diesel::dsl::Eq<messages::claim_expires_at, Option<NaiveDateTime>>,
    diesel::dsl::Eq<messages::updated_at, NaiveDateTime>,
);

/// What every outcome of a claim sets besides the status: nobody holds the row any more.
pub(super) fn claim_ended(at: NaiveDateTime) -> ClaimEnded {
    (
        messages::claimed_by.eq(None),
        messages::claim_expires_at.eq(None),
        messages::updated_at.eq(at),
    )
}

/// Puts rows whose claim expired (their worker died) back in the queue.
pub fn recover_expired_claims(conn: &mut DbConnection) -> QueryResult<usize> {
    let at = now();
    diesel::update(
        messages::table
            .filter(messages::status.eq("sending"))
            .filter(messages::claim_expires_at.lt(at)),
    )
    .set((messages::status.eq("queued"), claim_ended(at)))
    .execute(conn)
}

/// On shutdown: gives back every row this worker claimed but did not finish.
pub fn release(conn: &mut DbConnection, worker: &str) -> QueryResult<usize> {
    diesel::update(
        messages::table
            .filter(messages::status.eq("sending"))
            .filter(messages::claimed_by.eq(worker)),
    )
    .set((
        messages::status.eq("queued"),
        claim_ended(now()),
        // The try never happened.
        messages::attempts.eq(messages::attempts - 1),
    ))
    .execute(conn)
}

/// What the worker needs to build and send one email from a sender.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub id: MessageId,
    pub kind: MessageKind,
    pub to_email: String,
    pub attempts: i32,
    /// When it was queued: with the id, what makes its Message-ID unique and stable.
    pub queued_at: NaiveDateTime,
    pub sender: Sender,
    pub sender_email: String,
    pub sender_name: String,
    pub campaign: Option<CampaignContent>,
    pub payload: Option<String>,
}

#[derive(Debug, Clone, Queryable)]
pub struct CampaignContent {
    pub id: CampaignId,
    pub subject: String,
    pub from_name: String,
    pub body_text: String,
    pub body_html: Option<String>,
}

/// A claimed message as [`load_claimed`] selects it, in that order.
#[derive(Queryable)]
struct DeliveryRow {
    id: MessageId,
    kind: String,
    to_email: String,
    attempts: i32,
    group_id: GroupId,
    client_id: Option<ClientId>,
    sender_user_id: Option<UserId>,
    payload: Option<String>,
    queued_at: NaiveDateTime,
    sender_email: String,
    sender_name: String,
    campaign: Option<CampaignContent>,
}

/// A claimed message as loaded: ready to build, or of a kind this version does not know.
#[derive(Debug, Clone)]
pub enum Claimed {
    Ready(Box<Delivery>),
    /// Never sent as anything else: the worker marks it failed. (Read as text rather than as
    /// `MessageKind`, so the row is reported instead of failing the query.)
    UnknownKind(String),
}

/// The claimed message with its sender and campaign, if this worker still holds it (the
/// sender's names as recipients see them come from its profile: `sender_profile`). A row with
/// no user and client behind it (a notice to staff) is not found here.
pub fn load_claimed(
    conn: &mut DbConnection,
    id: MessageId,
    worker: &str,
) -> QueryResult<Option<Claimed>> {
    let row = messages::table
        .inner_join(users::table.on(users::id.nullable().eq(messages::sender_user_id)))
        .left_join(campaigns::table.on(campaigns::id.nullable().eq(messages::campaign_id)))
        .filter(messages::id.eq(id))
        .filter(messages::status.eq("sending"))
        .filter(messages::claimed_by.eq(worker))
        .select((
            messages::id,
            messages::kind,
            messages::to_email,
            messages::attempts,
            messages::group_id,
            messages::client_id,
            messages::sender_user_id,
            messages::payload,
            messages::created_at,
            users::email,
            users::display_name,
            (
                campaigns::id,
                campaigns::subject,
                campaigns::from_name,
                campaigns::body_text,
                campaigns::body_html,
            )
                .nullable(),
        ))
        .first::<DeliveryRow>(conn)
        .optional()?;
    Ok(row.and_then(|row| {
        let Some(kind) = MessageKind::from_stored(&row.kind) else {
            return Some(Claimed::UnknownKind(row.kind));
        };
        Some(Claimed::Ready(Box::new(Delivery {
            id: row.id,
            kind,
            to_email: row.to_email,
            attempts: row.attempts,
            queued_at: row.queued_at,
            sender: Sender {
                user_id: row.sender_user_id?,
                client_id: row.client_id?,
                group_id: row.group_id,
            },
            sender_email: row.sender_email,
            sender_name: row.sender_name,
            payload: row.payload,
            campaign: row.campaign,
        })))
    }))
}

/// The row, while this worker holds its claim.
pub(super) type Held<'a> = diesel::dsl::Filter<
    diesel::dsl::Filter<ById, diesel::dsl::Eq<messages::status, &'static str>>,
    diesel::dsl::Eq<messages::claimed_by, &'a str>,
>;
type ById = diesel::dsl::Filter<messages::table, diesel::dsl::Eq<messages::id, MessageId>>;

pub(super) fn held(id: MessageId, worker: &str) -> Held<'_> {
    messages::table
        .filter(messages::id.eq(id))
        .filter(messages::status.eq("sending"))
        .filter(messages::claimed_by.eq(worker))
}

/// Renews this worker's claim on one message just before it is sent, and only while the claim
/// has not expired: a worker that fell behind (its claim ran out while it sent the rest of its
/// batch) must not send a message another worker may already be sending. Returns whether the
/// message is still this worker's to send.
pub fn renew_claim(
    conn: &mut DbConnection,
    id: MessageId,
    worker: &str,
    claim_until: NaiveDateTime,
) -> QueryResult<bool> {
    let at = now();
    diesel::update(held(id, worker).filter(messages::claim_expires_at.gt(at)))
        .set((
            messages::claim_expires_at.eq(Some(claim_until)),
            messages::updated_at.eq(at),
        ))
        .execute(conn)
        .map(|n| n == 1)
}

/// A claimed notice to a staff member: what the worker needs to build and send it (selected
/// in this order by [`load_claimed_notice`]).
#[derive(Debug, Clone, Queryable)]
pub struct StaffNotice {
    pub id: MessageId,
    pub to_email: String,
    pub attempts: i32,
    /// With the id, what makes its Message-ID unique and stable (as for [`Delivery`]).
    pub queued_at: NaiveDateTime,
    pub payload: Option<String>,
}

/// The claimed notice, if this worker still holds it. [`load_claimed`] does not find notices:
/// it joins the sender and campaign, which a notice has not.
pub fn load_claimed_notice(
    conn: &mut DbConnection,
    id: MessageId,
    worker: &str,
) -> QueryResult<Option<StaffNotice>> {
    held(id, worker)
        .filter(messages::kind.eq(MessageKind::SupportLiftNotice))
        .select((
            messages::id,
            messages::to_email,
            messages::attempts,
            messages::created_at,
            messages::payload,
        ))
        .first::<StaffNotice>(conn)
        .optional()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::{DatabaseUrl, build_pool, run_migrations};
    use crate::domain::EmailAddress;
    use diesel::connection::SimpleConnection;

    #[test]
    fn a_claimed_message_of_an_unknown_kind_is_reported_not_guessed_at() {
        let dir = tempfile::tempdir().unwrap();
        let url = DatabaseUrl::Sqlite {
            path: dir.path().join("t.sqlite"),
        };
        let pool = build_pool(&url, 1).unwrap();
        let mut conn = pool.get().unwrap();
        run_migrations(&mut conn).unwrap();
        crate::seed::demo::load(&mut conn).unwrap();
        let sender = crate::db::accounts::find_user_by_email(
            &mut conn,
            &EmailAddress::parse("nina.patel@acme.example").unwrap(),
        )
        .unwrap()
        .unwrap();
        // A kind only a newer version knows: the table's CHECK refuses it, so it is lifted for
        // this one row (as a newer version's migration would have widened it).
        conn.batch_execute("PRAGMA ignore_check_constraints = ON")
            .unwrap();
        let at = now();
        let id: MessageId = diesel::insert_into(messages::table)
            .values((
                messages::kind.eq("newsletter"),
                messages::group_id.eq(sender.group_id.unwrap()),
                messages::client_id.eq(sender.client_id),
                messages::sender_user_id.eq(Some(sender.id)),
                messages::to_email.eq("zoe@example.test"),
                messages::status.eq("queued"),
                messages::next_attempt_at.eq(at),
                messages::created_at.eq(at),
                messages::updated_at.eq(at),
            ))
            .returning(messages::id)
            .get_result(&mut *conn)
            .unwrap();
        conn.batch_execute("PRAGMA ignore_check_constraints = OFF")
            .unwrap();

        let claimed = claim_due(&mut conn, "w", 10_000, at + chrono::Duration::hours(1)).unwrap();
        assert!(claimed.contains(&id));
        match load_claimed(&mut conn, id, "w").unwrap() {
            Some(Claimed::UnknownKind(kind)) => assert_eq!(kind, "newsletter"),
            other => panic!("expected an unknown kind, got {other:?}"),
        }
    }
}
