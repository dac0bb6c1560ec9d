//! Re-sealing every secret at rest under a new key (`hookrelay
//! rotate-secret-key`): each hook's password, token, secret headers and
//! signing secrets, and each account's operations secret, are opened with the old key and sealed with the new one, bound to the
//! same row and field, and the key check is replaced — all in one write
//! transaction, so the database is either wholly under the old key or
//! wholly under the new one.

use super::backend::on_tx;
use super::hooks::context;
use super::row::row;
use super::{Db, StorageError};
use crate::domain::ResourceId;
use crate::security::SecretBox;

/// What a re-seal changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resealed {
    pub hooks: u64,
    pub secrets: u64,
}

row! {
    struct SealedRow {
        id: String,
        password_enc: Option<Vec<u8>>,
        token_enc: Option<Vec<u8>>,
        signing_secret_enc: Option<Vec<u8>>,
        previous_signing_secret_enc: Option<Vec<u8>>,
        secret_headers_enc: Option<Vec<u8>>,
    }
}

/// Moves every sealed secret from `old` to `new`. Fails (changing nothing)
/// if `old` cannot open one of them.
pub async fn reseal_all(db: &Db, old: &SecretBox, new: &SecretBox) -> Result<Resealed, StorageError> {
    let mut tx = db.begin_write().await?;
    let rows: Vec<SealedRow> = on_tx!(&mut tx, t => sqlx::query_as(
        "SELECT id, password_enc, token_enc, signing_secret_enc, previous_signing_secret_enc, secret_headers_enc
         FROM hooks
         WHERE password_enc IS NOT NULL OR token_enc IS NOT NULL OR secret_headers_enc IS NOT NULL
            OR signing_secret_enc IS NOT NULL OR previous_signing_secret_enc IS NOT NULL",
    )
    .fetch_all(&mut **t)
    .await)?;
    let mut done = Resealed { hooks: 0, secrets: 0 };
    for row in rows {
        let id = ResourceId::parse(&row.id).map_err(|_| StorageError::Corrupt("hook id"))?;
        let mut move_one = |sealed: Option<Vec<u8>>, field: &str| -> Result<Option<Vec<u8>>, StorageError> {
            let Some(sealed) = sealed else { return Ok(None) };
            let ctx = context(&id, field);
            let plain = old.open(&sealed, &ctx)?;
            done.secrets += 1;
            Ok(Some(new.seal(&plain, &ctx)?))
        };
        let password = move_one(row.password_enc, "password")?;
        let token = move_one(row.token_enc, "token")?;
        let signing = move_one(row.signing_secret_enc, "signing")?;
        let previous = move_one(row.previous_signing_secret_enc, "signing")?;
        let headers = move_one(row.secret_headers_enc, super::hook_options::SECRET_HEADERS_FIELD)?;
        on_tx!(&mut tx, t => sqlx::query(
            "UPDATE hooks SET password_enc = $1, token_enc = $2, signing_secret_enc = $3,
                              previous_signing_secret_enc = $4, secret_headers_enc = $6, revision = revision + 1
             WHERE id = $5",
        )
        .bind(&password)
        .bind(&token)
        .bind(&signing)
        .bind(&previous)
        .bind(id.as_str())
        .bind(&headers)
        .execute(&mut **t)
        .await
        .map(|_| ()))?;
        done.hooks += 1;
    }
    reseal_operations(&mut tx, old, new, &mut done).await?;
    super::key_check::replace(&mut tx, new).await?;
    tx.commit().await?;
    Ok(done)
}

/// The accounts' operations signing secrets, in the same transaction.
async fn reseal_operations(
    tx: &mut super::backend::Tx,
    old: &SecretBox,
    new: &SecretBox,
    done: &mut Resealed,
) -> Result<(), StorageError> {
    let rows: Vec<(String, Vec<u8>)> = on_tx!(&mut *tx, t => sqlx::query_as(
        "SELECT account_id, signing_secret_enc FROM operations_endpoints",
    )
    .fetch_all(&mut **t)
    .await)?;
    for (account, sealed) in rows {
        let ctx = super::operations::context(&account);
        let moved = new.seal(&old.open(&sealed, &ctx)?, &ctx)?;
        on_tx!(&mut *tx, t => sqlx::query("UPDATE operations_endpoints SET signing_secret_enc = $1 WHERE account_id = $2")
            .bind(&moved)
            .bind(&account)
            .execute(&mut **t)
            .await
            .map(|_| ()))?;
        done.secrets += 1;
    }
    Ok(())
}
