//! Admin › Activity › Opt outs: the active opt-outs an admin may see, filtered, newest first,
//! in keyset pages over the `(group_id, created_at, id)` index.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConnection;
use super::schema::{campaigns, clients, groups, opt_outs, users};
use crate::domain::{ClientId, GroupId, Level, OptOutId, UserId};

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

/// One row of the list and of the CSV export.
#[derive(Debug, Clone)]
pub struct ActivityRow {
    pub id: OptOutId,
    pub email: String,
    pub level: Level,
    pub scope_name: String,
    pub source: String,
    pub campaign_name: Option<String>,
    pub reason: Option<String>,
    pub created_at: NaiveDateTime,
    pub actor_name: Option<String>,
}

type Row = (
    (i64, String, String, String, Option<String>, NaiveDateTime),
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);

macro_rules! scoped_query {
    ($scope:expr, $filter:expr) => {{
        // Several aliases of one table must be declared in one `alias!`.
        let (scope_clients, scope_users, actors, user_clients) = diesel::alias!(
            clients as scope_clients,
            users as scope_users,
            users as actors,
            users as user_clients
        );
        let mut query = opt_outs::table
            .inner_join(groups::table)
            .left_join(
                scope_clients.on(scope_clients
                    .field(clients::id)
                    .eq(opt_outs::scope_id)
                    .and(opt_outs::level.eq("client"))),
            )
            .left_join(
                scope_users.on(scope_users
                    .field(users::id)
                    .eq(opt_outs::scope_id)
                    .and(opt_outs::level.eq("user"))),
            )
            .left_join(
                actors.on(actors
                    .field(users::id)
                    .nullable()
                    .eq(opt_outs::actor_user_id)),
            )
            .left_join(campaigns::table.on(campaigns::id.nullable().eq(opt_outs::campaign_id)))
            .filter(opt_outs::group_id.eq($scope.group().0))
            .into_boxed();
        // The client of a row's scope: the client itself, or the user's client.
        let users_of = |client: ClientId| {
            user_clients
                .filter(user_clients.field(users::client_id).eq(client.0))
                .select(user_clients.field(users::id))
        };
        let in_client = |client: ClientId| {
            (opt_outs::level
                .eq("client")
                .and(opt_outs::scope_id.eq(client.0)))
            .or(opt_outs::level
                .eq("user")
                .and(opt_outs::scope_id.eq_any(users_of(client))))
        };
        if let ActivityScope::Client { client, .. } = $scope {
            query = query.filter(opt_outs::level.eq("group").or(in_client(client)));
        }
        let filter: &ActivityFilter = $filter;
        if let Some(level) = filter.level {
            query = query.filter(opt_outs::level.eq(level.as_str()));
        }
        if let Some(client) = filter.client {
            query = query.filter(in_client(client));
        }
        if let Some(user) = filter.user {
            query = query.filter(
                opt_outs::level
                    .eq("user")
                    .and(opt_outs::scope_id.eq(user.0)),
            );
        }
        if let Some(source) = &filter.source {
            query = query.filter(opt_outs::source.eq(source.clone()));
        }
        if let Some(from) = filter.from {
            query = query.filter(opt_outs::created_at.ge(from));
        }
        if let Some(until) = filter.until {
            query = query.filter(opt_outs::created_at.lt(until));
        }
        if let Some(prefix) = &filter.address_prefix {
            query = query.filter(
                opt_outs::email
                    .like(format!("{}%", super::contacts::escape_like(prefix)))
                    .escape('\\'),
            );
        }
        (query, scope_clients, scope_users, actors)
    }};
}

/// One page, newest first, after `(created_at, id)` of the previous page's last row.
pub fn page(
    conn: &mut DbConnection,
    scope: ActivityScope,
    filter: &ActivityFilter,
    after: Option<(NaiveDateTime, OptOutId)>,
    limit: i64,
) -> QueryResult<Vec<ActivityRow>> {
    let (mut query, scope_clients, scope_users, actors) = scoped_query!(scope, filter);
    if let Some((at, id)) = after {
        query = query.filter(
            opt_outs::created_at
                .lt(at)
                .or(opt_outs::created_at.eq(at).and(opt_outs::id.lt(id.0))),
        );
    }
    let rows = query
        .order((opt_outs::created_at.desc(), opt_outs::id.desc()))
        .limit(limit)
        .select((
            (
                opt_outs::id,
                opt_outs::email,
                opt_outs::level,
                opt_outs::source,
                opt_outs::reason,
                opt_outs::created_at,
            ),
            groups::name,
            scope_clients.field(clients::name).nullable(),
            scope_users.field(users::display_name).nullable(),
            campaigns::name.nullable(),
            actors.field(users::display_name).nullable(),
        ))
        .load::<Row>(conn)?;
    rows.into_iter()
        .map(
            |(
                (id, email, level, source, reason, created_at),
                group,
                client,
                user,
                campaign,
                actor,
            )| {
                let level: Level = level
                    .parse()
                    .map_err(|e| diesel::result::Error::DeserializationError(Box::new(e)))?;
                let scope_name = match level {
                    Level::Group => group,
                    Level::Client => client.unwrap_or_default(),
                    Level::User => user.unwrap_or_default(),
                };
                Ok(ActivityRow {
                    id: OptOutId(id),
                    email,
                    level,
                    scope_name,
                    source,
                    campaign_name: campaign,
                    reason,
                    created_at,
                    actor_name: actor,
                })
            },
        )
        .collect()
}

/// How many rows match, counting at most `cap` (so the count stays cheap on millions of rows:
/// the page says "more than" beyond it). Returns the count, at most `cap`.
pub fn count_capped(
    conn: &mut DbConnection,
    scope: ActivityScope,
    filter: &ActivityFilter,
    cap: i64,
) -> QueryResult<i64> {
    let (query, _, _, _) = scoped_query!(scope, filter);
    let ids: Vec<i64> = query.select(opt_outs::id).limit(cap).load(conn)?;
    Ok(ids.len() as i64)
}
