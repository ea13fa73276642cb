//! Sign-in attempts, counted per throttle key ("pair:…", "ip:…", "checks:…", "account:…").

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::Text;

use super::DbConnection;
use super::schema::login_failures;

pub fn count_since(conn: &mut DbConnection, key: &str, since: NaiveDateTime) -> QueryResult<i64> {
    login_failures::table
        .filter(login_failures::throttle_key.eq(key))
        .filter(login_failures::failed_at.ge(since))
        .count()
        .get_result(conn)
}

/// The oldest failure still inside the window: the lock lifts when it leaves the window.
pub fn oldest_since(
    conn: &mut DbConnection,
    key: &str,
    since: NaiveDateTime,
) -> QueryResult<Option<NaiveDateTime>> {
    login_failures::table
        .filter(login_failures::throttle_key.eq(key))
        .filter(login_failures::failed_at.ge(since))
        .select(diesel::dsl::min(login_failures::failed_at))
        .first(conn)
}

/// Inside a write transaction, makes concurrent attempts on any of `keys` take turns, so that
/// counting and recording are one step. SQLite's `BEGIN IMMEDIATE` already serialises every
/// writer; PostgreSQL takes a transaction-scoped advisory lock per key, in sorted order so two
/// attempts sharing keys cannot deadlock.
pub fn lock_keys(conn: &mut DbConnection, keys: &[&str]) -> QueryResult<()> {
    let DbConnection::Postgresql(pg) = conn else {
        return Ok(());
    };
    let mut keys = keys.to_vec();
    keys.sort_unstable();
    keys.dedup();
    for key in keys {
        diesel::sql_query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
            .bind::<Text, _>(key)
            .execute(pg)?;
    }
    Ok(())
}

/// Records one attempt under each key and returns the new rows' ids.
pub fn record(
    conn: &mut DbConnection,
    keys: &[String],
    at: NaiveDateTime,
) -> QueryResult<Vec<i64>> {
    // One row per key (a few at most); a multi-row insert does not compile through the enum.
    keys.iter()
        .map(|key| {
            diesel::insert_into(login_failures::table)
                .values((
                    login_failures::throttle_key.eq(key),
                    login_failures::failed_at.eq(at),
                ))
                .returning(login_failures::id)
                .get_result(conn)
        })
        .collect()
}

/// Takes back rows recorded by [`record`].
pub fn delete(conn: &mut DbConnection, ids: &[i64]) -> QueryResult<usize> {
    diesel::delete(login_failures::table.filter(login_failures::id.eq_any(ids))).execute(conn)
}

pub fn clear(conn: &mut DbConnection, key: &str) -> QueryResult<()> {
    diesel::delete(login_failures::table.filter(login_failures::throttle_key.eq(key)))
        .execute(conn)
        .map(drop)
}

/// Forgets failures older than `before`, keeping the table small.
pub fn prune(conn: &mut DbConnection, before: NaiveDateTime) -> QueryResult<usize> {
    diesel::delete(login_failures::table.filter(login_failures::failed_at.lt(before))).execute(conn)
}
