//! A large, realistic data set for benchmarks (`optouts bench-data`, and the criterion benches
//! in `benches/`): many groups, clients and users, contacts, opt-outs spread over the three
//! levels with the consent event of each, a sent campaign per user and sent messages.
//!
//! Everything is written with set-based `INSERT … SELECT` over a generated series of numbers
//! (`generate_series` on PostgreSQL, a recursive CTE on SQLite), in chunks of [`CHUNK`] rows
//! per statement and transaction: the database makes the rows itself, so a million opt-outs take
//! seconds, not a million round trips. Only numbers computed here go into the SQL text; every
//! string (the run tag, the password hash) is a bound parameter.
//!
//! Row `i` of each kind is derived from `i` alone, so tests and benches can recompute what was
//! made: [`address`] is the address of contact `i` and of opt-out `i`.

use anyhow::ensure;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text};

use crate::db::{DbConnection, write_transaction};
use crate::domain::{ClientId, GroupId, Level, MessageId, Sender, UserId};
use crate::on_each_backend;

/// Rows per statement (and per transaction) when filling the large tables.
pub const CHUNK: u64 = 100_000;

/// The password of every generated login (they can sign in, e.g. for HTTP benchmarks).
pub const BENCH_PASSWORD: &str = "optouts-bench-2026";

/// Opt-outs are dated over the year before the run, oldest first.
const SPREAD_SECONDS: u64 = 365 * 24 * 3600;

/// How much to make. `groups × clients_per_group × users_per_client` users.
#[derive(Debug, Clone)]
pub struct BenchDataSpec {
    pub groups: u64,
    pub clients_per_group: u64,
    pub users_per_client: u64,
    pub contacts: u64,
    pub opt_outs: u64,
    /// Sent campaign messages to contacts who are not opted out for their sender (the
    /// unsubscribe links of the HTTP benchmarks).
    pub messages: u64,
}

impl BenchDataSpec {
    pub fn clients(&self) -> u64 {
        self.groups * self.clients_per_group
    }

    pub fn users(&self) -> u64 {
        self.clients() * self.users_per_client
    }
}

/// What was made. The ids of each kind are contiguous: `first_*` plus the row's number.
#[derive(Debug, Clone)]
pub struct BenchData {
    pub spec: BenchDataSpec,
    pub first_group: i64,
    pub first_client: i64,
    pub first_user: i64,
    pub first_campaign: i64,
    pub first_contact: i64,
    pub first_opt_out: i64,
    /// The sent messages, oldest first; none of their recipients is opted out for the sender.
    pub messages: Vec<MessageId>,
}

impl BenchData {
    /// The first user of the first client of the first group: the sender the benches use.
    pub fn first_sender(&self) -> Sender {
        Sender {
            user_id: UserId(self.first_user),
            client_id: ClientId(self.first_client),
            group_id: GroupId(self.first_group),
        }
    }

    pub fn first_group(&self) -> GroupId {
        GroupId(self.first_group)
    }
}

/// The address of contact `i` and of opt-out `i`: one series, so opt-outs hit contacts.
pub fn address(i: u64) -> String {
    format!("r{i}@d{}.example", i % 997)
}

/// The level of opt-out `i` in a data set with `groups` groups: the three levels take turns.
pub fn opt_out_level(i: u64, groups: u64) -> Level {
    Level::ALL[((i / groups) % 3) as usize]
}

/// Fills a migrated database (empty or not: names carry a run tag, ids are read back).
/// `password_hash` is stored for every login; `progress` hears each step and its row count.
pub fn generate(
    conn: &mut DbConnection,
    spec: &BenchDataSpec,
    password_hash: &str,
    mut progress: impl FnMut(&str, u64),
) -> anyhow::Result<BenchData> {
    ensure!(
        spec.groups > 0 && spec.clients_per_group > 0 && spec.users_per_client > 0,
        "groups, clients per group and users per client must each be at least 1"
    );
    let sql = Dialect::of(conn);
    let run_tag = uuid::Uuid::new_v4().simple().to_string()[..8].to_owned();
    let base_epoch = chrono::Utc::now().timestamp() - SPREAD_SECONDS as i64;
    let created = sql.timestamp(&base_epoch.to_string());
    let (per_group, per_client) = (spec.clients_per_group, spec.users_per_client);
    let users_per_group = per_group * per_client;

    let first_group = insert_numbered(conn, "groups", spec.groups, &[&run_tag], |series| {
        format!(
            "{series} INSERT INTO groups (name, created_at)
             SELECT 'Bench ' || $1 || ' group ' || i, {created} FROM series ORDER BY i"
        )
    })?;
    progress("groups", spec.groups);

    let g0 = first_group;
    let first_client = insert_numbered(conn, "clients", spec.clients(), &[&run_tag], |series| {
        format!(
            "{series} INSERT INTO clients (group_id, name, created_at)
             SELECT {g0} + i / {per_group}, 'Client ' || (i % {per_group}) || ' ' || $1, {created}
             FROM series ORDER BY i"
        )
    })?;
    progress("clients", spec.clients());

    let c0 = first_client;
    let first_user = insert_numbered(
        conn,
        "users",
        spec.users(),
        &[&run_tag, password_hash],
        |series| {
            format!(
                "{series} INSERT INTO users (email, display_name, role, group_id, client_id,
                                             password_hash, created_at)
                 SELECT 'u' || i || '.' || $1 || '@bench.example', 'Bench user ' || i,
                        CASE WHEN i % {per_client} = 0 THEN 'client_admin' ELSE 'user' END,
                        {g0} + i / {users_per_group}, {c0} + i / {per_client}, $2, {created}
                 FROM series ORDER BY i"
            )
        },
    )?;
    progress("users", spec.users());

    // One sent campaign per user: opt-outs and messages name the campaign of their user.
    let u0 = first_user;
    let first_campaign = insert_numbered(conn, "campaigns", spec.users(), &[], |series| {
        format!(
            "{series} INSERT INTO campaigns (group_id, client_id, owner_user_id, name, subject,
                                             from_name, body_text, status, created_at,
                                             updated_at, sent_at)
             SELECT {g0} + i / {users_per_group}, {c0} + i / {per_client}, {u0} + i,
                    'Bench campaign ' || i, 'News', 'Bench', 'Hello', 'sent',
                    {created}, {created}, {created}
             FROM series ORDER BY i"
        )
    })?;
    progress("campaigns", spec.users());

    let first_contact = insert_numbered(conn, "contacts", spec.contacts, &[], |series| {
        let users = spec.users();
        format!(
            "{series} INSERT INTO contacts (owner_user_id, client_id, group_id, email, name,
                                            created_at)
             SELECT {u0} + i % {users}, {c0} + (i % {users}) / {per_client},
                    {g0} + (i % {users}) / {users_per_group}, {address}, 'Contact ' || i,
                    {created}
             FROM series ORDER BY i",
            address = ADDRESS_SQL.replace("{n}", "i"),
        )
    })?;
    progress("contacts", spec.contacts);

    let step = (SPREAD_SECONDS / spec.opt_outs.max(1)).max(1);
    let first_opt_out = insert_numbered(conn, "opt_outs", spec.opt_outs, &[], |series| {
        let groups = spec.groups;
        // Opt-out j: group j % G; the level turns with j / G; client and user within the group
        // turn more slowly, so every scope gets its share.
        format!(
            "{series} INSERT INTO opt_outs (group_id, level, scope_id, email, source, campaign_id,
                                            reason, created_at)
             SELECT {g0} + g,
                    CASE lvl WHEN 0 THEN 'group' WHEN 1 THEN 'client' ELSE 'user' END,
                    CASE lvl WHEN 0 THEN {g0} + g
                             WHEN 1 THEN {c0} + g * {per_group} + c
                             ELSE {u0} + (g * {per_group} + c) * {per_client} + u END,
                    {address},
                    CASE WHEN j % 3 = 0 THEN 'preference_center' ELSE 'one_click' END,
                    {first_campaign} + (g * {per_group} + c) * {per_client} + u,
                    CASE WHEN j % 10 = 0 THEN 'Too many emails' END,
                    {at}
             FROM (SELECT i AS j, i % {groups} AS g, (i / {groups}) % 3 AS lvl,
                          (i / ({groups} * 3)) % {per_group} AS c,
                          (i / ({groups} * 3 * {per_group})) % {per_client} AS u
                   FROM series) numbered
             ORDER BY j",
            address = ADDRESS_SQL.replace("{n}", "j"),
            at = sql.timestamp(&format!("{base_epoch} + j * {step}")),
        )
    })?;
    progress("opt_outs", spec.opt_outs);

    copy_opt_outs_to_events(conn, first_opt_out, spec.opt_outs)?;
    progress("consent_events", spec.opt_outs);

    let messages = insert_messages(
        conn,
        spec,
        first_contact,
        first_user,
        first_campaign,
        &created,
    )?;
    progress("messages", messages.len() as u64);

    if let DbConnection::Postgresql(c) = conn {
        // What autovacuum would soon do: statistics, so plans are the real ones, and the
        // visibility map, so index-only scans need not visit the table.
        diesel::sql_query("VACUUM ANALYZE").execute(c)?;
    }
    Ok(BenchData {
        spec: spec.clone(),
        first_group,
        first_client,
        first_user,
        first_campaign,
        first_contact,
        first_opt_out,
        messages,
    })
}

/// [`address`] in SQL, for the number `{n}`.
const ADDRESS_SQL: &str = "'r' || {n} || '@d' || ({n} % 997) || '.example'";

#[derive(QueryableByName)]
struct IdRange {
    #[diesel(sql_type = Nullable<BigInt>)]
    low: Option<i64>,
    #[diesel(sql_type = Nullable<BigInt>)]
    high: Option<i64>,
    #[diesel(sql_type = BigInt)]
    rows: i64,
}

/// Inserts `count` rows numbered `0..count` (the statement built by `insert` from the series
/// CTE), [`CHUNK`] rows per transaction, and returns the id of row 0. Checks that the new ids
/// are contiguous — row `i` has id `first + i` — which the later steps rely on (no other
/// writer may insert into the table meanwhile).
fn insert_numbered(
    conn: &mut DbConnection,
    table: &str,
    count: u64,
    texts: &[&str],
    insert: impl Fn(&str) -> String,
) -> anyhow::Result<i64> {
    let last_before = id_range(conn, table, 0)?.high.unwrap_or(0);
    let dialect = Dialect::of(conn);
    let mut from = 0;
    while from < count {
        let to = (from + CHUNK).min(count);
        let statement = dialect.placeholders(&insert(&dialect.series(from, to)));
        write_transaction(conn, |conn| execute(conn, &statement, texts))?;
        from = to;
    }
    let made = id_range(conn, table, last_before)?;
    let first = made.low.unwrap_or(last_before + 1);
    ensure!(
        made.rows as u64 == count && made.high.unwrap_or(last_before) - first + 1 == made.rows,
        "the new {table} ids are not contiguous (was something else writing?)"
    );
    Ok(first)
}

fn id_range(conn: &mut DbConnection, table: &str, after: i64) -> QueryResult<IdRange> {
    diesel::sql_query(format!(
        "SELECT MIN(id) AS low, MAX(id) AS high, COUNT(*) AS \"rows\" FROM {table} WHERE id > {after}"
    ))
    .get_result(conn)
}

/// Runs one statement with text parameters `$1`, `$2`, ….
fn execute(conn: &mut DbConnection, statement: &str, texts: &[&str]) -> QueryResult<usize> {
    on_each_backend!(conn, |c| {
        let mut query = diesel::sql_query(statement).into_boxed();
        for text in texts {
            query = query.bind::<Text, _>(text.to_string());
        }
        query.execute(c)
    })
}

/// The evidence for every opt-out: its `opt_out` event, copied from the rows just made.
fn copy_opt_outs_to_events(conn: &mut DbConnection, first: i64, count: u64) -> QueryResult<()> {
    let mut from = first;
    let end = first + count as i64;
    while from < end {
        let to = (from + CHUNK as i64).min(end);
        let statement = format!(
            "INSERT INTO consent_events (group_id, email, kind, level, scope_id, source,
                                         actor_kind, campaign_id, reason, created_at)
             SELECT group_id, email, 'opt_out', level, scope_id, source, 'recipient',
                    campaign_id, reason, created_at
             FROM opt_outs WHERE id >= {from} AND id < {to} ORDER BY id"
        );
        write_transaction(conn, |conn| execute(conn, &statement, &[]))?;
        from = to;
    }
    Ok(())
}

/// Sent campaign messages to the first contacts (of this run) whom no opt-out blocks for their
/// owner, one per contact. Fails when fewer such contacts exist than messages were asked for.
fn insert_messages(
    conn: &mut DbConnection,
    spec: &BenchDataSpec,
    first_contact: i64,
    first_user: i64,
    first_campaign: i64,
    created: &str,
) -> anyhow::Result<Vec<MessageId>> {
    if spec.messages == 0 {
        return Ok(Vec::new());
    }
    let last_before = id_range(conn, "messages", 0)?.high.unwrap_or(0);
    let statement = format!(
        "INSERT INTO messages (kind, group_id, client_id, sender_user_id, campaign_id,
                               contact_id, to_email, status, attempts, next_attempt_at,
                               created_at, updated_at, sent_at)
         SELECT 'campaign', c.group_id, c.client_id, c.owner_user_id,
                {first_campaign} + (c.owner_user_id - {first_user}), c.id, c.email, 'sent', 1,
                {created}, {created}, {created}, {created}
         FROM contacts c
         WHERE c.id >= {first_contact}
           AND NOT EXISTS (
               SELECT 1 FROM opt_outs o
               WHERE o.email = c.email AND {})
         ORDER BY c.id
         LIMIT {}",
        crate::db::cascade::blocks_sender_sql("c.group_id", "c.client_id", "c.owner_user_id"),
        spec.messages
    );
    write_transaction(conn, |conn| execute(conn, &statement, &[]))?;
    #[derive(QueryableByName)]
    struct Id {
        #[diesel(sql_type = BigInt)]
        id: i64,
    }
    let ids: Vec<Id> = diesel::sql_query(format!(
        "SELECT id FROM messages WHERE id > {last_before} ORDER BY id"
    ))
    .load(conn)?;
    ensure!(
        ids.len() as u64 == spec.messages,
        "only {} contacts are not opted out for their sender: ask for fewer --messages or more --contacts",
        ids.len()
    );
    Ok(ids.into_iter().map(|row| MessageId(row.id)).collect())
}

/// The SQL that differs between the backends.
#[derive(Clone, Copy)]
enum Dialect {
    Sqlite,
    Postgres,
}

impl Dialect {
    fn of(conn: &DbConnection) -> Self {
        match conn {
            DbConnection::Sqlite(_) => Dialect::Sqlite,
            DbConnection::Postgresql(_) => Dialect::Postgres,
        }
    }

    /// `WITH series(i) AS (…)`: the numbers `from..to`, end exclusive (`to > from`).
    fn series(self, from: u64, to: u64) -> String {
        let last = to - 1;
        match self {
            Dialect::Sqlite => format!(
                "WITH RECURSIVE series(i) AS \
                 (SELECT {from} UNION ALL SELECT i + 1 FROM series WHERE i < {last})"
            ),
            Dialect::Postgres => format!(
                "WITH series(i) AS (SELECT generate_series({from}::bigint, {last}::bigint))"
            ),
        }
    }

    /// A naive UTC timestamp `seconds` (an SQL expression) after the Unix epoch, in the form
    /// each backend stores (diesel writes SQLite timestamps as `YYYY-MM-DD HH:MM:SS`).
    fn timestamp(self, seconds: &str) -> String {
        match self {
            Dialect::Sqlite => format!("strftime('%Y-%m-%d %H:%M:%S', {seconds}, 'unixepoch')"),
            Dialect::Postgres => {
                format!("(TIMESTAMP 'epoch' + ({seconds}) * INTERVAL '1 second')")
            }
        }
    }

    /// Parameters are written `$1`, `$2` (PostgreSQL); SQLite's numbered form is `?1`, `?2`.
    fn placeholders(self, statement: &str) -> String {
        match self {
            Dialect::Sqlite => statement.replace('$', "?"),
            Dialect::Postgres => statement.to_owned(),
        }
    }
}
