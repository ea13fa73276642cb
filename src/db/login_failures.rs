//! Failed sign-ins, counted per throttle key ("account:…", "ip:…").

use chrono::NaiveDateTime;
use diesel::prelude::*;

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

pub fn record(conn: &mut DbConnection, keys: &[String], at: NaiveDateTime) -> QueryResult<()> {
    // One row per key (two at most); a multi-row insert does not compile through the enum.
    for key in keys {
        diesel::insert_into(login_failures::table)
            .values((
                login_failures::throttle_key.eq(key),
                login_failures::failed_at.eq(at),
            ))
            .execute(conn)?;
    }
    Ok(())
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
