//! The storage layer: every SQL statement Hookrelay runs lives under this
//! module, behind plain async functions. HTTP handlers, server functions and
//! the dispatcher call these and never write SQL or branch on the backend.
//!
//! Two backends sit behind the one `Db` handle (docs/DECISIONS.md, "One
//! storage API, two backends"): SQLite (the default, one process) and
//! PostgreSQL (several processes on one database). `Db` holds an enum of the
//! two pools; each function runs the same statement on either where the SQL
//! is portable (`$1` placeholders work on both) and picks the backend's own
//! statement with `Db::sql` where the dialects differ (JSON arrays, row
//! locks, index hints). `backend.rs` has the pool, transaction and macro.

pub mod accounts;
pub mod api_keys;
mod backend;
mod clock;
pub mod deliveries;
mod delivery_log;
pub mod directory;
pub mod event_log;
pub mod events;
mod failing;
#[cfg(test)]
mod fixtures;
pub mod hook_options;
pub mod hooks;
mod key_cache;
pub mod key_check;
pub mod migrate;
mod migrations;
#[cfg(test)]
mod notify_latency;
pub mod operations;
pub mod ordered;
#[cfg(test)]
mod outbox_tests;
pub mod quota;
pub mod reseal;
pub mod retention;
mod row;
#[cfg(test)]
mod schema_twins;
pub mod sessions;
mod sqlite_writer;
pub mod stats;
pub mod target;

pub use backend::Backend;
pub use clock::now_ms;

use backend::{Pool, Tx};

/// The database handle shared by the API, the server functions and the
/// dispatcher: a connection pool plus the process's `HookDirectory`, which
/// every hook write updates after its commit (so queued deliveries always
/// go out with the hook as it is now, see `directory.rs`). On PostgreSQL the
/// other processes hear of the change by a notification (`commit_hook_write`).
#[derive(Clone)]
pub struct Db {
    pool: Pool,
    hooks: directory::HookDirectory,
    limits: quota::AccountLimits,
    /// Recently accepted API keys (SQLite only; `key_cache.rs`).
    keys: key_cache::KeyCache,
    /// On SQLite (always a file: an in-memory database is refused), the
    /// thread that runs the hot write transactions (`sqlite_writer.rs`):
    /// publishes and the dispatcher's records share it.
    writer: Option<sqlite_writer::SqliteWriter>,
}

impl Db {
    /// This handle with the per-account limits `hookrelay serve` enforces.
    pub fn with_limits(self, limits: quota::AccountLimits) -> Self {
        Self { limits, ..self }
    }

    /// The per-account limits enforced on creation.
    pub fn limits(&self) -> quota::AccountLimits {
        self.limits
    }

    /// The hooks as the dispatcher sends to them.
    pub fn hooks(&self) -> &directory::HookDirectory {
        &self.hooks
    }

    pub fn backend(&self) -> Backend {
        self.pool.backend()
    }

    /// True when other processes may share this database (PostgreSQL).
    pub fn is_shared(&self) -> bool {
        self.backend() == Backend::Postgres
    }

    /// A second handle on the same database for the dispatcher's bookkeeping
    /// (claims, attempt records), whose commits are not fsynced on their own
    /// (SQLite `synchronous=NORMAL`, PostgreSQL `synchronous_commit=off`:
    /// durable against a crash of the process; after a power loss the last
    /// ones may be lost, which at worst sends a delivery again). The next
    /// fsynced commit makes them durable too. It shares this handle's directory.
    pub async fn for_dispatch(&self, url: &str) -> Result<Db, StorageError> {
        Ok(Db { pool: backend::open_for_dispatch(url).await?, ..self.clone() })
    }

    /// On a SQLite file, the writer thread every handle shares (`sqlite_writer.rs`).
    fn writer(&self) -> Option<&sqlite_writer::SqliteWriter> {
        self.writer.as_ref()
    }

    /// The statement for this backend, where the dialects differ.
    fn sql(&self, sqlite: &'static str, postgres: &'static str) -> &'static str {
        match self.backend() {
            Backend::Sqlite => sqlite,
            Backend::Postgres => postgres,
        }
    }

    /// A write transaction (SQLite: `BEGIN IMMEDIATE`, the write lock taken
    /// up front so no read→write upgrade can deadlock).
    async fn begin_write(&self) -> Result<Tx, StorageError> {
        self.pool.begin_write().await
    }

    /// Commits a hook write. When it changed the hook, other processes are
    /// told inside the transaction (`Tx::notify_hook_changed`, heard at the
    /// commit), and this process's directory forgets the hook after the
    /// commit and before the write answers.
    async fn commit_hook_write(&self, mut tx: Tx, hook_id: &str, changed: bool) -> Result<(), StorageError> {
        if changed {
            tx.notify_hook_changed(self.hooks.process(), hook_id).await?;
        }
        tx.commit().await?;
        if changed {
            self.hook_changed(hook_id);
        }
        Ok(())
    }

    /// After a write that changed hooks committed (with their notifications
    /// in its transaction): this process's directory forgets the hook.
    fn hook_changed(&self, hook_id: &str) {
        self.hooks.changed(hook_id);
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("invalid database URL: {0}")]
    InvalidUrl(#[source] sqlx::Error),
    #[error("the database does not take writes (is the file, its directory or its mount read-only?): {0}")]
    NotWritable(#[source] sqlx::Error),
    /// A URL of another scheme (a typo like `postgress://`), named by its
    /// scheme only: the URL may hold a password.
    #[error(
        "the database URL's scheme `{0}://` is not one Hookrelay runs on: use sqlite://PATH or postgres://USER@HOST/DATABASE"
    )]
    UnknownScheme(String),
    /// `sqlite::memory:` and the like: the outbox must outlive the process,
    /// and no other command (`user create`) could reach such a database.
    #[error(
        "an in-memory SQLite database keeps nothing across a restart, and no other command (such as `hookrelay user create`) can reach it: use a file, e.g. sqlite://hookrelay.db"
    )]
    InMemory,
    #[error("database error: {0}")]
    Database(#[source] sqlx::Error),
    /// From the SQLite writer's own connection (`sqlite_writer.rs`).
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The SQLite writer's thread is gone (it stops rather than go on with
    /// a connection it could not put back in order).
    #[error("the database writer stopped")]
    WriterStopped,
    /// A write on the SQLite writer's thread panicked (a bug): rolled back.
    #[error("a database write failed unexpectedly and was rolled back")]
    WriterPanicked,
    #[error("could not start the database writer thread: {0}")]
    WriterStart(#[source] std::io::Error),
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("{0} already exists")]
    Duplicate(&'static str),
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("corrupt row: bad {0}")]
    Corrupt(&'static str),
    /// Text the database cannot store (a NUL character on PostgreSQL): the
    /// caller's input, answered with a 400.
    #[error("text must not contain NUL characters")]
    UnstorableText,
    #[error(transparent)]
    Security(#[from] crate::security::SecurityError),
    /// The write kept a stored value that another write removed meanwhile
    /// (a masked secret header): the caller reloads and tries again. 409.
    #[error("{0} changed meanwhile; reload and try again")]
    Changed(&'static str),
    /// The account holds as many as it may (`quota.rs`): the caller's to fix.
    #[error("this account already has {limit} {}, the most it may have; delete one first", what.noun())]
    LimitReached { what: quota::Counted, limit: u32 },
}

impl From<sqlx::Error> for StorageError {
    fn from(err: sqlx::Error) -> Self {
        // 22021 character_not_in_repertoire, 22P05 untranslatable_character:
        // PostgreSQL's text cannot hold NUL, SQLite's can.
        match &err {
            sqlx::Error::Database(db) if matches!(db.code().as_deref(), Some("22021" | "22P05")) => {
                StorageError::UnstorableText
            }
            _ => StorageError::Database(err),
        }
    }
}

impl StorageError {
    /// A foreign key failed: the row referred to went away meanwhile.
    pub fn is_foreign_key_violation(&self) -> bool {
        matches!(self, StorageError::Database(sqlx::Error::Database(db)) if db.is_foreign_key_violation())
    }

    /// PostgreSQL chose this transaction as a deadlock's victim (40P01): it
    /// was rolled back whole and may simply be run again. (A hook delete
    /// cascading over its deliveries locks them in another order than a
    /// lease renewal or a record does.)
    pub fn is_deadlock(&self) -> bool {
        matches!(self, StorageError::Database(sqlx::Error::Database(db)) if db.code().as_deref() == Some("40P01"))
    }
}

/// Runs a write transaction again (up to three more times) when PostgreSQL
/// chose it as a deadlock's victim: it was rolled back whole.
pub(crate) async fn again_if_deadlocked<T, F, Fut>(mut run: F) -> Result<T, StorageError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, StorageError>>,
{
    let mut tries = 0;
    loop {
        match run().await {
            Err(e) if tries < 3 && e.is_deadlock() => tries += 1,
            done => return done,
        }
    }
}

/// Opens the database at `url` and applies the embedded migrations of its
/// backend: `sqlite://…` (created if missing, WAL mode, every commit
/// fsynced: what a 2xx acknowledged survives power loss) or
/// `postgres://…` (PostgreSQL 15+, an existing database).
pub async fn connect(url: &str) -> Result<Db, StorageError> {
    let pool = backend::open(url).await?;
    let writer = match &pool {
        Pool::Sqlite(p) => {
            // Before anything else: each connection to an in-memory
            // database may be a database of its own.
            let file = main_file(p).await?.ok_or(StorageError::InMemory)?;
            migrations::migrator(Backend::Sqlite).run(p).await?;
            // Refused at start, rather than answering every write with a 500.
            takes_writes(p).await?;
            Some(sqlite_writer::SqliteWriter::open(&file, backend::sqlite_vfs(url).as_deref())?)
        }
        Pool::Postgres(p) => {
            migrations::migrator(Backend::Postgres).run(p).await?;
            None
        }
    };
    let process = crate::security::random::bytes::<8>().map(hex::encode)?;
    let shared = pool.backend() == Backend::Postgres;
    let hooks = directory::HookDirectory::new(process, shared);
    // Other processes revoke keys on a shared database: no cache there.
    let keys = if shared { key_cache::KeyCache::disabled() } else { key_cache::KeyCache::enabled() };
    Ok(Db { pool, hooks, limits: quota::AccountLimits::NONE, keys, writer })
}

/// The file of the pool's database, as SQLite opened it (an absolute
/// path); `None` for an in-memory one (`sqlite::memory:`, `?mode=memory`),
/// which is refused.
async fn main_file(pool: &sqlx::SqlitePool) -> Result<Option<std::path::PathBuf>, StorageError> {
    let file: String =
        sqlx::query_scalar("SELECT file FROM pragma_database_list WHERE name = 'main'").fetch_one(pool).await?;
    Ok((!file.is_empty()).then(|| std::path::PathBuf::from(file)))
}

/// The WAL after a checkpoint (SQLite; `None` on PostgreSQL).
pub type WalFrames = Option<Wal>;

/// What a checkpoint found and did, in frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Wal {
    /// The WAL's length.
    pub frames: i64,
    /// How many of them are now in the database file: all of them, and the
    /// next write starts the WAL over.
    pub copied: i64,
}

impl Wal {
    /// Frames the checkpoint could not copy (written meanwhile, or held by
    /// a reader): while there are any, the WAL cannot start over.
    pub fn left(self) -> i64 {
        self.frames - self.copied
    }
}

/// Copies committed WAL pages into the database file without blocking
/// writers (PASSIVE), so readers find them there. Called every second by
/// the server instead of SQLite's in-commit auto-checkpoint; returns the
/// WAL's length in frames. The WAL starts over at the next write only if
/// a checkpoint copied all of it and no write landed meanwhile; under
/// steady traffic one always does, so the server runs a second one with
/// its writers paused when the WAL is long and frames were left
/// (`server/src/checkpoint.rs`).
/// A WAL that starts over is cut back to `backend::WAL_LIMIT_BYTES`.
pub async fn checkpoint(db: &Db) -> Result<WalFrames, StorageError> {
    let Pool::Sqlite(pool) = &db.pool else { return Ok(None) };
    let (_busy, frames, copied): (i64, i64, i64) =
        sqlx::query_as("PRAGMA wal_checkpoint(PASSIVE)").fetch_one(pool).await?;
    Ok(Some(Wal { frames, copied }))
}

/// One round trip to the database: used by `/healthz`.
pub async fn ping(db: &Db) -> Result<(), StorageError> {
    match &db.pool {
        Pool::Sqlite(p) => {
            takes_writes(p).await?;
            // The writer thread answers too (it runs every publish).
            match &db.writer {
                Some(writer) => writer.ping().await,
                None => Ok(()),
            }
        }
        Pool::Postgres(p) => Ok(sqlx::query("SELECT 1").execute(p).await.map(|_| ())?),
    }
}

/// SQLite opens a file it may not write (permissions, `?mode=ro`, a
/// read-only mount) read-only without a word, and `SELECT 1` reads no
/// page, nor does `BEGIN IMMEDIATE` fail there: a write statement that
/// matches nothing does, and on a writable database it changes no page;
/// it is rolled back, so nothing is fsynced.
async fn takes_writes(pool: &sqlx::SqlitePool) -> Result<(), StorageError> {
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await.map_err(StorageError::NotWritable)?;
    sqlx::query("DELETE FROM sessions WHERE 0").execute(&mut *tx).await.map_err(StorageError::NotWritable)?;
    tx.rollback().await?;
    Ok(())
}

/// A list as one JSON array, for a statement that reads it with
/// `json_each($n)` (SQLite) or `json_array_elements($n::json)`
/// (PostgreSQL): ids (`value`) or rows (tuples become arrays:
/// `value ->> n`), so a whole batch is one statement.
fn json_rows<T: serde::Serialize>(rows: &[T]) -> Result<String, StorageError> {
    serde_json::to_string(rows).map_err(|_| StorageError::Corrupt("row for a JSON batch"))
}

/// True when `err` is a UNIQUE constraint violation.
fn is_unique_violation(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(db) if db.is_unique_violation())
}
