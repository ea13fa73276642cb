//! The outbox and delivery log in one table. Rows are written in the transaction of the state
//! change that caused them; delivery workers claim, send and mark them.
//!
//! Claiming: PostgreSQL uses `FOR UPDATE SKIP LOCKED`, so workers in several processes never
//! take the same row; SQLite (one writer at a time) claims with one UPDATE in a `BEGIN
//! IMMEDIATE` transaction. A claim expires: rows a crashed worker held go back to the queue.
//! Every mark is guarded by the claim, so a worker whose claim expired cannot overwrite the
//! outcome of the worker that took the row over.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text, Timestamp};

use super::schema::{campaign_recipients, campaigns, messages, users};
use super::{DbConnection, now, write_transaction};
use crate::domain::wording::SenderNames;
use crate::domain::{
    CampaignId, ClientId, GroupId, Level, MessageId, MessageKind, OptOutId, Sender, UserId,
};
use crate::on_each_backend;

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

type ClaimEnded = (
    diesel::dsl::Eq<messages::claimed_by, Option<String>>,
    diesel::dsl::Eq<messages::claim_expires_at, Option<NaiveDateTime>>,
    diesel::dsl::Eq<messages::updated_at, NaiveDateTime>,
);

/// What every outcome of a claim sets besides the status: nobody holds the row any more.
fn claim_ended(at: NaiveDateTime) -> ClaimEnded {
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

/// The stored names of the kinds, for code that compares `messages.kind` as text (tests, SQL
/// written by hand); queries in this crate use [`MessageKind`].
pub const KIND_CAMPAIGN: &str = MessageKind::Campaign.as_str();
pub const KIND_OPT_OUT_CONFIRMATION: &str = MessageKind::OptOutConfirmation.as_str();
pub const KIND_OPT_IN_REQUEST: &str = MessageKind::OptInRequest.as_str();
pub const KIND_SUPPORT_LIFT_NOTICE: &str = MessageKind::SupportLiftNotice.as_str();

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
type Held<'a> = diesel::dsl::Filter<
    diesel::dsl::Filter<ById, diesel::dsl::Eq<messages::status, &'static str>>,
    diesel::dsl::Eq<messages::claimed_by, &'a str>,
>;
type ById = diesel::dsl::Filter<messages::table, diesel::dsl::Eq<messages::id, MessageId>>;

fn held(id: MessageId, worker: &str) -> Held<'_> {
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

/// Sent. `last_error` is kept: after retries the delivery log still shows what went wrong
/// before (the tries column says how many there were).
pub fn mark_sent(conn: &mut DbConnection, id: MessageId, worker: &str) -> QueryResult<bool> {
    let at = now();
    diesel::update(held(id, worker))
        .set((
            messages::status.eq("sent"),
            messages::sent_at.eq(Some(at)),
            claim_ended(at),
        ))
        .execute(conn)
        .map(|n| n == 1)
}

/// A transient failure: back to the queue until `next_attempt_at`, keeping the error.
pub fn schedule_retry(
    conn: &mut DbConnection,
    id: MessageId,
    worker: &str,
    next_attempt_at: NaiveDateTime,
    error: &str,
) -> QueryResult<bool> {
    diesel::update(held(id, worker))
        .set((
            messages::status.eq("queued"),
            messages::next_attempt_at.eq(next_attempt_at),
            messages::last_error.eq(Some(error)),
            claim_ended(now()),
        ))
        .execute(conn)
        .map(|n| n == 1)
}

/// A permanent failure (or too many tries): kept with the server's reply.
pub fn mark_failed(
    conn: &mut DbConnection,
    id: MessageId,
    worker: &str,
    error: &str,
) -> QueryResult<bool> {
    diesel::update(held(id, worker))
        .set((
            messages::status.eq("failed"),
            messages::last_error.eq(Some(error)),
            claim_ended(now()),
        ))
        .execute(conn)
        .map(|n| n == 1)
}

/// An opt-out arrived between queueing and sending: the message is never sent, and the
/// campaign's recipient row records why.
pub fn mark_suppressed(
    conn: &mut DbConnection,
    id: MessageId,
    worker: &str,
    level: Level,
) -> QueryResult<bool> {
    write_transaction(conn, |conn| {
        let updated = diesel::update(held(id, worker))
            .set((
                messages::status.eq("suppressed"),
                messages::last_error.eq(Some(format!("opted out at {level} level before sending"))),
                claim_ended(now()),
            ))
            .execute(conn)?;
        diesel::update(campaign_recipients::table.filter(campaign_recipients::message_id.eq(id)))
            .set((
                campaign_recipients::status.eq("suppressed"),
                campaign_recipients::suppressed_level.eq(Some(level)),
            ))
            .execute(conn)?;
        Ok(updated == 1)
    })
}

/// Message counts of a campaign by status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StatusCounts {
    pub queued: i64,
    pub sending: i64,
    pub sent: i64,
    pub failed: i64,
    pub suppressed: i64,
}

#[derive(Queryable)]
struct StatusCount {
    status: String,
    n: i64,
}

pub fn counts_for_campaign(
    conn: &mut DbConnection,
    campaign: CampaignId,
) -> QueryResult<StatusCounts> {
    let rows = messages::table
        .filter(messages::campaign_id.eq(campaign))
        .group_by(messages::status)
        .select((messages::status, diesel::dsl::count_star()))
        .load::<StatusCount>(conn)?;
    let mut counts = StatusCounts::default();
    for StatusCount { status, n } in rows {
        match status.as_str() {
            "queued" => counts.queued = n,
            "sending" => counts.sending = n,
            "sent" => counts.sent = n,
            "failed" => counts.failed = n,
            "suppressed" => counts.suppressed = n,
            _ => {}
        }
    }
    Ok(counts)
}

/// Whose delivery log a person sees.
#[derive(Debug, Clone, Copy)]
pub enum LogScope {
    Group(GroupId),
    Client(ClientId),
}

/// One line of Admin › Activity › Emails, in the order [`log_page`] selects it.
#[derive(Debug, Clone, Queryable)]
pub struct LogEntry {
    pub id: MessageId,
    pub kind: String,
    pub to_email: String,
    pub campaign_name: Option<String>,
    pub status: String,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub sent_at: Option<NaiveDateTime>,
}

/// The delivery log newest first, keyset pages after `(created_at, id)`.
pub fn log_page(
    conn: &mut DbConnection,
    scope: LogScope,
    after: Option<(NaiveDateTime, MessageId)>,
    limit: i64,
) -> QueryResult<Vec<LogEntry>> {
    let mut query = messages::table
        .left_join(campaigns::table.on(campaigns::id.nullable().eq(messages::campaign_id)))
        .select((
            messages::id,
            messages::kind,
            messages::to_email,
            campaigns::name.nullable(),
            messages::status,
            messages::attempts,
            messages::last_error,
            messages::created_at,
            messages::updated_at,
            messages::sent_at,
        ))
        .into_boxed();
    query = match scope {
        LogScope::Group(group) => query.filter(messages::group_id.eq(group)),
        LogScope::Client(client) => query.filter(messages::client_id.eq(client)),
    };
    if let Some((at, id)) = after {
        query = query.filter(
            messages::created_at
                .lt(at)
                .or(messages::created_at.eq(at).and(messages::id.lt(id))),
        );
    }
    query
        .order((messages::created_at.desc(), messages::id.desc()))
        .limit(limit)
        .load::<LogEntry>(conn)
}

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
pub(super) struct EmailRow {
    id: MessageId,
    to_email: String,
    group_id: GroupId,
    client_id: Option<ClientId>,
    sender_user_id: Option<UserId>,
    campaign_id: Option<CampaignId>,
}

/// The columns of [`EmailRow`].
#[diesel::dsl::auto_type(no_type_alias)]
pub(super) fn email_columns() -> _ {
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
pub(super) struct LinkedEmail {
    id: MessageId,
    to_email: String,
    pub(super) sender: Sender,
    campaign_id: Option<CampaignId>,
}

impl LinkedEmail {
    /// `None` for an email without a user and client behind it (nothing a link can act on).
    pub(super) fn from_row(row: EmailRow) -> Option<Self> {
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
    pub(super) fn with_names(self, names: SenderNames<'_>) -> LinkedMessage {
        LinkedMessage {
            id: self.id,
            to_email: self.to_email,
            sender: self.sender,
            campaign_id: self.campaign_id,
            sender_name: names.user.to_owned(),
        }
    }
}

/// Queues the confirmation of the opt-out `opt_out`, made from `about` at `level`. The payload
/// names the opt-out so the email can describe it and carry the link that lifts exactly it.
pub fn queue_confirmation(
    conn: &mut DbConnection,
    about: &LinkedMessage,
    level: Level,
    opt_out: OptOutId,
) -> QueryResult<MessageId> {
    // On the backend's own connection, as `consent_events::append`: once per opt-out of a burst.
    on_each_backend!(conn, |c| diesel::insert_into(messages::table)
        .values(ConfirmationRow::new(about, level, opt_out, now()))
        .returning(messages::id)
        .get_result::<MessageId>(c))
}

/// The outbox row of a confirmation email; `opt_out_batch` writes many in one statement.
#[derive(Insertable)]
#[diesel(table_name = messages, treat_none_as_default_value = false)]
pub(super) struct ConfirmationRow<'a> {
    kind: MessageKind,
    group_id: GroupId,
    client_id: ClientId,
    sender_user_id: UserId,
    to_email: &'a str,
    /// Which email, level and opt-out it confirms: also how a batch tells its rows apart.
    pub(super) payload: String,
    status: &'static str,
    next_attempt_at: NaiveDateTime,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

impl<'a> ConfirmationRow<'a> {
    pub(super) fn new(
        about: &'a LinkedMessage,
        level: Level,
        opt_out: OptOutId,
        at: NaiveDateTime,
    ) -> Self {
        Self {
            kind: MessageKind::OptOutConfirmation,
            group_id: about.sender.group_id,
            client_id: about.sender.client_id,
            sender_user_id: about.sender.user_id,
            to_email: &about.to_email,
            payload: ConfirmationPayload {
                about_message: about.id,
                level: level.as_str().to_owned(),
                opt_out: Some(opt_out),
            }
            .to_json(),
            status: "queued",
            next_attempt_at: at,
            created_at: at,
            updated_at: at,
        }
    }
}

/// What a confirmation email is about. `opt_out` is absent from rows queued before the link
/// named the opt-out (their link lifts the opt-out made from that email at that level).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ConfirmationPayload {
    // Typed ids serialise as plain numbers (`serde(transparent)`): the stored JSON is unchanged.
    pub about_message: MessageId,
    pub level: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opt_out: Option<OptOutId>,
}

impl ConfirmationPayload {
    fn to_json(&self) -> String {
        serde_json::to_string(self).expect("plain fields serialise")
    }
}

/// Queues an opt-in request about mail from `sender` to `to_email` (a contact who opted out);
/// `payload` is `opt_in_requests::RequestPayload` as JSON.
pub fn queue_opt_in_request(
    conn: &mut DbConnection,
    sender: &Sender,
    contact: crate::domain::ContactId,
    to_email: &str,
    payload: &str,
) -> QueryResult<MessageId> {
    let at = now();
    diesel::insert_into(messages::table)
        .values((
            messages::kind.eq(MessageKind::OptInRequest),
            messages::group_id.eq(sender.group_id),
            messages::client_id.eq(Some(sender.client_id)),
            messages::sender_user_id.eq(Some(sender.user_id)),
            messages::contact_id.eq(Some(contact)),
            messages::to_email.eq(to_email),
            messages::payload.eq(Some(payload)),
            messages::status.eq("queued"),
            messages::next_attempt_at.eq(at),
            messages::created_at.eq(at),
            messages::updated_at.eq(at),
        ))
        .returning(messages::id)
        .get_result::<MessageId>(conn)
}

/// Queues support's notice to the staff member who asked it to lift opt-outs: to them, in
/// their group (and client, so their client's admins see it in the delivery log). It has no
/// sender and no campaign: it is the platform writing to its own user.
pub fn queue_support_lift_notice(
    conn: &mut DbConnection,
    group: GroupId,
    client: Option<ClientId>,
    to_email: &str,
    payload: &str,
) -> QueryResult<MessageId> {
    let at = now();
    diesel::insert_into(messages::table)
        .values((
            messages::kind.eq(MessageKind::SupportLiftNotice),
            messages::group_id.eq(group),
            messages::client_id.eq(client),
            messages::to_email.eq(to_email),
            messages::payload.eq(Some(payload)),
            messages::status.eq("queued"),
            messages::next_attempt_at.eq(at),
            messages::created_at.eq(at),
            messages::updated_at.eq(at),
        ))
        .returning(messages::id)
        .get_result::<MessageId>(conn)
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
        crate::demo::load(&mut conn).unwrap();
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
