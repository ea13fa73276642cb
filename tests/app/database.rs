//! Migrations, constraints, SQLite settings and the pool, on both backends.

use crate::helpers::{Backend, TestDatabase};
use crate::on_both_backends;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use optouts::db::{self, DatabaseUrl, DbConnection};

on_both_backends!(
    migrations_create_the_whole_model_once,
    one_active_opt_out_per_address_and_scope,
    consent_events_refuse_update_and_delete,
    accounts_must_follow_the_hierarchy,
    demo_data_loads_once,
);

const TABLES: [&str; 12] = [
    "groups",
    "clients",
    "users",
    "contacts",
    "campaigns",
    "campaign_recipients",
    "messages",
    "opt_outs",
    "consent_events",
    "preference_settings",
    "login_failures",
    "revoked_sessions",
];

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

fn count_rows(conn: &mut DbConnection, table: &str) -> i64 {
    // Table names come from the constant above, never from input.
    let sql = format!("SELECT COUNT(*) AS n FROM {table}");
    optouts::on_each_backend!(conn, |c| diesel::sql_query(&sql).get_result::<Count>(c))
        .unwrap_or_else(|e| panic!("{table}: {e}"))
        .n
}

async fn migrations_create_the_whole_model_once(backend: Backend) {
    let Some(test_db) = TestDatabase::create(backend) else {
        return;
    };
    let pool = db::build_pool(&test_db.url, 2).unwrap();
    let mut conn = pool.get().unwrap();
    let applied = db::run_migrations(&mut conn).unwrap();
    assert_eq!(applied.len(), 6, "{applied:?}");
    for table in TABLES {
        assert_eq!(count_rows(&mut conn, table), 0);
    }
    assert!(
        db::run_migrations(&mut conn).unwrap().is_empty(),
        "second run applies nothing"
    );
    assert_eq!(
        conn.backend_name(),
        match backend {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    );
}

fn seeded(backend: Backend) -> Option<(TestDatabase, optouts::db::PooledConnection)> {
    let test_db = TestDatabase::create(backend)?;
    let pool = test_db.migrated_pool();
    let mut conn = pool.get().unwrap();
    conn.batch_execute(
        "INSERT INTO groups (name, created_at) VALUES ('G', '2026-01-01 00:00:00');",
    )
    .unwrap();
    Some((test_db, conn))
}

async fn one_active_opt_out_per_address_and_scope(backend: Backend) {
    let Some((_db, mut conn)) = seeded(backend) else {
        return;
    };
    let insert = "INSERT INTO opt_outs (group_id, level, scope_id, email, source, created_at)
                  VALUES (1, 'group', 1, 'a@example.com', 'manual', '2026-01-01 00:00:00')";
    conn.batch_execute(insert).unwrap();
    let duplicate = conn.batch_execute(insert);
    assert!(
        duplicate.is_err(),
        "a second identical active opt-out must be refused"
    );
    // A group-level opt-out must name its own group as scope.
    let wrong_scope = conn.batch_execute(
        "INSERT INTO opt_outs (group_id, level, scope_id, email, source, created_at)
         VALUES (1, 'group', 99, 'b@example.com', 'manual', '2026-01-01 00:00:00')",
    );
    assert!(wrong_scope.is_err());
    let bad_level = conn.batch_execute(
        "INSERT INTO opt_outs (group_id, level, scope_id, email, source, created_at)
         VALUES (1, 'planet', 1, 'c@example.com', 'manual', '2026-01-01 00:00:00')",
    );
    assert!(bad_level.is_err());
    assert_eq!(count_rows(&mut conn, "opt_outs"), 1);
}

async fn consent_events_refuse_update_and_delete(backend: Backend) {
    let Some((_db, mut conn)) = seeded(backend) else {
        return;
    };
    conn.batch_execute(
        "INSERT INTO consent_events (group_id, email, kind, level, scope_id, source, actor_kind, created_at)
         VALUES (1, 'a@example.com', 'opt_out', 'group', 1, 'manual', 'user', '2026-01-01 00:00:00')",
    )
    .unwrap();
    let update = conn.batch_execute("UPDATE consent_events SET reason = 'rewritten'");
    let error = update.expect_err("UPDATE must be refused").to_string();
    assert!(error.contains("append-only"), "{error}");
    let delete = conn.batch_execute("DELETE FROM consent_events");
    assert!(
        delete
            .expect_err("DELETE must be refused")
            .to_string()
            .contains("append-only")
    );
    assert_eq!(count_rows(&mut conn, "consent_events"), 1);

    #[derive(QueryableByName)]
    struct Reason {
        #[diesel(sql_type = diesel::sql_types::Nullable<Text>)]
        reason: Option<String>,
    }
    let reason = optouts::on_each_backend!(&mut *conn, |c| diesel::sql_query(
        "SELECT reason FROM consent_events"
    )
    .get_result::<Reason>(c))
    .unwrap();
    assert_eq!(reason.reason, None);
}

async fn accounts_must_follow_the_hierarchy(backend: Backend) {
    let Some((_db, mut conn)) = seeded(backend) else {
        return;
    };
    conn.batch_execute(
        "INSERT INTO groups (name, created_at) VALUES ('Other', '2026-01-01 00:00:00');
         INSERT INTO clients (group_id, name, created_at) VALUES (2, 'Elsewhere', '2026-01-01 00:00:00');",
    )
    .unwrap();
    // A user whose client belongs to another group.
    let cross = conn.batch_execute(
        "INSERT INTO users (email, display_name, role, group_id, client_id, password_hash, created_at)
         VALUES ('x@acme.example', 'X', 'user', 1, 1, 'h', '2026-01-01 00:00:00')",
    );
    assert!(cross.is_err(), "client 1 belongs to group 2");
    // Support staff belong to no group.
    let support_in_group = conn.batch_execute(
        "INSERT INTO users (email, display_name, role, group_id, password_hash, created_at)
         VALUES ('s@acme.example', 'S', 'support', 1, 'h', '2026-01-01 00:00:00')",
    );
    assert!(support_in_group.is_err());
    // A user needs a client.
    let no_client = conn.batch_execute(
        "INSERT INTO users (email, display_name, role, group_id, password_hash, created_at)
         VALUES ('u@acme.example', 'U', 'user', 1, 'h', '2026-01-01 00:00:00')",
    );
    assert!(no_client.is_err());
    assert_eq!(count_rows(&mut conn, "users"), 0);
}

async fn demo_data_loads_once(backend: Backend) {
    let Some(test_db) = TestDatabase::create(backend) else {
        return;
    };
    let pool = test_db.migrated_pool();
    let mut conn = pool.get().unwrap();
    assert!(optouts::seed::demo::database_is_empty(&mut conn).unwrap());
    let first = optouts::seed::demo::load(&mut conn).unwrap();
    assert_eq!(first.users_created, 9);
    assert!(first.contacts_created >= 300, "{first:?}");
    assert!(first.opt_outs_created >= 10, "{first:?}");
    assert_eq!(first.campaigns_created, 1);
    let before: Vec<i64> = TABLES.iter().map(|t| count_rows(&mut conn, t)).collect();
    let second = optouts::seed::demo::load(&mut conn).unwrap();
    assert_eq!(second, optouts::seed::demo::Summary::default());
    let after: Vec<i64> = TABLES.iter().map(|t| count_rows(&mut conn, t)).collect();
    assert_eq!(before, after, "a second load must change nothing");
    // Opt-outs exist at every level, each with its event.
    for level in ["group", "client", "user"] {
        let sql = format!("SELECT COUNT(*) AS n FROM opt_outs WHERE level = '{level}'");
        let n = optouts::on_each_backend!(&mut *conn, |c| diesel::sql_query(&sql)
            .get_result::<Count>(c))
        .unwrap()
        .n;
        assert!(n > 0, "no {level}-level opt-out");
    }
    assert_eq!(
        count_rows(&mut conn, "opt_outs"),
        count_rows(&mut conn, "consent_events")
    );
    assert!(!optouts::seed::demo::database_is_empty(&mut conn).unwrap());
}

#[test]
fn sqlite_connections_get_their_pragmas() {
    let test_db = TestDatabase::create(Backend::Sqlite).unwrap();
    let pool = test_db.migrated_pool();
    let mut conn = pool.get().unwrap();
    #[derive(QueryableByName)]
    struct Mode {
        #[diesel(sql_type = Text)]
        journal_mode: String,
    }
    #[derive(QueryableByName)]
    struct Flag {
        #[diesel(sql_type = BigInt)]
        value: i64,
    }
    let DbConnection::Sqlite(sqlite) = &mut *conn else {
        panic!("not sqlite")
    };
    let mode: Mode = diesel::sql_query("PRAGMA journal_mode")
        .get_result(sqlite)
        .unwrap();
    assert_eq!(mode.journal_mode, "wal");
    // (pragma, the column its table-valued function returns, the value we set)
    for (pragma, column, expected) in [
        ("synchronous", "synchronous", 1),
        ("foreign_keys", "foreign_keys", 1),
        ("busy_timeout", "timeout", 10_000),
    ] {
        let flag: Flag =
            diesel::sql_query(format!("SELECT {column} AS value FROM pragma_{pragma}"))
                .get_result(sqlite)
                .unwrap();
        assert_eq!(flag.value, expected, "PRAGMA {pragma}");
    }
}

#[test]
fn a_bad_postgres_url_fails_fast_with_the_real_error() {
    // Port 1 on localhost: nothing listens there.
    let url = DatabaseUrl::parse("postgres://optouts:secret@127.0.0.1:1/optouts").unwrap();
    let started = std::time::Instant::now();
    let error = format!("{:#}", db::build_pool(&url, 2).expect_err("must fail"));
    // Not r2d2's 10-second wait: the first connection's own error, at once.
    assert!(
        started.elapsed() < std::time::Duration::from_secs(8),
        "failed slowly"
    );
    assert!(
        error.contains("cannot connect to the database postgres://optouts:***@127.0.0.1:1/optouts"),
        "{error}"
    );
    assert!(
        error.contains("Connection refused"),
        "the server's own message: {error}"
    );
    assert!(!error.contains("secret"), "password leaked: {error}");
}
