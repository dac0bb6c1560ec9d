//! The storage layer: every SQL statement Hookrelay runs lives under this
//! module, behind plain async functions. HTTP handlers and server functions
//! call these and never write SQL themselves.

pub mod accounts;
pub mod api_keys;
mod clock;
pub mod deliveries;
pub mod directory;
pub mod events;
mod failing;
pub mod hooks;
pub mod key_check;
pub mod retention;
#[cfg(test)]
mod schema_twins;
pub mod sessions;
pub mod stats;
pub mod target;

pub use clock::now_ms;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};
use std::{str::FromStr, time::Duration};

/// The database handle shared by the API, the server functions and the
/// dispatcher: a connection pool plus the process's `HookDirectory`, which
/// every hook write updates after its commit (so queued deliveries always
/// go out with the hook as it is now, see `directory.rs`).
#[derive(Clone)]
pub struct Db {
    pool: SqlitePool,
    hooks: directory::HookDirectory,
}

impl Db {
    /// The hooks as the dispatcher sends to them.
    pub fn hooks(&self) -> &directory::HookDirectory {
        &self.hooks
    }

    /// A second handle on the same database for the dispatcher's bookkeeping
    /// (claims, attempt records), whose commits are not fsynced on their own
    /// (`synchronous=NORMAL`: durable against a crash; after a power loss the
    /// last ones may be lost, which at worst sends a delivery again). The
    /// next FULL commit fsyncs them too. It shares this handle's directory.
    pub async fn for_dispatch(&self, url: &str) -> Result<Db, StorageError> {
        Ok(Db { pool: open(url, SqliteSynchronous::Normal, 2).await?, hooks: self.hooks.clone() })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("invalid database URL: {0}")]
    InvalidUrl(#[source] sqlx::Error),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("{0} already exists")]
    Duplicate(&'static str),
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("corrupt row: bad {0}")]
    Corrupt(&'static str),
    #[error(transparent)]
    Security(#[from] crate::security::SecurityError),
    #[error("a blocking task (password hashing) failed")]
    Blocking,
}

/// Opens (creating if missing) the SQLite database at `url` in WAL mode and
/// applies the embedded migrations. Commits are fsynced (`synchronous=FULL`):
/// what a 2xx acknowledged survives power loss.
pub async fn connect(url: &str) -> Result<Db, StorageError> {
    let pool = open(url, SqliteSynchronous::Full, 4).await?;
    sqlx::migrate!("../migrations/sqlite").run(&pool).await?;
    Ok(Db { pool, hooks: directory::HookDirectory::default() })
}

async fn open(url: &str, synchronous: SqliteSynchronous, max: u32) -> Result<SqlitePool, StorageError> {
    let options = SqliteConnectOptions::from_str(url)
        .map_err(StorageError::InvalidUrl)?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(synchronous)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(5))
        // 1 MiB of page cache per connection (SQLite's default is 2 MiB): the
        // hot pages are few, and memory stays small with 12 connections.
        .pragma("cache_size", "-1024")
        // No checkpoint inside a commit (it would stall that request with
        // the copy and fsync): `checkpoint` runs from a background task.
        .pragma("wal_autocheckpoint", "0");
    Ok(SqlitePoolOptions::new().max_connections(max).connect_with(options).await?)
}

/// Copies committed WAL pages into the database file without blocking
/// writers (PASSIVE), so the WAL stays small. Called every second by the
/// server instead of SQLite's in-commit auto-checkpoint.
pub async fn checkpoint(db: &Db) -> Result<(), StorageError> {
    sqlx::query("PRAGMA wal_checkpoint(PASSIVE)").execute(&db.pool).await?;
    Ok(())
}

/// One round trip to the database: used by `/healthz`.
pub async fn ping(db: &Db) -> Result<(), StorageError> {
    sqlx::query("SELECT 1").execute(&db.pool).await?;
    Ok(())
}

/// A list as one JSON array, for a statement that reads it with
/// `json_each(?)`: ids (`value`) or rows (tuples become arrays:
/// `value ->> n`), so a whole batch is one statement.
fn json_rows<T: serde::Serialize>(rows: &[T]) -> Result<String, StorageError> {
    serde_json::to_string(rows).map_err(|_| StorageError::Corrupt("row for a JSON batch"))
}

/// True when `err` is a UNIQUE constraint violation.
fn is_unique_violation(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(db) if db.is_unique_violation())
}
