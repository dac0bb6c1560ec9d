//! The tests' databases: which backend this run tests, a throw-away
//! PostgreSQL database per test, and a direct connection of the test's own.

use std::path::PathBuf;
use std::process::{Command, Stdio};

/// The database backend this run of the suite tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub fn backend() -> Backend {
    match std::env::var("HOOKRELAY_TEST_BACKEND").as_deref() {
        Ok("postgres") => Backend::Postgres,
        Ok("sqlite") | Err(_) => Backend::Sqlite,
        Ok(other) => panic!("HOOKRELAY_TEST_BACKEND={other}: use sqlite or postgres"),
    }
}

/// The admin URL of the tests' PostgreSQL server.
pub fn postgres_admin_url() -> String {
    std::env::var("HOOKRELAY_TEST_POSTGRES").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// A PostgreSQL database of the test's own, dropped (forcibly) when this is dropped.
pub struct PgDatabase {
    pub name: String,
    pub url: String,
}

impl PgDatabase {
    pub fn create() -> Self {
        let admin = postgres_admin_url();
        let name = format!("hookrelay_t_{}", uuid::Uuid::new_v4().simple());
        let url = match admin.rsplit_once('/') {
            Some((server, _)) => format!("{server}/{name}"),
            None => panic!("{admin}: no database name"),
        };
        psql(&admin, &format!("CREATE DATABASE {name}"));
        Self { name, url }
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let _ = Command::new("psql")
            .args([
                "-w",
                "-q",
                "-d",
                &postgres_admin_url(),
                "-c",
                &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

fn psql(url: &str, sql: &str) {
    let out = Command::new("psql")
        .args(["-w", "-q", "-v", "ON_ERROR_STOP=1", "-d", url, "-c", sql])
        .output()
        .expect("run psql (PostgreSQL's client; scripts/test installs PostgreSQL)");
    assert!(out.status.success(), "psql {sql}: {}", String::from_utf8_lossy(&out.stderr));
}

/// Where a test app's database lives, and the settings serving it needs.
pub struct TestDatabase {
    pub url: String,
    /// SQLite: the database file (its key file is beside it).
    pub path: PathBuf,
    /// The key file (SQLite: `<file>.key`, the default; PostgreSQL: named
    /// by `HOOKRELAY_SECRET_KEY_FILE`, since there is no file to put it beside).
    pub key_file: PathBuf,
    pub env: Vec<(String, String)>,
    _pg: Option<PgDatabase>,
}

impl TestDatabase {
    /// A new, empty database of this run's backend, files under `dir`.
    pub fn new(dir: &std::path::Path) -> Self {
        Self::of(backend(), dir)
    }

    /// A new, empty database of `backend`, files under `dir`.
    pub fn of(backend: Backend, dir: &std::path::Path) -> Self {
        let path = dir.join("hookrelay.db");
        match backend {
            Backend::Sqlite => Self {
                url: format!("sqlite://{}", path.display()),
                key_file: PathBuf::from(format!("{}.key", path.display())),
                path,
                env: Vec::new(),
                _pg: None,
            },
            Backend::Postgres => {
                let pg = PgDatabase::create();
                let key_file = dir.join("hookrelay.key");
                Self {
                    url: pg.url.clone(),
                    path,
                    env: vec![("HOOKRELAY_SECRET_KEY_FILE".into(), key_file.display().to_string())],
                    key_file,
                    _pg: Some(pg),
                }
            }
        }
    }
}

/// A statement argument for `DirectDb`.
#[derive(Debug, Clone)]
pub enum Arg<'a> {
    Int(i64),
    Text(&'a str),
}

/// A connection of the test's own to the server's database, on either
/// backend. Statements use `$1`, `$2`… (both backends read them).
pub enum DirectDb {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
}

macro_rules! bound {
    ($query:expr, $args:expr) => {{
        let mut q = $query;
        for arg in $args {
            q = match arg {
                Arg::Int(n) => q.bind(*n),
                Arg::Text(t) => q.bind(*t),
            };
        }
        q
    }};
}

impl DirectDb {
    /// Runs a statement; returns the rows it changed.
    pub async fn execute(&self, sql: &str, args: &[Arg<'_>]) -> u64 {
        let sql = sqlx::AssertSqlSafe(sql.to_owned());
        match self {
            DirectDb::Sqlite(p) => bound!(sqlx::query(sql), args).execute(p).await.expect("statement").rows_affected(),
            DirectDb::Postgres(p) => {
                bound!(sqlx::query(sql), args).execute(p).await.expect("statement").rows_affected()
            }
        }
    }

    /// The single integer a query answers (`count(*)` and the like).
    pub async fn number(&self, sql: &str, args: &[Arg<'_>]) -> i64 {
        let sql = sqlx::AssertSqlSafe(sql.to_owned());
        match self {
            DirectDb::Sqlite(p) => bound!(sqlx::query_as::<_, (i64,)>(sql), args).fetch_one(p).await.expect("query").0,
            DirectDb::Postgres(p) => {
                bound!(sqlx::query_as::<_, (i64,)>(sql), args).fetch_one(p).await.expect("query").0
            }
        }
    }
}
