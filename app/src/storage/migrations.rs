//! The schema migrations of each backend, embedded in the binary.
//!
//! Listed here by hand instead of with `sqlx::migrate!`: that proc macro
//! makes cargo compile sqlx's SQLite and PostgreSQL drivers (and SQLite's
//! C) a second time, for the compiler, on every fresh build. The versions,
//! descriptions and checksums are the ones `migrate!` gave (sqlx's own
//! `Migration::new`), so databases migrated before keep validating; a test
//! checks that the list is the `migrations/` directory.

use super::backend::Backend;
use sqlx::SqlSafeStr;
use sqlx::migrate::{Migration, MigrationType, Migrator};
use std::borrow::Cow;

/// (file name, contents): `<version>_<description>.sql`.
type Source = (&'static str, &'static str);

/// One list of file names (both backends have the same versions, see
/// `schema_twins.rs`), embedded from each backend's directory.
macro_rules! migrations {
    ($($name:literal),* $(,)?) => {
        const SQLITE: &[Source] = &[$(($name, include_str!(concat!("../../../migrations/sqlite/", $name)))),*];
        const POSTGRES: &[Source] = &[$(($name, include_str!(concat!("../../../migrations/postgres/", $name)))),*];
    };
}

migrations!(
    "20261122000001_accounts_and_api_keys.sql",
    "20261122000002_hooks.sql",
    "20261122000003_delivery.sql",
    "20261123000004_sessions.sql",
    "20261123000005_operations.sql",
    "20261201000006_hook_revision.sql",
    "20261206000007_hook_delivery_options.sql",
    "20261206000008_operations_notices.sql",
    "20261207000009_ordered_delivery.sql",
);

/// The migrator for `backend`'s embedded migrations.
pub fn migrator(backend: Backend) -> Migrator {
    let sources = match backend {
        Backend::Sqlite => SQLITE,
        Backend::Postgres => POSTGRES,
    };
    Migrator::with_migrations(sources.iter().map(|&(name, sql)| migration(name, sql)).collect())
}

/// What sqlx's directory reader makes of one file (`sqlx_core::migrate::source`).
fn migration(name: &'static str, sql: &'static str) -> Migration {
    let (version, rest) = name.split_once('_').unwrap_or((name, ""));
    // The names are constants above, checked by the test below.
    let version = version.parse().unwrap_or_default();
    let description = rest.trim_end_matches(".sql").replace('_', " ");
    let no_tx = sql.starts_with("-- no-transaction");
    Migration::new(version, Cow::Owned(description), MigrationType::Simple, sql.into_sql_str(), no_tx)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files_in(dir: &str) -> Vec<String> {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../migrations").join(dir);
        let mut names: Vec<String> = std::fs::read_dir(&path)
            .expect("migrations directory")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn every_migration_file_is_listed_in_order() {
        for (dir, sources) in [("sqlite", SQLITE), ("postgres", POSTGRES)] {
            let listed: Vec<String> = sources.iter().map(|(name, _)| (*name).to_owned()).collect();
            assert_eq!(listed, files_in(dir), "migrations/{dir} and the list in migrations.rs differ");
        }
    }

    #[test]
    fn each_migration_reads_as_sqlx_would_read_it() {
        let migrator = migrator(Backend::Sqlite);
        let first = migrator.iter().next().expect("a migration");
        assert_eq!(first.version, 20_261_122_000_001);
        assert_eq!(first.description, "accounts and api keys");
        assert!(migrator.iter().all(|m| m.version > 0 && matches!(m.migration_type, MigrationType::Simple)));
        // The checksum `sqlx::migrate!` stored in databases migrated before
        // (SHA-384 of the file): a migration file must never change.
        assert_eq!(
            hex::encode(&*first.checksum),
            "6634033518d3c26b2bb5f8562b931188ca675918d3bd4a57d1769fb210c6c75cca265903e5b46d583528a36d84f6fcb1"
        );
        let last = super::migrator(Backend::Postgres).iter().last().map(|m| hex::encode(&*m.checksum));
        assert_eq!(
            last.as_deref(),
            Some("e3420f2e5f3ac467a1e3a7198f237811657b16d3098bc3b2bd25488343a780d02746066ed0c5c226a23287bb3f7e47ed")
        );
    }
}
