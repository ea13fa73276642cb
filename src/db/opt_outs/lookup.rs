//! Finding opt-outs by address and scope: support's search, the import's dry run, counts.

use diesel::prelude::*;

use crate::db::DbConnection;
use crate::db::schema::{opt_outs, users};
use crate::domain::{EmailAddress, GroupId, Level, Scope};

use super::{ActiveOptOut, OptOutRow};

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
    use crate::db::schema::{clients, groups};
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
