//! Admin › Activity › Opt outs: the active opt-outs an admin may see, filtered, newest first,
//! in keyset pages over the `(group_id, created_at, id)` index.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConnection;
use super::schema::{campaigns, clients, consent_events, groups, opt_outs, users};
use crate::domain::{ClientId, ConsentEventId, EventKind, GroupId, Level, OptOutId, UserId};
use crate::on_each_backend;

/// Whose opt-outs: a group admin's (or support's chosen) group, or a client admin's view —
/// the group-level rows plus the client's client- and user-level rows.
#[derive(Debug, Clone, Copy)]
pub enum ActivityScope {
    Group(GroupId),
    Client { group: GroupId, client: ClientId },
}

impl ActivityScope {
    pub fn group(&self) -> GroupId {
        match self {
            ActivityScope::Group(group) | ActivityScope::Client { group, .. } => *group,
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct ActivityFilter {
    pub level: Option<Level>,
    /// Opt-outs at this client, or of its users.
    pub client: Option<ClientId>,
    /// User-level opt-outs of this user.
    pub user: Option<UserId>,
    pub source: Option<String>,
    pub from: Option<NaiveDateTime>,
    /// Exclusive upper bound.
    pub until: Option<NaiveDateTime>,
    /// Addresses starting with this (lower-case); a prefix uses the address index.
    pub address_prefix: Option<String>,
}

/// What a row's id names: the active opt-out, or for a lifted one the consent event that
/// lifted it (the opt-out row is gone). Each list pages by its own kind of id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActivityRowId {
    OptOut(OptOutId),
    LiftedBy(ConsentEventId),
}

impl ActivityRowId {
    /// The number a page's cursor carries; which table it indexes depends on the list.
    pub fn keyset_value(self) -> i64 {
        match self {
            ActivityRowId::OptOut(id) => id.0,
            ActivityRowId::LiftedBy(id) => id.0,
        }
    }
}

/// One row of the list and of the CSV export.
#[derive(Debug, Clone)]
pub struct ActivityRow {
    pub id: ActivityRowId,
    pub email: String,
    pub level: Level,
    pub scope_name: String,
    pub source: String,
    pub campaign_name: Option<String>,
    pub reason: Option<String>,
    pub created_at: NaiveDateTime,
    pub actor_name: Option<String>,
}

/// A row as [`newest_first!`] selects it, in that order. `Id`: `OptOutId` for active rows,
/// `ConsentEventId` for lifted ones.
#[derive(Queryable)]
struct Row<Id> {
    id: Id,
    email: String,
    level: Level,
    source: String,
    /// The reason, or for a lifted row the lifting event's evidence.
    note: Option<String>,
    created_at: NaiveDateTime,
    group_name: String,
    client_name: Option<String>,
    user_name: Option<String>,
    campaign_name: Option<String>,
    actor_name: Option<String>,
}

/// The filtered, scoped query over `opt_outs` (active) or `consent_events` (for lifted ones):
/// both tables name their columns alike. Level and scope id are compared as nullable because
/// they are nullable in `consent_events`.
macro_rules! scoped_query {
    ($t:ident, $scope:expr, $filter:expr) => {{
        // Several aliases of one table must be declared in one `alias!`.
        let (scope_clients, scope_users, actors, user_clients) = diesel::alias!(
            clients as scope_clients,
            users as scope_users,
            users as actors,
            users as user_clients
        );
        let mut query = $t::table
            .inner_join(groups::table.on(groups::id.eq($t::group_id)))
            .left_join(
                scope_clients.on(scope_clients
                    .field(clients::id)
                    .nullable()
                    .eq($t::scope_id.nullable())
                    .and($t::level.nullable().eq(Level::Client))),
            )
            .left_join(
                scope_users.on(scope_users
                    .field(users::id)
                    .nullable()
                    .eq($t::scope_id.nullable())
                    .and($t::level.nullable().eq(Level::User))),
            )
            .left_join(actors.on(actors.field(users::id).nullable().eq($t::actor_user_id)))
            .left_join(campaigns::table.on(campaigns::id.nullable().eq($t::campaign_id)))
            .filter($t::group_id.eq($scope.group()))
            .into_boxed();
        // The client of a row's scope: the client itself, or the user's client.
        let users_of = |client: ClientId| {
            user_clients
                .filter(user_clients.field(users::client_id).eq(client))
                .select(user_clients.field(users::id).nullable())
        };
        let in_client = |client: ClientId| {
            ($t::level
                .nullable()
                .eq(Level::Client)
                .and($t::scope_id.nullable().eq(client)))
            .or($t::level
                .nullable()
                .eq(Level::User)
                .and($t::scope_id.nullable().eq_any(users_of(client))))
        };
        if let ActivityScope::Client { client, .. } = $scope {
            query = query.filter($t::level.nullable().eq(Level::Group).or(in_client(client)));
        }
        let filter: &ActivityFilter = $filter;
        if let Some(level) = filter.level {
            query = query.filter($t::level.nullable().eq(level));
        }
        if let Some(client) = filter.client {
            query = query.filter(in_client(client));
        }
        if let Some(user) = filter.user {
            query = query.filter(
                $t::level
                    .nullable()
                    .eq(Level::User)
                    .and($t::scope_id.nullable().eq(user)),
            );
        }
        if let Some(source) = &filter.source {
            query = query.filter($t::source.eq(source.clone()));
        }
        if let Some(from) = filter.from {
            query = query.filter($t::created_at.ge(from));
        }
        if let Some(until) = filter.until {
            query = query.filter($t::created_at.lt(until));
        }
        if let Some(prefix) = &filter.address_prefix {
            query = query.filter(
                $t::email
                    .like(format!("{}%", super::contacts::escape_like(prefix)))
                    .escape('\\'),
            );
        }
        (query, scope_clients, scope_users, actors)
    }};
}

/// [`scoped_query!`] over `$t` (`opt_outs`, or `consent_events` for lifted ones), newest first
/// from after the keyset cursor `$after`, selecting the columns of [`Row`] with `$level` and
/// `$note` (the reason, or the event's evidence) in their places: what pages and the export read.
macro_rules! newest_first {
    ($t:ident, $level:expr, $note:expr, $scope:expr, $filter:expr, $after:expr) => {{
        let (mut query, scope_clients, scope_users, actors) = scoped_query!($t, $scope, $filter);
        let after = $after;
        if let Some((at, id)) = after {
            // `created_at <= at` is implied by the OR, but only a plain range lets the database
            // start the index walk at the cursor: without it SQLite walks the group's index from
            // the newest row and filters, so the deeper the page, the slower.
            query = query.filter($t::created_at.le(at)).filter(
                $t::created_at
                    .lt(at)
                    .or($t::created_at.eq(at).and($t::id.lt(id))),
            );
        }
        query.order(($t::created_at.desc(), $t::id.desc())).select((
            $t::id,
            $t::email,
            $level,
            $t::source,
            $note,
            $t::created_at,
            groups::name,
            scope_clients.field(clients::name).nullable(),
            scope_users.field(users::display_name).nullable(),
            campaigns::name.nullable(),
            actors.field(users::display_name).nullable(),
        ))
    }};
    ($scope:expr, $filter:expr, $after:expr) => {
        newest_first!(
            opt_outs,
            opt_outs::level,
            opt_outs::reason,
            $scope,
            $filter,
            $after
        )
    };
}

/// One page, newest first, after `(created_at, id)` of the previous page's last row.
pub fn page(
    conn: &mut DbConnection,
    scope: ActivityScope,
    filter: &ActivityFilter,
    after: Option<(NaiveDateTime, OptOutId)>,
    limit: i64,
) -> QueryResult<Vec<ActivityRow>> {
    // On the backend's own connection (the boxed query is built for it): through the enum
    // diesel renders the query to SQL text and converts every value, a tenth of an export's CPU.
    let rows: Vec<Row<OptOutId>> =
        on_each_backend!(conn, |conn| newest_first!(scope, filter, after)
            .limit(limit)
            .load::<Row<OptOutId>>(conn))?;
    Ok(rows
        .into_iter()
        .map(|row| to_row(row, ActivityRowId::OptOut))
        .collect())
}

/// Every matching row, newest first, handed to `write` in slices of at most `chunk` rows; returns
/// how many there were. For exports of millions of rows in constant memory.
///
/// PostgreSQL: one statement read row by row as the server sends it, so the server produces
/// rows while the caller writes the previous ones (keyset pages made each wait for the other).
/// SQLite: keyset pages of `chunk` rows, each its own short read, so a long export never holds
/// a read transaction that keeps the WAL from being checkpointed.
pub fn for_each_chunk<E: From<diesel::result::Error>>(
    conn: &mut DbConnection,
    scope: ActivityScope,
    filter: &ActivityFilter,
    chunk: usize,
    mut write: impl FnMut(&[ActivityRow]) -> Result<(), E>,
) -> Result<usize, E> {
    let mut total = 0;
    match conn {
        DbConnection::Postgresql(conn) => {
            let rows = newest_first!(scope, filter, None::<(NaiveDateTime, OptOutId)>)
                .load_iter::<Row<OptOutId>, diesel::pg::PgRowByRowLoadingMode>(conn)?;
            let mut buffer = Vec::with_capacity(chunk);
            for row in rows {
                buffer.push(to_row(row?, ActivityRowId::OptOut));
                if buffer.len() == chunk {
                    write(&buffer)?;
                    total += buffer.len();
                    buffer.clear();
                }
            }
            write(&buffer)?;
            total += buffer.len();
        }
        DbConnection::Sqlite(_) => {
            let mut after = None;
            loop {
                let rows = page(conn, scope, filter, after, chunk as i64)?;
                write(&rows)?;
                total += rows.len();
                match rows.last() {
                    Some(ActivityRow {
                        created_at,
                        id: ActivityRowId::OptOut(id),
                        ..
                    }) if rows.len() == chunk => after = Some((*created_at, *id)),
                    _ => break,
                }
            }
        }
    }
    Ok(total)
}

fn to_row<Id>(row: Row<Id>, id_of: impl Fn(Id) -> ActivityRowId) -> ActivityRow {
    let scope_name = match row.level {
        Level::Group => row.group_name,
        Level::Client => row.client_name.unwrap_or_default(),
        Level::User => row.user_name.unwrap_or_default(),
    };
    ActivityRow {
        id: id_of(row.id),
        email: row.email,
        level: row.level,
        scope_name,
        source: row.source,
        campaign_name: row.campaign_name,
        reason: row.note,
        created_at: row.created_at,
        actor_name: row.actor_name,
    }
}

/// How many rows match, counting at most `cap` (so the count stays cheap on millions of rows:
/// the page says "more than" beyond it). Returns the count, at most `cap`.
pub fn count_capped(
    conn: &mut DbConnection,
    scope: ActivityScope,
    filter: &ActivityFilter,
    cap: i64,
) -> QueryResult<i64> {
    let (query, _, _, _) = scoped_query!(opt_outs, scope, filter);
    let ids: Vec<OptOutId> = query.select(opt_outs::id).limit(cap).load(conn)?;
    Ok(ids.len() as i64)
}

/// Lifted opt-outs, from the event log: the opt-in events in scope, newest first, in the same
/// shape as active rows (`created_at` is when it was lifted, `source` how, `reason` the
/// evidence).
pub fn lifted_page(
    conn: &mut DbConnection,
    scope: ActivityScope,
    filter: &ActivityFilter,
    after: Option<(NaiveDateTime, ConsentEventId)>,
    limit: i64,
) -> QueryResult<Vec<ActivityRow>> {
    let rows: Vec<Row<ConsentEventId>> = on_each_backend!(conn, |conn| newest_first!(
        consent_events,
        consent_events::level.assume_not_null(),
        consent_events::evidence,
        scope,
        filter,
        after
    )
    .filter(consent_events::kind.eq(EventKind::OptIn))
    .limit(limit)
    .load::<Row<ConsentEventId>>(conn))?;
    Ok(rows
        .into_iter()
        .map(|row| to_row(row, ActivityRowId::LiftedBy))
        .collect())
}
