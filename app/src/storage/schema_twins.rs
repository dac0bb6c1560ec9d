//! The PostgreSQL migrations (`migrations/postgres`) are the twin of the
//! SQLite ones (`migrations/sqlite`): applied to a throw-away database on
//! the local PostgreSQL server, they must give the same tables, columns,
//! nullability, foreign keys and indexes. This holds the two schemas
//! together until the storage layer runs on both (issue 12).
//!
//! PostgreSQL: `HOOKRELAY_TEST_POSTGRES` (an admin URL), by default
//! `postgres://postgres@127.0.0.1:5432/test`; `scripts/test` makes sure a
//! server is there.

use super::{Backend, Db, connect};
use sqlx::{Connection, Executor, PgConnection, PgPool};
use std::collections::BTreeSet;

type Rows = BTreeSet<(String, String, String)>;

fn admin_url() -> String {
    std::env::var("HOOKRELAY_TEST_POSTGRES").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// `(table, column, "<kind>, null"/"<kind>, not null")` for every column,
/// where kind is text, number (integers and flags) or bytes.
async fn sqlite_columns(db: &Db) -> Rows {
    let rows: Vec<(String, String, String, bool)> = sqlx::query_as(
        "SELECT m.name, p.name, p.type, p.\"notnull\" OR p.pk FROM sqlite_master m JOIN pragma_table_info(m.name) p
         WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name <> '_sqlx_migrations'",
    )
    .fetch_all(super::backend::sqlite(&db.pool))
    .await
    .expect("sqlite columns");
    rows.into_iter().map(|(t, c, kind, not_null)| (t, c, column(&kind, not_null))).collect()
}

async fn pg_columns(pg: &PgPool) -> Rows {
    let rows: Vec<(String, String, String, String)> = sqlx::query_as(
        "SELECT table_name::text, column_name::text, data_type::text, is_nullable::text FROM information_schema.columns
         WHERE table_schema = 'public' AND table_name <> '_sqlx_migrations'",
    )
    .fetch_all(pg)
    .await
    .expect("pg columns");
    // PostgreSQL's 4-byte `integer` does not decode as the i64 the storage
    // layer reads: every integer column there is BIGINT (or BOOLEAN).
    rows.into_iter()
        .map(|(t, c, kind, nullable)| {
            let kind = if kind == "integer" { "int4 (use BIGINT)".to_owned() } else { kind };
            (t, c, column(&kind, nullable == "NO"))
        })
        .collect()
}

fn column(declared: &str, not_null: bool) -> String {
    let declared = declared.to_ascii_lowercase();
    let kind = match declared.as_str() {
        "text" => "text",
        "integer" | "bigint" | "boolean" => "number",
        "blob" | "bytea" => "bytes",
        other => other,
    };
    format!("{kind}, {}", if not_null { "not null" } else { "null" })
}

/// `(table, column, "referenced table on delete rule")` for every foreign key.
async fn sqlite_foreign_keys(db: &Db) -> Rows {
    let rows: Vec<(String, String, String, String)> = sqlx::query_as(
        "SELECT m.name, f.\"from\", f.\"table\", f.on_delete FROM sqlite_master m JOIN pragma_foreign_key_list(m.name) f
         WHERE m.type = 'table'",
    )
    .fetch_all(super::backend::sqlite(&db.pool))
    .await
    .expect("sqlite foreign keys");
    rows.into_iter().map(|(t, c, to, rule)| (t, c, format!("{to} on delete {rule}"))).collect()
}

async fn pg_foreign_keys(pg: &PgPool) -> Rows {
    let rows: Vec<(String, String, String, String)> = sqlx::query_as(
        "SELECT kcu.table_name::text, kcu.column_name::text, ccu.table_name::text, rc.delete_rule::text
         FROM information_schema.referential_constraints rc
         JOIN information_schema.key_column_usage kcu ON kcu.constraint_name = rc.constraint_name
         JOIN information_schema.constraint_column_usage ccu ON ccu.constraint_name = rc.constraint_name
         WHERE kcu.table_schema = 'public'",
    )
    .fetch_all(pg)
    .await
    .expect("pg foreign keys");
    rows.into_iter().map(|(t, c, to, rule)| (t, c, format!("{to} on delete {rule}"))).collect()
}

/// `(table, index, columns)` for every index made by a migration.
async fn sqlite_indexes(db: &Db) -> Rows {
    let rows: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT m.tbl_name, m.name, group_concat(i.name, ',') FROM sqlite_master m JOIN pragma_index_info(m.name) i
         WHERE m.type = 'index' AND m.sql IS NOT NULL GROUP BY m.name ORDER BY m.name",
    )
    .fetch_all(super::backend::sqlite(&db.pool))
    .await
    .expect("sqlite indexes");
    rows.into_iter().collect()
}

async fn pg_indexes(pg: &PgPool) -> Rows {
    let rows: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT t.relname::text, i.relname::text, string_agg(a.attname::text, ',' ORDER BY k.n)
         FROM pg_index x
         JOIN pg_class i ON i.oid = x.indexrelid
         JOIN pg_class t ON t.oid = x.indrelid
         JOIN pg_namespace s ON s.oid = t.relnamespace
         CROSS JOIN LATERAL unnest(x.indkey) WITH ORDINALITY AS k(attnum, n)
         JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum
         WHERE s.nspname = 'public'
           AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)
         GROUP BY t.relname, i.relname",
    )
    .fetch_all(pg)
    .await
    .expect("pg indexes");
    rows.into_iter().collect()
}

/// A database of its own on the local server, dropped at the end.
pub(super) struct ThrowAway {
    name: String,
    pub(super) url: String,
    pool: PgPool,
}

impl ThrowAway {
    pub(super) async fn create() -> Self {
        let admin = admin_url();
        let mut conn = PgConnection::connect(&admin).await.unwrap_or_else(|e| {
            panic!("PostgreSQL at {admin} is needed (scripts/test starts it): {e}");
        });
        let name = format!("hookrelay_schema_{}", hex::encode(crate::security::random::bytes::<6>().expect("random")));
        conn.execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).await.expect("create database");
        let url = match admin.rsplit_once('/') {
            Some((server, _)) => format!("{server}/{name}"),
            None => panic!("{admin}: no database name"),
        };
        let pool = PgPool::connect(&url).await.expect("connect to the new database");
        Self { name, url, pool }
    }

    pub(super) async fn drop(self) {
        self.pool.close().await;
        let mut conn = PgConnection::connect(&admin_url()).await.expect("admin connection");
        conn.execute(sqlx::AssertSqlSafe(format!("DROP DATABASE {} WITH (FORCE)", self.name))).await.expect("drop");
    }
}

#[tokio::test]
async fn the_postgres_schema_is_the_twin_of_the_sqlite_one() {
    let dir = tempfile::tempdir().expect("dir");
    let sqlite = connect(&format!("sqlite://{}", dir.path().join("s.db").display())).await.expect("sqlite");
    let pg = ThrowAway::create().await;
    super::migrations::migrator(Backend::Postgres).run(&pg.pool).await.expect("PostgreSQL migrations apply");
    // Applying them again is a no-op, as at every start.
    super::migrations::migrator(Backend::Postgres).run(&pg.pool).await.expect("PostgreSQL migrations re-run");

    let columns = (sqlite_columns(&sqlite).await, pg_columns(&pg.pool).await);
    let foreign_keys = (sqlite_foreign_keys(&sqlite).await, pg_foreign_keys(&pg.pool).await);
    let indexes = (sqlite_indexes(&sqlite).await, pg_indexes(&pg.pool).await);
    pg.drop().await;

    // SQLite's rowid is the publish order PostgreSQL keeps in `seq`
    // (migration 9): the one place the twins differ, by design.
    let mut columns = columns;
    assert!(columns.1.remove(&("deliveries".into(), "seq".into(), "number, not null".into())), "{:?}", columns.1);
    let mut indexes = indexes;
    let by_hook = ("deliveries".to_owned(), "deliveries_pending_by_hook".to_owned(), "hook_id,seq".to_owned());
    assert!(indexes.1.remove(&by_hook), "{:?}", indexes.1);
    indexes.1.insert(("deliveries".into(), "deliveries_pending_by_hook".into(), "hook_id".into()));
    assert!(columns.0.len() > 40, "the SQLite schema was read: {:?}", columns.0);
    assert_eq!(columns.0, columns.1, "columns (left SQLite, right PostgreSQL)");
    assert!(!foreign_keys.0.is_empty());
    assert_eq!(foreign_keys.0, foreign_keys.1, "foreign keys (left SQLite, right PostgreSQL)");
    assert!(indexes.0.len() >= 13, "{:?}", indexes.0);
    assert_eq!(indexes.0, indexes.1, "indexes (left SQLite, right PostgreSQL)");
}
