//! Sessions ended by signing out, kept until the token would have expired anyway.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::revoked_sessions;
use super::{DbConnection, now};
use crate::on_each_backend;

/// Marks the session as ended; signing out twice is harmless.
pub fn revoke(
    conn: &mut DbConnection,
    session_id: &str,
    expires_at: NaiveDateTime,
) -> QueryResult<()> {
    on_each_backend!(conn, |c| diesel::insert_into(revoked_sessions::table)
        .values((
            revoked_sessions::session_id.eq(session_id),
            revoked_sessions::expires_at.eq(expires_at),
        ))
        .on_conflict_do_nothing()
        .execute(c))?;
    diesel::delete(revoked_sessions::table.filter(revoked_sessions::expires_at.lt(now())))
        .execute(conn)?;
    Ok(())
}

pub fn is_revoked(conn: &mut DbConnection, session_id: &str) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        revoked_sessions::table.filter(revoked_sessions::session_id.eq(session_id)),
    ))
    .get_result(conn)
}
