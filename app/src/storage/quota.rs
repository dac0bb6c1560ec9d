//! What one account may hold: at most so many hooks and so many unrevoked
//! API keys (`--max-hooks-per-account`, `--max-keys-per-account`), so one
//! tenant cannot fill the database or the dispatcher's directory.
//!
//! The count and the insert share a write transaction that is serialised
//! per account — SQLite's `BEGIN IMMEDIATE` holds the one write lock,
//! PostgreSQL locks the account's row — so concurrent creations cannot
//! overshoot the limit.

use super::StorageError;
use super::backend::{Tx, on_tx};
use crate::domain::ResourceId;

/// Limits per account; the CLI (the operator) is not limited.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AccountLimits {
    pub max_hooks: u32,
    pub max_keys: u32,
}

impl AccountLimits {
    pub const NONE: Self = Self { max_hooks: u32::MAX, max_keys: u32::MAX };
}

/// What is counted against a limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Counted {
    Hooks,
    ApiKeys,
}

impl Counted {
    /// How the error message names it.
    pub fn noun(self) -> &'static str {
        match self {
            Counted::Hooks => "hooks",
            Counted::ApiKeys => "active API keys",
        }
    }
}

/// In `tx`: waits for the account's other creations, then refuses with
/// `LimitReached` when the account already holds `limit` of `what`.
pub(super) async fn ensure_room(
    tx: &mut Tx,
    account_id: &ResourceId,
    what: Counted,
    limit: u32,
) -> Result<(), StorageError> {
    if limit == u32::MAX {
        return Ok(());
    }
    if let Tx::Postgres(t) = tx {
        sqlx::query("SELECT 1 FROM accounts WHERE id = $1 FOR UPDATE")
            .bind(account_id.as_str())
            .execute(&mut **t)
            .await?;
    }
    let sql = match what {
        Counted::Hooks => "SELECT COUNT(*) FROM hooks WHERE account_id = $1",
        Counted::ApiKeys => "SELECT COUNT(*) FROM api_keys WHERE account_id = $1 AND revoked_at IS NULL",
    };
    let held: i64 = on_tx!(tx, t => sqlx::query_scalar(sql).bind(account_id.as_str()).fetch_one(&mut **t).await)?;
    if held >= i64::from(limit) {
        return Err(StorageError::LimitReached { what, limit });
    }
    Ok(())
}
