//! One connection type for both backends. Most queries are written once against it; where SQL
//! must differ, match on the variant (see [`on_each_backend!`](crate::on_each_backend)).

use diesel::connection::{AnsiTransactionManager, Connection, TransactionManager};
use diesel::{PgConnection, SqliteConnection};

#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Postgresql(PgConnection),
    Sqlite(SqliteConnection),
}

impl DbConnection {
    pub fn backend_name(&self) -> &'static str {
        match self {
            DbConnection::Postgresql(_) => "postgres",
            DbConnection::Sqlite(_) => "sqlite",
        }
    }
}

/// Runs the same diesel expression on the concrete connection of either backend, for the few
/// query forms (`on_conflict`, backend-specific SQL) that do not compile through the enum.
#[macro_export]
macro_rules! on_each_backend {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::db::DbConnection::Sqlite($c) => $body,
            $crate::db::DbConnection::Postgresql($c) => $body,
        }
    };
}

/// A transaction for writes. On SQLite it starts with `BEGIN IMMEDIATE`, taking the write lock
/// up front: a deferred transaction that reads first and writes later can fail with "database
/// is locked" when another connection wrote in between, whatever the busy timeout.
pub fn write_transaction<T, E, F>(conn: &mut DbConnection, work: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConnection) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    type Manager = <DbConnection as Connection>::TransactionManager;
    let nested = Manager::transaction_manager_status_mut(conn)
        .transaction_depth()?
        .is_some();
    match conn {
        // Inside an outer transaction the outer one decided the locking: use a savepoint.
        DbConnection::Sqlite(inner) if !nested => {
            AnsiTransactionManager::begin_transaction_sql(inner, "BEGIN IMMEDIATE")?
        }
        _ => Manager::begin_transaction(conn)?,
    }
    match work(conn) {
        Ok(value) => match Manager::commit_transaction(conn) {
            Ok(()) => Ok(value),
            Err(commit_error) => {
                // Leave the connection usable for the pool; the commit error is what matters.
                let _ = Manager::rollback_transaction(conn);
                Err(commit_error.into())
            }
        },
        Err(work_error) => {
            let _ = Manager::rollback_transaction(conn);
            Err(work_error)
        }
    }
}
