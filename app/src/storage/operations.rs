//! Operational notifications: an account's operations endpoint (with its
//! own signing secret, sealed), and the notices it is owed — written in the
//! same transaction as a hook being disabled or a delivery dead-lettered,
//! claimed with a lease by the sender (`server/src/operations.rs`), deleted
//! once delivered or given up on.

use super::backend::{Tx, on_pool, on_tx};
use super::deliveries::{LeaseOwner, Outcome, Recorded};
use super::row::row;
use super::{Db, StorageError, json_rows, now_ms};
use crate::domain::ResourceId;
use crate::security::{SecretBox, random, signing};

/// What a notice tells of.
pub const HOOK_DISABLED: &str = "hook.disabled";
pub const DEAD_LETTERED: &str = "delivery.dead_lettered";

/// The context the operations secret is sealed under.
pub fn context(account: &str) -> String {
    format!("account:{account}:operations")
}

/// The account's operations endpoint, if it set one.
pub async fn endpoint(db: &Db, account: &ResourceId) -> Result<Option<String>, StorageError> {
    let row: Option<(String,)> = on_pool!(&db.pool, p => sqlx::query_as(
        "SELECT endpoint FROM operations_endpoints WHERE account_id = $1",
    )
    .bind(account.as_str())
    .fetch_optional(p)
    .await)?;
    Ok(row.map(|(e,)| e))
}

/// Sets the account's operations endpoint; its signing secret is made the
/// first time and kept on every change of the URL.
pub async fn set_endpoint(
    db: &Db,
    secrets: &SecretBox,
    account: &ResourceId,
    endpoint: &str,
) -> Result<(), StorageError> {
    let sealed = secrets.seal(&signing::new_secret()?, &context(account.as_str()))?;
    on_pool!(&db.pool, p => sqlx::query(
        "INSERT INTO operations_endpoints (account_id, endpoint, signing_secret_enc, updated_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (account_id) DO UPDATE SET endpoint = excluded.endpoint, updated_at = excluded.updated_at",
    )
    .bind(account.as_str())
    .bind(endpoint)
    .bind(&sealed)
    .bind(now_ms())
    .execute(p)
    .await
    .map(|_| ()))?;
    Ok(())
}

/// Removes the account's operations endpoint and the notices it was owed.
pub async fn clear(db: &Db, account: &ResourceId) -> Result<(), StorageError> {
    let mut tx = db.begin_write().await?;
    for sql in [
        "DELETE FROM operations_notices WHERE account_id = $1",
        "DELETE FROM operations_endpoints WHERE account_id = $1",
    ] {
        on_tx!(&mut tx, t => sqlx::query(sql).bind(account.as_str()).execute(&mut **t).await.map(|_| ()))?;
    }
    tx.commit().await
}

/// The account's operations signing secret (`whsec_…`), if it has an endpoint.
pub async fn signing_secret(
    db: &Db,
    secrets: &SecretBox,
    account: &ResourceId,
) -> Result<Option<String>, StorageError> {
    let row: Option<(Vec<u8>,)> = on_pool!(&db.pool, p => sqlx::query_as(
        "SELECT signing_secret_enc FROM operations_endpoints WHERE account_id = $1",
    )
    .bind(account.as_str())
    .fetch_optional(p)
    .await)?;
    row.map(|(sealed,)| secrets.open(&sealed, &context(account.as_str())).map_err(StorageError::from)).transpose()
}

/// A notice that `hook` was disabled, for its account's endpoint (if any),
/// in the transaction that disables it.
pub(super) async fn hook_disabled(tx: &mut Tx, hook: &str, reason: &str, now: i64) -> Result<(), StorageError> {
    let id = random::new_id()?;
    let sql = tx.sql(
        "INSERT INTO operations_notices (id, account_id, kind, payload, attempts, next_attempt_at, created_at)
         SELECT $1, h.account_id, $2, json_object('hookId', h.id, 'endpoint', h.endpoint, 'reason', $3), 0, $4, $4
         FROM hooks h JOIN operations_endpoints o ON o.account_id = h.account_id WHERE h.id = $5",
        "INSERT INTO operations_notices (id, account_id, kind, payload, attempts, next_attempt_at, created_at)
         SELECT $1, h.account_id, $2,
                json_build_object('hookId', h.id, 'endpoint', h.endpoint, 'reason', CAST($3 AS TEXT))::text, 0, $4, $4
         FROM hooks h JOIN operations_endpoints o ON o.account_id = h.account_id WHERE h.id = $5",
    );
    on_tx!(&mut *tx, t => sqlx::query(sql)
        .bind(id.as_str())
        .bind(HOOK_DISABLED)
        .bind(reason)
        .bind(now)
        .bind(hook)
        .execute(&mut **t)
        .await
        .map(|_| ()))?;
    Ok(())
}

/// A notice per dead-lettered delivery among `written` (their last attempt
/// failed for good), for their accounts' endpoints, in the record's transaction.
pub(super) async fn dead_lettered(tx: &mut Tx, written: &[&Recorded], now: i64) -> Result<(), StorageError> {
    let mut rows = Vec::new();
    for item in written.iter().filter(|i| matches!(i.outcome, Outcome::Failed { .. })) {
        let id = random::new_id()?;
        // PostgreSQL text cannot hold NUL (as for the attempt itself).
        let error = item.attempt.error.as_ref().map(|e| e.replace('\0', "\u{fffd}"));
        rows.push((id.to_string(), item.delivery_id.to_string(), item.attempt.status_code, error));
    }
    if rows.is_empty() {
        return Ok(());
    }
    let rows = json_rows(&rows)?;
    let sql = tx.sql(
        "INSERT INTO operations_notices (id, account_id, kind, payload, attempts, next_attempt_at, created_at)
         SELECT s.nid, d.account_id, $2,
                json_object('deliveryId', d.id, 'hookId', d.hook_id, 'eventId', d.event_id, 'attempts', d.attempt_count,
                            'lastStatusCode', s.code, 'lastError', s.error),
                0, $3, $3
         FROM (SELECT value ->> 0 AS nid, value ->> 1 AS did, value ->> 2 AS code, value ->> 3 AS error
               FROM json_each($1)) AS s
         JOIN deliveries d ON d.id = s.did
         JOIN operations_endpoints o ON o.account_id = d.account_id",
        "INSERT INTO operations_notices (id, account_id, kind, payload, attempts, next_attempt_at, created_at)
         SELECT s.nid, d.account_id, $2,
                json_build_object('deliveryId', d.id, 'hookId', d.hook_id, 'eventId', d.event_id,
                                  'attempts', d.attempt_count, 'lastStatusCode', CAST(s.code AS BIGINT),
                                  'lastError', s.error)::text,
                0, $3, $3
         FROM (SELECT value ->> 0 AS nid, value ->> 1 AS did, value ->> 2 AS code, value ->> 3 AS error
               FROM json_array_elements($1::json)) AS s
         JOIN deliveries d ON d.id = s.did
         JOIN operations_endpoints o ON o.account_id = d.account_id",
    );
    on_tx!(&mut *tx, t => sqlx::query(sql).bind(&rows).bind(DEAD_LETTERED).bind(now).execute(&mut **t).await.map(|_| ()))?;
    Ok(())
}

row! {
    /// A notice to send now, with where and how to sign it.
    #[derive(Clone)]
    pub struct DueNotice {
        pub id: String,
        pub account_id: String,
        pub kind: String,
        pub payload: String,
        pub attempts: i64,
        pub created_at: i64,
        pub endpoint: String,
        signing_secret_enc: Vec<u8>,
    }
}

impl DueNotice {
    /// The account's operations signing secret.
    pub fn secret(&self, secrets: &SecretBox) -> Result<String, StorageError> {
        Ok(secrets.open(&self.signing_secret_enc, &context(&self.account_id))?)
    }
}

impl std::fmt::Debug for DueNotice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DueNotice").field("id", &self.id).field("kind", &self.kind).finish_non_exhaustive()
    }
}

/// Leases up to `limit` due notices to `owner` for `lease_ms`.
pub async fn claim_due(db: &Db, owner: &LeaseOwner, lease_ms: i64, limit: i64) -> Result<Vec<DueNotice>, StorageError> {
    let now = now_ms();
    // Most of the time nothing is due: a read, not a write, says so.
    let any: Option<(i64,)> = on_pool!(&db.pool, p => sqlx::query_as(
        "SELECT CAST(1 AS BIGINT) FROM operations_notices
         WHERE next_attempt_at <= $1 AND (lease_until IS NULL OR lease_until < $1) LIMIT 1",
    )
    .bind(now)
    .fetch_optional(p)
    .await)?;
    if any.is_none() {
        return Ok(Vec::new());
    }
    let claim = db.sql(
        "UPDATE operations_notices SET lease_until = $1 + $2, lease_owner = $3
         WHERE id IN (SELECT id FROM operations_notices WHERE next_attempt_at <= $1
                        AND (lease_until IS NULL OR lease_until < $1) ORDER BY next_attempt_at LIMIT $4)",
        "UPDATE operations_notices SET lease_until = $1 + $2, lease_owner = $3
         WHERE id IN (SELECT id FROM operations_notices WHERE next_attempt_at <= $1
                        AND (lease_until IS NULL OR lease_until < $1) ORDER BY next_attempt_at LIMIT $4
                      FOR UPDATE SKIP LOCKED)",
    );
    let claimed = on_pool!(&db.pool, p => sqlx::query(claim)
        .bind(now)
        .bind(lease_ms)
        .bind(owner.as_str())
        .bind(limit)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
    if claimed == 0 {
        return Ok(Vec::new());
    }
    // A notice written while its endpoint was being removed has nowhere to go.
    on_pool!(&db.pool, p => sqlx::query(
        "DELETE FROM operations_notices WHERE lease_owner = $1 AND lease_until = $2
           AND account_id NOT IN (SELECT account_id FROM operations_endpoints)",
    )
    .bind(owner.as_str())
    .bind(now + lease_ms)
    .execute(p)
    .await
    .map(|_| ()))?;
    Ok(on_pool!(&db.pool, p => sqlx::query_as(
        "SELECT n.id, n.account_id, n.kind, n.payload, n.attempts, n.created_at, o.endpoint, o.signing_secret_enc
         FROM operations_notices n JOIN operations_endpoints o ON o.account_id = n.account_id
         WHERE n.lease_owner = $1 AND n.lease_until = $2",
    )
    .bind(owner.as_str())
    .bind(now + lease_ms)
    .fetch_all(p)
    .await)?)
}

/// The notice reached its endpoint (or is given up on): it is gone.
pub async fn finish(db: &Db, owner: &LeaseOwner, id: &str) -> Result<(), StorageError> {
    on_pool!(&db.pool, p => sqlx::query("DELETE FROM operations_notices WHERE id = $1 AND lease_owner = $2")
        .bind(id)
        .bind(owner.as_str())
        .execute(p)
        .await
        .map(|_| ()))?;
    Ok(())
}

/// The notice's attempt failed: it is due again at `next_at`.
pub async fn retry_at(db: &Db, owner: &LeaseOwner, id: &str, next_at: i64) -> Result<(), StorageError> {
    on_pool!(&db.pool, p => sqlx::query(
        "UPDATE operations_notices SET attempts = attempts + 1, next_attempt_at = $1, lease_until = NULL, lease_owner = NULL
         WHERE id = $2 AND lease_owner = $3",
    )
    .bind(next_at)
    .bind(id)
    .bind(owner.as_str())
    .execute(p)
    .await
    .map(|_| ()))?;
    Ok(())
}
