//! Active opt-outs: at most one row per (address, group, level, scope), changed only together
//! with the consent event that explains the change, in one transaction.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use std::collections::HashMap;

use super::cascade::{blocks_sender, blocks_sender_sql, broadest_rank_sql};
use super::consent_events::{self, NewConsentEvent};
use super::schema::{campaigns, contacts, opt_outs, users};
use super::{DbConnection, now, write_transaction};
use crate::domain::{
    CampaignId, ContactId, EmailAddress, EventKind, GroupId, Level, MessageId, OptOutId, Scope,
    Sender, Source, UserId,
};
use crate::on_each_backend;

/// An active opt-out as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActiveOptOut {
    pub id: OptOutId,
    pub group_id: GroupId,
    pub scope: Scope,
    pub email: String,
    pub source: String,
    pub actor_user_id: Option<UserId>,
    pub campaign_id: Option<CampaignId>,
    pub message_id: Option<MessageId>,
    pub reason: Option<String>,
    pub created_at: NaiveDateTime,
}

/// An applying opt-out with the names a person needs to understand it.
#[derive(Debug, Clone)]
pub struct ExplainedOptOut {
    pub opt_out: ActiveOptOut,
    /// Who recorded it, when a staff member did.
    pub actor_name: Option<String>,
    /// The campaign whose email it came from, when known.
    pub campaign_name: Option<String>,
}

/// The stored row, in column order (loaded with `opt_outs::all_columns`).
#[derive(Queryable, Selectable)]
#[diesel(table_name = opt_outs)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub(super) struct OptOutRow {
    id: OptOutId,
    group_id: GroupId,
    level: Level,
    scope_id: i64,
    email: String,
    source: String,
    actor_user_id: Option<UserId>,
    campaign_id: Option<CampaignId>,
    message_id: Option<MessageId>,
    reason: Option<String>,
    created_at: NaiveDateTime,
}

/// An opt-out with the names of who recorded it and of its campaign, as [`applying_to`] selects.
#[derive(Queryable)]
struct ExplainedRow {
    opt_out: OptOutRow,
    actor_name: Option<String>,
    campaign_name: Option<String>,
}

/// An opt-out with the names of its group and scope, as [`everywhere`] selects.
#[derive(Queryable)]
struct NamedRow {
    opt_out: OptOutRow,
    group_name: String,
    client_name: Option<String>,
    user_name: Option<String>,
}

/// The stored form of an opt-out's scope, with its address.
#[derive(Queryable)]
struct ScopeRow {
    email: String,
    level: Level,
    scope_id: i64,
}

impl From<OptOutRow> for ActiveOptOut {
    fn from(row: OptOutRow) -> Self {
        ActiveOptOut {
            id: row.id,
            group_id: row.group_id,
            scope: Scope::from_stored(row.level, row.scope_id),
            email: row.email,
            source: row.source,
            actor_user_id: row.actor_user_id,
            campaign_id: row.campaign_id,
            message_id: row.message_id,
            reason: row.reason,
            created_at: row.created_at,
        }
    }
}

/// Records an opt-out with its evidence in one transaction. When the same opt-out is already
/// active nothing changes and nothing is appended (double clicks and replays are harmless).
/// Returns whether a new opt-out was recorded.
pub fn record(conn: &mut DbConnection, event: &NewConsentEvent<'_>) -> QueryResult<bool> {
    record_at(conn, event, None)
}

/// As [`record`], with the moment the recipient opted out when it was earlier than now (an
/// import of older opt-outs).
pub fn record_at(
    conn: &mut DbConnection,
    event: &NewConsentEvent<'_>,
    given_at: Option<chrono::NaiveDateTime>,
) -> QueryResult<bool> {
    write_transaction(conn, |conn| {
        insert_with_event(conn, event, given_at).map(|id| id.is_some())
    })
}

/// The row an opt-out event makes active; `opt_out_batch` writes many in one statement.
#[derive(Insertable)]
#[diesel(table_name = opt_outs, treat_none_as_default_value = false)]
pub(super) struct NewOptOutRow<'a> {
    pub(super) group_id: GroupId,
    pub(super) level: Level,
    pub(super) scope_id: i64,
    pub(super) email: &'a str,
    source: Source,
    actor_user_id: Option<UserId>,
    campaign_id: Option<CampaignId>,
    message_id: Option<MessageId>,
    reason: Option<&'a str>,
    created_at: chrono::NaiveDateTime,
}

impl<'a> NewOptOutRow<'a> {
    pub(super) fn new(event: &NewConsentEvent<'a>, created_at: chrono::NaiveDateTime) -> Self {
        debug_assert_eq!(event.kind, EventKind::OptOut);
        let scope = event
            .scope
            .expect("an opt-out always has a scope (level and scope id)");
        Self {
            group_id: event.group_id,
            level: scope.level(),
            scope_id: scope.scope_id(),
            email: event.email.as_str(),
            source: event.source,
            actor_user_id: event.actor_user_id,
            campaign_id: event.campaign_id,
            message_id: event.message_id,
            reason: event.reason,
            created_at,
        }
    }
}

/// The body of [`record_at`] for a caller that already holds a write transaction
/// (`unsubscribes::opt_out_from_link`): no savepoint of its own, so an error here must fail
/// that transaction. Returns the new opt-out's id; `None` when it was active already.
pub(super) fn insert_with_event(
    conn: &mut DbConnection,
    event: &NewConsentEvent<'_>,
    given_at: Option<chrono::NaiveDateTime>,
) -> QueryResult<Option<OptOutId>> {
    let row = NewOptOutRow::new(event, given_at.unwrap_or_else(now));
    // `on_conflict` does not compile through the connection enum: same DSL, each backend.
    // A conflict inserts nothing and so returns no row.
    let inserted = on_each_backend!(conn, |c| diesel::insert_into(opt_outs::table)
        .values(&row)
        .on_conflict_do_nothing()
        .returning(opt_outs::id)
        .get_result::<OptOutId>(c)
        .optional())?;
    if inserted.is_some() {
        consent_events::append(conn, event)?;
    }
    Ok(inserted)
}

/// Lifts exactly the active opt-out `id` of `email`, appending the event `opt_in` makes for
/// it in the same transaction; returns the opt-out lifted. Nothing changes and nothing is
/// appended when that row is no longer active: lifted already, or replaced by a newer opt-out
/// of the same scope (which has another id, and which this act did not name).
///
/// Only the recipient (through a signed link naming the row, or a page that listed it) and
/// support (with written consent) may cause this.
pub fn lift_exact<'a>(
    conn: &mut DbConnection,
    id: OptOutId,
    email: &EmailAddress,
    opt_in: impl FnOnce(&ActiveOptOut) -> NewConsentEvent<'a>,
) -> QueryResult<Option<ActiveOptOut>> {
    write_transaction(conn, |conn| {
        let Some(row) = opt_outs::table
            .filter(opt_outs::id.eq(id))
            .filter(opt_outs::email.eq(email.as_str()))
            .first::<OptOutRow>(conn)
            .optional()?
        else {
            return Ok(None);
        };
        let active = ActiveOptOut::from(row);
        let event = opt_in(&active);
        debug_assert_eq!(event.kind, EventKind::OptIn);
        debug_assert_eq!(event.scope, Some(active.scope));
        // By id and address: a concurrent lift of the same row removes it once, and only the
        // one that removed it appends the event.
        let removed = diesel::delete(
            opt_outs::table
                .filter(opt_outs::id.eq(id))
                .filter(opt_outs::email.eq(email.as_str())),
        )
        .execute(conn)?;
        if removed == 0 {
            return Ok(None);
        }
        consent_events::append(conn, &event)?;
        Ok(Some(active))
    })
}

/// Every active opt-out of `email` that blocks mail from `sender`, broadest first, with the
/// names of who recorded it and the campaign it came from ("why is this contact suppressed?").
pub fn applying_to(
    conn: &mut DbConnection,
    email: &str,
    sender: &Sender,
) -> QueryResult<Vec<ExplainedOptOut>> {
    let mut applying = opt_outs::table
        .left_join(users::table.on(users::id.nullable().eq(opt_outs::actor_user_id)))
        .left_join(campaigns::table.on(campaigns::id.nullable().eq(opt_outs::campaign_id)))
        .filter(opt_outs::email.eq(email))
        .filter(blocks_sender!(
            sender.group_id,
            sender.client_id,
            sender.user_id
        ))
        .select((
            opt_outs::all_columns,
            users::display_name.nullable(),
            campaigns::name.nullable(),
        ))
        .load::<ExplainedRow>(conn)?
        .into_iter()
        .map(|row| ExplainedOptOut {
            opt_out: ActiveOptOut::from(row.opt_out),
            actor_name: row.actor_name,
            campaign_name: row.campaign_name,
        })
        .collect::<Vec<_>>();
    applying.sort_by_key(|o| o.opt_out.scope.level());
    Ok(applying)
}

/// The levels at which mail from `sender` to `email` is blocked now, broadest first: what
/// [`applying_to`] says without the names, for the hot paths (recipient pages, the worker's
/// last check before sending).
pub fn blocking_levels(
    conn: &mut DbConnection,
    email: &str,
    sender: &Sender,
) -> QueryResult<Vec<Level>> {
    let mut levels = opt_outs::table
        .filter(opt_outs::email.eq(email))
        .filter(blocks_sender!(
            sender.group_id,
            sender.client_id,
            sender.user_id
        ))
        .select(opt_outs::level)
        .load::<Level>(conn)?;
    levels.sort();
    Ok(levels)
}

#[derive(QueryableByName)]
struct SuppressedRow {
    #[diesel(sql_type = Text)]
    email: String,
    #[diesel(sql_type = BigInt)]
    level_rank: i64,
}

/// For many addresses and one sender: the suppressed ones with their broadest level. One
/// set-based query: the addresses travel as one parameter (a JSON array on SQLite, a text
/// array on PostgreSQL) and are joined against the unique index on `opt_outs` — no query per
/// address and no giant `IN` list. Callers with millions of addresses pass them in chunks.
pub fn suppressed_among(
    conn: &mut DbConnection,
    sender: &Sender,
    emails: &[EmailAddress],
) -> QueryResult<HashMap<String, Level>> {
    if emails.is_empty() {
        return Ok(HashMap::new());
    }
    // Sorted (byte order: near enough to the index's) and without repeats: each probe of the
    // index then lands on or beside the pages of the one before, and PostgreSQL need not hash
    // the list to drop repeats. Hashing sent the probes all over the index: on PostgreSQL 2M
    // addresses took 2.55 times as long as 1M, as the index outgrew the caches.
    let mut addresses: Vec<&str> = emails.iter().map(EmailAddress::as_str).collect();
    addresses.sort_unstable();
    addresses.dedup();
    let rank = broadest_rank_sql();
    let rows: Vec<SuppressedRow> = match conn {
        DbConnection::Sqlite(c) => {
            let json = serde_json::to_string(&addresses)
                .map_err(|e| diesel::result::Error::SerializationError(Box::new(e)))?;
            let sql = format!(
                "SELECT o.email AS email, {rank} AS level_rank
                 FROM (SELECT DISTINCT value AS email FROM json_each(?)) a
                 JOIN opt_outs o ON o.email = a.email
                 WHERE {}
                 GROUP BY o.email",
                blocks_sender_sql("?", "?", "?")
            );
            // The DISTINCT finds no repeats (they are gone already) but it is what makes SQLite
            // run the list as the outer loop: without it SQLite flattens the subquery, puts
            // `opt_outs` outside and re-reads the whole JSON list for every opt-out (seen in
            // the bench: P3 at 1M had not finished after 7 minutes, against 0.6 s).
            // The group id appears twice in the SQL: once to filter, once as the group scope.
            diesel::sql_query(sql)
                .bind::<Text, _>(json)
                .bind::<BigInt, _>(sender.group_id)
                .bind::<BigInt, _>(sender.group_id)
                .bind::<BigInt, _>(sender.client_id)
                .bind::<BigInt, _>(sender.user_id)
                .load(c)?
        }
        DbConnection::Postgresql(c) => {
            // A LATERAL look-up per address in the array's order, not a join: with the join
            // PostgreSQL hashed each chunk and scanned the opt-outs of the sender's scopes once
            // per chunk (560,000 rows per chunk of 50,000 at 1M opt-outs; ~22 s for 1M
            // addresses), so the cost grew as chunks × table. One probe of the unique index per
            // address keeps it linear (docs/PERFORMANCE.md).
            let sql = format!(
                "SELECT a.email AS email, s.level_rank
                 FROM unnest($1::text[]) AS a(email)
                 CROSS JOIN LATERAL (SELECT {rank} AS level_rank FROM opt_outs o
                     WHERE o.email = a.email AND {}) s
                 WHERE s.level_rank IS NOT NULL",
                blocks_sender_sql("$2", "$3", "$4")
            );
            diesel::sql_query(sql)
                .bind::<diesel::sql_types::Array<Text>, _>(addresses)
                .bind::<BigInt, _>(sender.group_id)
                .bind::<BigInt, _>(sender.client_id)
                .bind::<BigInt, _>(sender.user_id)
                .load(c)?
        }
    };
    Ok(rows
        .into_iter()
        .map(|row| (row.email, Level::ALL[row.level_rank.clamp(0, 2) as usize]))
        .collect())
}

/// For a page of contacts (each checked against its own owner): the broadest level that
/// suppresses each suppressed one. The page is small (one keyset page), so a plain join.
pub fn broadest_for_contacts(
    conn: &mut DbConnection,
    contact_ids: &[ContactId],
) -> QueryResult<HashMap<ContactId, Level>> {
    if contact_ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows = contacts::table
        .inner_join(
            opt_outs::table.on(opt_outs::email.eq(contacts::email).and(blocks_sender!(
                contacts::group_id.nullable(),
                contacts::client_id.nullable(),
                contacts::owner_user_id.nullable()
            ))),
        )
        .filter(contacts::id.eq_any(contact_ids))
        .select((contacts::id, opt_outs::level))
        .load::<(ContactId, Level)>(conn)?;
    let mut broadest: HashMap<ContactId, Level> = HashMap::new();
    for (contact, level) in rows {
        broadest
            .entry(contact)
            .and_modify(|known| *known = (*known).min(level))
            .or_insert(level);
    }
    Ok(broadest)
}

/// How many opt-outs are active in a group.
pub fn count_in_group(conn: &mut DbConnection, group_id: GroupId) -> QueryResult<i64> {
    opt_outs::table
        .filter(opt_outs::group_id.eq(group_id))
        .count()
        .get_result(conn)
}

/// An active opt-out as support sees it, across groups, with the names of its scope.
#[derive(Debug, Clone)]
pub struct NamedOptOut {
    pub opt_out: ActiveOptOut,
    pub group_name: String,
    pub scope_name: String,
}

/// Every active opt-out of an address, in every group (support's search).
pub fn everywhere(conn: &mut DbConnection, email: &str) -> QueryResult<Vec<NamedOptOut>> {
    use super::schema::{clients, groups};
    let (scope_clients, scope_users) =
        diesel::alias!(clients as scope_clients, users as scope_users);
    let rows = opt_outs::table
        .inner_join(groups::table)
        .left_join(
            scope_clients.on(scope_clients
                .field(clients::id)
                .eq(opt_outs::scope_id)
                .and(opt_outs::level.eq(Level::Client))),
        )
        .left_join(
            scope_users.on(scope_users
                .field(users::id)
                .eq(opt_outs::scope_id)
                .and(opt_outs::level.eq(Level::User))),
        )
        .filter(opt_outs::email.eq(email))
        .order((groups::name.asc(), opt_outs::id.asc()))
        .select((
            opt_outs::all_columns,
            groups::name,
            scope_clients.field(clients::name).nullable(),
            scope_users.field(users::display_name).nullable(),
        ))
        .load::<NamedRow>(conn)?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let opt_out = ActiveOptOut::from(row.opt_out);
            let scope_name = match opt_out.scope.level() {
                Level::Group => row.group_name.clone(),
                Level::Client => row.client_name.unwrap_or_default(),
                Level::User => row.user_name.unwrap_or_default(),
            };
            NamedOptOut {
                opt_out,
                group_name: row.group_name,
                scope_name,
            }
        })
        .collect())
}

/// Support lifts the chosen opt-outs of `email` on written consent, in one transaction, each
/// with an event carrying the evidence. Ids that are not active opt-outs of that address are
/// ignored. Returns the ids this call lifted (a row lifted concurrently by another is not
/// among them: only the transaction that removed it reports it).
pub fn lift_on_written_consent(
    conn: &mut DbConnection,
    email: &EmailAddress,
    ids: &[OptOutId],
    support_user: UserId,
    evidence_json: &str,
) -> QueryResult<Vec<OptOutId>> {
    write_transaction(conn, |conn| {
        let mut lifted = Vec::new();
        for id in ids {
            let opt_in = |active: &ActiveOptOut| NewConsentEvent {
                group_id: active.group_id,
                email,
                kind: EventKind::OptIn,
                scope: Some(active.scope),
                source: crate::domain::Source::Support,
                actor_kind: crate::domain::ActorKind::Support,
                actor_user_id: Some(support_user),
                campaign_id: None,
                message_id: None,
                reason: None,
                ip_address: None,
                user_agent: None,
                evidence: Some(evidence_json),
            };
            if lift_exact(conn, *id, email, opt_in)?.is_some() {
                lifted.push(*id);
            }
        }
        Ok(lifted)
    })
}

/// Addresses per query in [`active_scopes_among`]: a short `IN` list each, led by the address
/// index (very long lists have shown poor plans on PostgreSQL).
const ADDRESSES_PER_LOOKUP: usize = 500;

/// The active opt-outs of the group among `emails`, as (address, scope): one query per few
/// hundred addresses rather than one per address (the import's dry run).
pub fn active_scopes_among(
    conn: &mut DbConnection,
    group: GroupId,
    emails: &[&str],
) -> QueryResult<std::collections::HashSet<(String, Scope)>> {
    let mut active = std::collections::HashSet::new();
    for chunk in emails.chunks(ADDRESSES_PER_LOOKUP) {
        let rows: Vec<ScopeRow> = opt_outs::table
            .filter(opt_outs::email.eq_any(chunk.to_vec()))
            .filter(opt_outs::group_id.eq(group))
            .select((opt_outs::email, opt_outs::level, opt_outs::scope_id))
            .load(conn)?;
        for row in rows {
            active.insert((row.email, Scope::from_stored(row.level, row.scope_id)));
        }
    }
    Ok(active)
}

/// Whether this exact opt-out is active.
pub fn is_active(
    conn: &mut DbConnection,
    group: GroupId,
    email: &EmailAddress,
    scope: Scope,
) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        opt_outs::table
            .filter(opt_outs::email.eq(email.as_str()))
            .filter(opt_outs::group_id.eq(group))
            .filter(opt_outs::level.eq(scope.level()))
            .filter(opt_outs::scope_id.eq(scope.scope_id())),
    ))
    .get_result(conn)
}
