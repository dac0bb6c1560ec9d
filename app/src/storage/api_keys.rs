//! API keys: stored as SHA-256 hashes, looked up by hash on every request.

use super::accounts::{Account, AccountRow};
use super::backend::{on_pool, on_tx};
use super::row::row;
use super::{Db, StorageError, now_ms};
use crate::domain::ResourceId;
use crate::security::{api_keys, random};

/// Creates a key for `account_id` and returns its plaintext: the only time it exists.
pub async fn create(db: &Db, account_id: &ResourceId, name: &str) -> Result<String, StorageError> {
    let key = api_keys::generate()?;
    let id = random::new_id()?;
    let mut tx = db.begin_write().await?;
    super::quota::ensure_room(&mut tx, account_id, super::quota::Counted::ApiKeys, db.limits().max_keys).await?;
    on_tx!(&mut tx, t => sqlx::query(
        "INSERT INTO api_keys (id, account_id, key_hash, display_prefix, name, created_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(id.as_str())
    .bind(account_id.as_str())
    .bind(&key.hash)
    .bind(&key.display_prefix)
    .bind(name)
    .bind(now_ms())
    .execute(&mut **t)
    .await
    .map(|_| ()))?;
    tx.commit().await?;
    Ok(key.plaintext)
}

/// A key that authenticated a request, and its account.
#[derive(Clone, Debug)]
pub struct KeyOwner {
    pub key_id: String,
    pub account: Account,
}

row! {
    struct KeyOwnerRow {
        key_id: String,
    }
    flatten { account: AccountRow }
}

/// The account owning the (unrevoked) key whose plaintext is `presented`:
/// from the cache of recently accepted keys (`key_cache.rs`), else the database.
pub async fn authenticate(db: &Db, presented: &str) -> Result<Option<KeyOwner>, StorageError> {
    let hash = api_keys::hash_key(presented);
    let seen = match db.keys.get(&hash) {
        Ok(owner) => return Ok(Some(owner)),
        Err(seen) => seen,
    };
    let row: Option<KeyOwnerRow> = on_pool!(&db.pool, p => sqlx::query_as(
        "SELECT k.id AS key_id, a.id, a.email, a.is_admin, a.vertical
         FROM api_keys k JOIN accounts a ON a.id = k.account_id
         WHERE k.key_hash = $1 AND k.revoked_at IS NULL",
    )
    .bind(&hash)
    .fetch_optional(p)
    .await)?;
    let Some(row) = row else { return Ok(None) };
    let owner = KeyOwner { key_id: row.key_id, account: row.account.into_account()? };
    db.keys.remember(seen, hash, owner.clone());
    Ok(Some(owner))
}

row! {
    /// An API key as the dashboard lists it (never the key itself).
    #[derive(Clone, Debug)]
    pub struct KeyInfo {
        pub id: String,
        pub display_prefix: String,
        pub name: String,
        pub created_at: i64,
        pub revoked_at: Option<i64>,
    }
}

/// The account's keys, newest first.
pub async fn list(db: &Db, account_id: &ResourceId) -> Result<Vec<KeyInfo>, StorageError> {
    Ok(on_pool!(&db.pool, p => sqlx::query_as(
        "SELECT id, display_prefix, name, created_at, revoked_at FROM api_keys
         WHERE account_id = $1 ORDER BY created_at DESC, id DESC",
    )
    .bind(account_id.as_str())
    .fetch_all(p)
    .await)?)
}

/// Revokes one of the account's keys; false when it has no such unrevoked key.
/// The update and the cache's emptying run as one task of their own: a
/// caller that goes away midway (a closed connection) cannot leave the
/// update committed and the key still remembered.
pub async fn revoke(db: &Db, account_id: &ResourceId, key_id: &str) -> Result<bool, StorageError> {
    let (db, account_id, key_id) = (db.clone(), account_id.clone(), key_id.to_owned());
    let task = tokio::spawn(async move {
        let changed = on_pool!(&db.pool, p => sqlx::query(
            "UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND account_id = $3 AND revoked_at IS NULL",
        )
        .bind(now_ms())
        .bind(&key_id)
        .bind(account_id.as_str())
        .execute(p)
        .await
        .map(|r| r.rows_affected()));
        // After the commit (autocommit), whether or not it changed a row
        // or even failed after reaching the database: before anyone hears
        // of it, no remembered key is trusted again.
        db.keys.revoked();
        changed
    });
    let changed = task.await.map_err(|_| StorageError::Corrupt("the revocation task failed"))??;
    Ok(changed > 0)
}
