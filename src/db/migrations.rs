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
