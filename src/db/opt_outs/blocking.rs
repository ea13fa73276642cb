//! Whether mail from a sender is blocked, and by which opt-outs: every query here builds its
//! condition from `db::cascade`, so each follows the rule of `domain::suppression`.

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use std::collections::HashMap;

use crate::db::DbConnection;
use crate::db::cascade::{blocks_sender, blocks_sender_sql, broadest_rank_sql};
use crate::db::schema::{campaigns, contacts, opt_outs, users};
use crate::domain::{ContactId, EmailAddress, Level, Sender};

use super::{ActiveOptOut, OptOutRow};

/// An applying opt-out with the names a person needs to understand it.
#[derive(Debug, Clone)]
pub struct ExplainedOptOut {
    pub opt_out: ActiveOptOut,
    /// Who recorded it, when a staff member did.
    pub actor_name: Option<String>,
    /// The campaign whose email it came from, when known.
    pub campaign_name: Option<String>,
}

/// An opt-out with the names of who recorded it and of its campaign, as [`applying_to`] selects.
#[derive(Queryable)]
struct ExplainedRow {
    opt_out: OptOutRow,
    actor_name: Option<String>,
    campaign_name: Option<String>,
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
