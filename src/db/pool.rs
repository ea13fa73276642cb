//! The connection pool: our own r2d2 manager that picks the backend by URL scheme and reports
//! the real connection error (diesel's derived `establish` tries each backend in turn, and a
//! PostgreSQL URL with a typo ended up creating an SQLite file named after it).

use anyhow::Context;
use diesel::connection::SimpleConnection;
use diesel::r2d2::{self, CustomizeConnection, ManageConnection};
use diesel::{Connection, PgConnection, QueryResult, SqliteConnection};
use secrecy::ExposeSecret;
use std::time::Duration;

use super::{DatabaseUrl, DbConnection};

pub type DbPool = r2d2::Pool<ConnectionManager>;
pub type PooledConnection = r2d2::PooledConnection<ConnectionManager>;

#[derive(Debug)]
pub struct ConnectionManager {
    url: DatabaseUrl,
}

impl ConnectionManager {
    pub fn new(url: DatabaseUrl) -> Self {
        Self { url }
    }
}

impl ManageConnection for ConnectionManager {
    type Connection = DbConnection;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<DbConnection, r2d2::Error> {
        match &self.url {
            DatabaseUrl::Sqlite { path } => {
                SqliteConnection::establish(&path.to_string_lossy()).map(DbConnection::Sqlite)
            }
            DatabaseUrl::Postgres { url } => {
                PgConnection::establish(url.expose_secret()).map(DbConnection::Postgresql)
            }
        }
        .map_err(r2d2::Error::ConnectionError)
    }

    fn is_valid(&self, conn: &mut DbConnection) -> Result<(), r2d2::Error> {
        conn.batch_execute("SELECT 1")
            .map_err(r2d2::Error::QueryError)
    }

    fn has_broken(&self, _conn: &mut DbConnection) -> bool {
        false
    }
}

/// Per-connection settings, applied whenever the pool opens a connection.
#[derive(Debug)]
struct SessionSettings;

/// WAL lets readers run beside the one writer; `synchronous=NORMAL` in WAL mode still keeps
/// every committed transaction across a process crash (only an OS crash can lose the last
/// ones); foreign keys are off by default in SQLite; the busy timeout makes a writer wait for
/// the lock instead of failing at once. The memory map: pages of the first GiB are read
/// straight from the OS's page cache instead of by one `pread` and a copy each into the
/// connection's own 2 MB cache — a sixth of a recipient's page in CPU, and it keeps the bulk
/// suppression check linear once the database outgrows that cache (docs/PERFORMANCE.md). It
/// costs address space, not memory: the pages are the OS's, shared by every connection (though
/// counted in the process's resident size while mapped).
const SQLITE_PRAGMAS: &str = "PRAGMA busy_timeout = 10000;
PRAGMA journal_mode = WAL;
PRAGMA synchronous = NORMAL;
PRAGMA foreign_keys = ON;
PRAGMA mmap_size = 1073741824;";

impl CustomizeConnection<DbConnection, r2d2::Error> for SessionSettings {
    fn on_acquire(&self, conn: &mut DbConnection) -> Result<(), r2d2::Error> {
        let sql = match conn {
            DbConnection::Sqlite(_) => SQLITE_PRAGMAS,
            // Timestamps are naive UTC; keep the server's `now()` in the same zone.
            DbConnection::Postgresql(_) => "SET TIME ZONE 'UTC'",
        };
        conn.batch_execute(sql).map_err(r2d2::Error::QueryError)
    }
}

/// For one pass over many rows (exports): SQLite reads through its own small page cache
/// instead of the memory map, which would gain nothing on pages read once and would count each
/// of them in the process's resident size. Nothing to do on PostgreSQL.
pub fn without_memory_map(conn: &mut DbConnection) -> QueryResult<()> {
    match conn {
        DbConnection::Sqlite(_) => conn.batch_execute("PRAGMA mmap_size = 0;"),
        DbConnection::Postgresql(_) => Ok(()),
    }
}

/// One SQLite connection with the pool's settings, except that every commit is flushed to disk
/// (`synchronous=FULL`): a commit on it survives a power cut, not only a process crash. For the
/// one writer that records recipients' opt-outs (see `opt_out_writer`), where the fsync per
/// commit is shared by a whole batch.
pub fn open_durable_sqlite(url: &DatabaseUrl) -> anyhow::Result<DbConnection> {
    let mut conn = ConnectionManager::new(url.clone())
        .connect()
        .with_context(|| format!("cannot connect to the database {}", url.redacted()))?;
    anyhow::ensure!(
        matches!(conn, DbConnection::Sqlite(_)),
        "a durable SQLite connection needs an sqlite:// URL"
    );
    SessionSettings
        .on_acquire(&mut conn)
        .and_then(|()| {
            conn.batch_execute("PRAGMA synchronous = FULL;")
                .map_err(r2d2::Error::QueryError)
        })
        .with_context(|| format!("cannot configure the database {}", url.redacted()))?;
    Ok(conn)
}

/// Opens one connection first so a bad URL fails at once with the server's own message,
/// instead of after r2d2's connection timeout; then builds the pool.
pub fn build_pool(url: &DatabaseUrl, max_size: u32) -> anyhow::Result<DbPool> {
    if let DatabaseUrl::Sqlite { path } = url
        && let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
    {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create the database folder {}", dir.display()))?;
    }
    let manager = ConnectionManager::new(url.clone());
    let mut probe = manager
        .connect()
        .with_context(|| format!("cannot connect to the database {}", url.redacted()))?;
    SessionSettings
        .on_acquire(&mut probe)
        .with_context(|| format!("cannot configure the database {}", url.redacted()))?;
    drop(probe);
    r2d2::Pool::builder()
        .max_size(max_size)
        // r2d2 runs `SELECT 1` on every check-out by default: a round trip per request for
        // nothing on SQLite, where a connection is a file handle that cannot go stale. A
        // PostgreSQL connection can (server restart), so it keeps the check.
        .test_on_check_out(matches!(url, DatabaseUrl::Postgres { .. }))
        .connection_timeout(Duration::from_secs(10))
        .connection_customizer(Box::new(SessionSettings))
        .build(manager)
        .with_context(|| format!("cannot open a connection pool to {}", url.redacted()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use diesel::prelude::*;

    #[derive(QueryableByName)]
    struct MmapSize {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        mmap_size: i64,
    }

    fn mmap_size(conn: &mut DbConnection) -> i64 {
        diesel::sql_query("PRAGMA mmap_size")
            .get_result::<MmapSize>(conn)
            .unwrap()
            .mmap_size
    }

    #[test]
    fn pooled_sqlite_connections_read_through_the_memory_map_exports_do_not() {
        let dir = tempfile::tempdir().unwrap();
        let url = DatabaseUrl::Sqlite {
            path: dir.path().join("t.sqlite"),
        };
        let pool = build_pool(&url, 2).unwrap();
        let mut conn = pool.get().unwrap();
        assert_eq!(mmap_size(&mut conn), 1 << 30);
        without_memory_map(&mut conn).unwrap();
        assert_eq!(mmap_size(&mut conn), 0);
    }
}
