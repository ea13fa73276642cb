//! Migrations embedded in the binary, one folder per backend with the same migration names.

use diesel::connection::SimpleConnection;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use super::DbConnection;

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// Any constant works; it only has to be the same in every instance.
const MIGRATION_LOCK_KEY: i64 = 0x006f_7074_6f75_7473; // "optouts" in ASCII

/// Applies every pending migration and returns the names applied. On PostgreSQL an advisory
/// lock makes instances that start together take turns instead of racing.
pub fn run_migrations(conn: &mut DbConnection) -> anyhow::Result<Vec<String>> {
    let names = |applied: Vec<diesel::migration::MigrationVersion<'_>>| {
        applied
            .into_iter()
            .map(|v| v.to_string())
            .collect::<Vec<_>>()
    };
    let applied = match conn {
        DbConnection::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS).map(names),
        DbConnection::Postgresql(c) => {
            c.batch_execute(&format!("SELECT pg_advisory_lock({MIGRATION_LOCK_KEY})"))?;
            let result = c.run_pending_migrations(POSTGRES_MIGRATIONS).map(names);
            c.batch_execute(&format!("SELECT pg_advisory_unlock({MIGRATION_LOCK_KEY})"))?;
            result
        }
    };
    applied.map_err(|e| anyhow::anyhow!("migration failed: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use diesel::sql_types::{BigInt, Text};
    use diesel::{Connection, QueryResult, QueryableByName, RunQueryDsl, SqliteConnection};

    #[derive(QueryableByName, Debug, PartialEq)]
    struct Id {
        #[diesel(sql_type = BigInt)]
        id: i64,
    }

    const AT: &str = "'2026-11-26 09:00:00'";

    /// Rows that reference a message from each of the three tables that can.
    fn seed(conn: &mut SqliteConnection) {
        conn.batch_execute(&format!(
            "INSERT INTO groups (id, name, created_at) VALUES (1, 'Acme', {AT});
             INSERT INTO clients (id, group_id, name, created_at) VALUES (1, 1, 'News', {AT});
             INSERT INTO users (id, email, display_name, role, group_id, client_id, password_hash,
                                created_at)
                 VALUES (1, 'nina@acme.example', 'Nina', 'user', 1, 1, 'x', {AT});
             INSERT INTO contacts (id, owner_user_id, client_id, group_id, email, created_at)
                 VALUES (1, 1, 1, 1, 'pat@example.com', {AT});
             INSERT INTO campaigns (id, group_id, client_id, owner_user_id, name, subject,
                                    from_name, body_text, status, created_at, updated_at)
                 VALUES (1, 1, 1, 1, 'C', 'S', 'F', 'B', 'sent', {AT}, {AT});
             INSERT INTO messages (kind, group_id, client_id, sender_user_id, campaign_id,
                                   contact_id, to_email, status, next_attempt_at, created_at,
                                   updated_at)
                 VALUES ('campaign', 1, 1, 1, 1, 1, 'pat@example.com', 'sent', {AT}, {AT}, {AT}),
                        ('campaign', 1, 1, 1, 1, 1, 'pat@example.com', 'sent', {AT}, {AT}, {AT}),
                        ('campaign', 1, 1, 1, 1, 1, 'pat@example.com', 'sent', {AT}, {AT}, {AT});
             -- The newest message is gone: its id must still never come back.
             DELETE FROM messages WHERE id = 3;
             INSERT INTO campaign_recipients (campaign_id, contact_id, status, message_id, added_at)
                 VALUES (1, 1, 'queued', 2, {AT});
             INSERT INTO opt_outs (group_id, level, scope_id, email, source, message_id, created_at)
                 VALUES (1, 'user', 1, 'pat@example.com', 'one_click', 2, {AT});
             INSERT INTO consent_events (group_id, email, kind, level, scope_id, source,
                                         actor_kind, message_id, created_at)
                 VALUES (1, 'pat@example.com', 'opt_out', 'user', 1, 'one_click', 'recipient', 2,
                         {AT});"
        ))
        .unwrap();
    }

    fn insert_message(conn: &mut SqliteConnection, kind: &str) -> QueryResult<Vec<Id>> {
        diesel::sql_query(format!(
            "INSERT INTO messages (kind, group_id, to_email, status, next_attempt_at, created_at,
                                   updated_at)
             VALUES (?, 1, 'nina@acme.example', 'queued', {AT}, {AT}, {AT}) RETURNING id"
        ))
        .bind::<Text, _>(kind)
        .load(conn)
    }

    #[test]
    fn widening_the_message_kinds_keeps_every_message_reference_and_id() {
        let mut conn = SqliteConnection::establish(":memory:").unwrap();
        conn.batch_execute("PRAGMA foreign_keys = ON").unwrap();
        for _ in 0..4 {
            conn.run_next_migration(SQLITE_MIGRATIONS).unwrap();
        }
        seed(&mut conn);
        assert!(insert_message(&mut conn, "support_lift_notice").is_err());

        conn.run_pending_migrations(SQLITE_MIGRATIONS).unwrap();

        let kept: Vec<Id> = diesel::sql_query("SELECT id FROM messages ORDER BY id")
            .load(&mut conn)
            .unwrap();
        assert_eq!(kept, [Id { id: 1 }, Id { id: 2 }]);
        let violations: Vec<Id> =
            diesel::sql_query("SELECT COUNT(*) AS id FROM pragma_foreign_key_check")
                .load(&mut conn)
                .unwrap();
        assert_eq!(violations, [Id { id: 0 }], "no reference lost");
        // The new kind is accepted, with the next id never used before; others still refused.
        assert_eq!(
            insert_message(&mut conn, "support_lift_notice").unwrap(),
            [Id { id: 4 }]
        );
        assert!(insert_message(&mut conn, "newsletter").is_err());
        // Foreign keys are enforced again, and still point at messages.
        let dangling = conn.batch_execute(&format!(
            "INSERT INTO campaign_recipients (campaign_id, contact_id, status, message_id, added_at)
             VALUES (1, 1, 'queued', 999, {AT})"
        ));
        assert!(dangling.is_err(), "a reference to no message is refused");
    }
}
