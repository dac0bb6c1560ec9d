//! Proof that the at-rest key is the one the database's secrets were sealed
//! with: a known value sealed with the key when the database first met it.
//! A server started with another key (a lost key file replaced by a new
//! one, a mistyped `HOOKRELAY_SECRET_KEY`) fails this check and refuses to
//! start instead of failing every delivery of every hook with secrets.

use super::backend::{Tx, on_pool, on_tx};
use super::{Db, StorageError};
use crate::security::SecretBox;

const CONTEXT: &str = "hookrelay:key-check";
const PLAINTEXT: &str = "hookrelay key check v1";

/// True when the database holds a sealed secret (or a key check): starting
/// it with a freshly made key would lose them.
pub async fn holds_sealed_secrets(db: &Db) -> Result<bool, StorageError> {
    let (holds,): (bool,) = on_pool!(&db.pool, p => sqlx::query_as(
        "SELECT EXISTS (SELECT 1 FROM key_check)
             OR EXISTS (SELECT 1 FROM hooks
                        WHERE signing_secret_enc IS NOT NULL OR password_enc IS NOT NULL OR token_enc IS NOT NULL
                           OR secret_headers_enc IS NOT NULL)
             OR EXISTS (SELECT 1 FROM operations_endpoints)",
    )
    .fetch_one(p)
    .await)?;
    Ok(holds)
}

/// True when `secrets` holds the database's key. The first time (no check
/// stored yet) one stored secret is tried instead, then the check is written.
pub async fn verify(db: &Db, secrets: &SecretBox) -> Result<bool, StorageError> {
    let stored: Option<(Vec<u8>,)> =
        on_pool!(&db.pool, p => sqlx::query_as("SELECT sealed FROM key_check WHERE id = 1").fetch_optional(p).await)?;
    if let Some((sealed,)) = stored {
        return Ok(secrets.open(&sealed, CONTEXT).is_ok_and(|text| text == PLAINTEXT));
    }
    // Databases from before the check: any sealed signing secret tells.
    let sample: Option<(String, Vec<u8>)> = on_pool!(&db.pool, p => sqlx::query_as(
        "SELECT id, signing_secret_enc FROM hooks WHERE signing_secret_enc IS NOT NULL LIMIT 1",
    )
    .fetch_optional(p)
    .await)?;
    if let Some((id, sealed)) = sample
        && secrets.open(&sealed, &format!("hook:{id}:signing")).is_err()
    {
        return Ok(false);
    }
    let sealed = secrets.seal(PLAINTEXT, CONTEXT)?;
    on_pool!(&db.pool, p => sqlx::query("INSERT INTO key_check (id, sealed) VALUES (1, $1) ON CONFLICT DO NOTHING")
        .bind(&sealed)
        .execute(p)
        .await
        .map(|_| ()))?;
    // Another process starting on the same new database (PostgreSQL) may
    // have written its check first: the key must open the one that is there.
    let (stored,): (Vec<u8>,) =
        on_pool!(&db.pool, p => sqlx::query_as("SELECT sealed FROM key_check WHERE id = 1").fetch_one(p).await)?;
    Ok(secrets.open(&stored, CONTEXT).is_ok_and(|text| text == PLAINTEXT))
}

/// In a re-seal's transaction: the check sealed with the new key.
pub(super) async fn replace(tx: &mut Tx, secrets: &SecretBox) -> Result<(), StorageError> {
    let sealed = secrets.seal(PLAINTEXT, CONTEXT)?;
    on_tx!(tx, t => sqlx::query(
        "INSERT INTO key_check (id, sealed) VALUES (1, $1) ON CONFLICT (id) DO UPDATE SET sealed = excluded.sealed",
    )
    .bind(&sealed)
    .execute(&mut **t)
    .await
    .map(|_| ()))?;
    Ok(())
}
