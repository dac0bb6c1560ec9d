//! The two backends behind `Db`: the pool enum, how each is opened, write
//! transactions, and the macros that run one block of code on whichever
//! pool or transaction it is (the block is compiled once per backend, so
//! each arm gets its own driver's types).

use super::StorageError;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Postgres, Sqlite, Transaction};
use std::{str::FromStr, time::Duration};

/// Which database a `Db` talks to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// The backend a database URL names: `postgres://` / `postgresql://`,
    /// anything else is SQLite (`sqlite://`, `sqlite:`, a plain path).
    pub fn of_url(url: &str) -> Self {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") { Self::Postgres } else { Self::Sqlite }
    }
}

#[derive(Clone)]
pub(super) enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Runs `$body` with `$p` bound to the pool, whichever backend it is.
macro_rules! on_pool {
    ($pool:expr, $p:ident => $body:expr) => {
        match $pool {
            $crate::storage::backend::Pool::Sqlite($p) => $body,
            $crate::storage::backend::Pool::Postgres($p) => $body,
        }
    };
}
pub(super) use on_pool;

/// A write transaction on either backend.
pub(super) enum Tx {
    Sqlite(Transaction<'static, Sqlite>),
    Postgres(Transaction<'static, Postgres>),
}

/// Runs `$body` with `$c` bound to the transaction's connection
/// (`&mut Transaction`; use `&mut **$c` as the executor).
macro_rules! on_tx {
    ($tx:expr, $c:ident => $body:expr) => {
        match $tx {
            $crate::storage::backend::Tx::Sqlite($c) => $body,
            $crate::storage::backend::Tx::Postgres($c) => $body,
        }
    };
}
pub(super) use on_tx;

impl Tx {
    pub(super) async fn commit(self) -> Result<(), StorageError> {
        on_tx!(self, t => t.commit().await)?;
        Ok(())
    }

    pub(super) fn backend(&self) -> Backend {
        match self {
            Tx::Sqlite(_) => Backend::Sqlite,
            Tx::Postgres(_) => Backend::Postgres,
        }
    }

    /// PostgreSQL: at this transaction's commit, every process listening
    /// hears that the hook changed (nothing to tell on SQLite).
    pub(super) async fn notify_hook_changed(&mut self, process: &str, hook_id: &str) -> Result<(), StorageError> {
        if let Tx::Postgres(t) = self {
            sqlx::query("SELECT pg_notify($1, $2)")
                .bind(super::directory::CHANNEL)
                .bind(format!("{process}:{hook_id}"))
                .execute(&mut **t)
                .await?;
        }
        Ok(())
    }

    /// The statement for this transaction's backend.
    pub(super) fn sql(&self, sqlite: &'static str, postgres: &'static str) -> &'static str {
        match self.backend() {
            Backend::Sqlite => sqlite,
            Backend::Postgres => postgres,
        }
    }
}

impl Pool {
    pub(super) fn backend(&self) -> Backend {
        match self {
            Pool::Sqlite(_) => Backend::Sqlite,
            Pool::Postgres(_) => Backend::Postgres,
        }
    }

    pub(super) async fn begin_write(&self) -> Result<Tx, StorageError> {
        Ok(match self {
            Pool::Sqlite(p) => Tx::Sqlite(p.begin_with("BEGIN IMMEDIATE").await?),
            Pool::Postgres(p) => Tx::Postgres(p.begin().await?),
        })
    }
}

/// Refuses a URL of a scheme neither backend takes, rather than taking it
/// for a SQLite file name (`postgress://…` would fail later as "unable to
/// open database file").
fn known_scheme(url: &str) -> Result<(), StorageError> {
    match url.split_once("://") {
        Some((scheme, _)) if !matches!(scheme, "sqlite" | "postgres" | "postgresql") => {
            Err(StorageError::UnknownScheme(scheme.chars().take(32).collect()))
        }
        _ => Ok(()),
    }
}

/// The `vfs` a SQLite URL names (`?vfs=unix-dotfile`): the writer thread's
/// connection must lock the file the way the pool's do.
pub(super) fn sqlite_vfs(url: &str) -> Option<String> {
    let (_, query) = url.split_once('?')?;
    url::form_urlencoded::parse(query.as_bytes()).find(|(name, _)| name == "vfs").map(|(_, vfs)| vfs.into_owned())
}

/// What a WAL is cut back to when it starts over (every connection sets it:
/// the one that writes first after a full checkpoint does the cutting).
/// Above the server's catch-up point (64 MiB of frames, plus a second's
/// worth), so a WAL that starts over keeps its space instead of being cut
/// and grown again each time.
pub(super) const WAL_LIMIT_BYTES: i64 = 96 * 1024 * 1024;

/// The main pool: every commit durable (fsynced) before it returns.
pub(super) async fn open(url: &str) -> Result<Pool, StorageError> {
    known_scheme(url)?;
    Ok(match Backend::of_url(url) {
        // The hot writes have their own connection besides (`sqlite_writer.rs`).
        Backend::Sqlite => Pool::Sqlite(open_sqlite(url, SqliteSynchronous::Full, 4).await?),
        Backend::Postgres => Pool::Postgres(open_postgres(url, false, 6).await?),
    })
}

/// The dispatcher's pool: commits not fsynced on their own (see `Db::for_dispatch`).
pub(super) async fn open_for_dispatch(url: &str) -> Result<Pool, StorageError> {
    Ok(match Backend::of_url(url) {
        Backend::Sqlite => Pool::Sqlite(open_sqlite(url, SqliteSynchronous::Normal, 2).await?),
        Backend::Postgres => Pool::Postgres(open_postgres(url, true, 4).await?),
    })
}

async fn open_sqlite(url: &str, synchronous: SqliteSynchronous, max: u32) -> Result<SqlitePool, StorageError> {
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
        .pragma("wal_autocheckpoint", "0")
        // A WAL that starts over is cut back to this (it otherwise keeps its
        // largest size on disk).
        .pragma("journal_size_limit", WAL_LIMIT_BYTES.to_string());
    // No ping before each use: the database is a local file, and on SQLite
    // a ping is one more round trip to the connection's thread (two thread
    // switches) for every query the service makes.
    Ok(SqlitePoolOptions::new().max_connections(max).test_before_acquire(false).connect_with(options).await?)
}

/// A small pool: PostgreSQL's connections are shared by every process.
async fn open_postgres(url: &str, lazy_commit: bool, max: u32) -> Result<PgPool, StorageError> {
    let mut options = PgConnectOptions::from_str(url).map_err(StorageError::InvalidUrl)?;
    if lazy_commit {
        options = options.options([("synchronous_commit", "off")]);
    }
    Ok(PgPoolOptions::new().max_connections(max).acquire_timeout(Duration::from_secs(10)).connect_with(options).await?)
}

/// The PostgreSQL pool, for the cross-process notifications (`directory::listen`).
pub(super) fn postgres(pool: &Pool) -> Option<&PgPool> {
    match pool {
        Pool::Postgres(p) => Some(p),
        Pool::Sqlite(_) => None,
    }
}

/// The SQLite pool (unit tests that read SQLite's query plans).
#[cfg(test)]
pub(super) fn sqlite(pool: &Pool) -> &SqlitePool {
    match pool {
        Pool::Sqlite(p) => p,
        Pool::Postgres(_) => panic!("a SQLite database was expected"),
    }
}
