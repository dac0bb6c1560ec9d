//! Dashboard sessions: a random token in an HttpOnly cookie, stored here
//! only as its SHA-256, with an expiry.

use super::accounts::{Account, AccountRow};
use super::backend::on_pool;
use super::row::row;
use super::{Db, StorageError, now_ms};
use crate::security::{api_keys::hash_key, passwords, random};
use base64::Engine;

/// How long a session lasts after logging in.
pub const SESSION_TTL_MS: i64 = 12 * 60 * 60 * 1000;

/// Checks email and password; on success opens a session and returns its
/// token (the cookie value; not stored) and the account.
pub async fn login(db: &Db, email: &str, password: &str) -> Result<Option<(String, Account)>, StorageError> {
    let email = email.trim().to_lowercase();
    // No stored email holds a control character (PostgreSQL could not even
    // look one with NUL up): such an email is simply unknown.
    let row: Option<PasswordRow> = if email.chars().any(char::is_control) {
        None
    } else {
        on_pool!(&db.pool, p => sqlx::query_as(
            "SELECT password_hash, id, email, is_admin, vertical FROM accounts WHERE email = $1",
        )
        .bind(&email)
        .fetch_optional(p)
        .await)?
    };
    let found: Option<(String, AccountRow)> = row.map(|r| (r.password_hash, r.account));
    let stored = found.as_ref().map(|(hash, _)| hash.clone());
    let valid = passwords::verify_login(password.to_owned(), stored).await?;
    if !valid {
        return Ok(None);
    }
    let Some((_, row)) = found else { return Ok(None) };
    let account = row.into_account()?;
    let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random::bytes::<32>()?);
    let now = now_ms();
    on_pool!(&db.pool, p => sqlx::query(
        "INSERT INTO sessions (token_hash, account_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(hash_key(&token))
    .bind(account.id.as_str())
    .bind(now)
    .bind(now + SESSION_TTL_MS)
    .execute(p)
    .await
    .map(|_| ()))?;
    Ok(Some((token, account)))
}

row! {
    struct PasswordRow {
        password_hash: String,
    }
    flatten { account: AccountRow }
}

/// The account of an unexpired session.
pub async fn account(db: &Db, token: &str) -> Result<Option<Account>, StorageError> {
    let row: Option<AccountRow> = on_pool!(&db.pool, p => sqlx::query_as(
        "SELECT a.id, a.email, a.is_admin, a.vertical FROM sessions s JOIN accounts a ON a.id = s.account_id
         WHERE s.token_hash = $1 AND s.expires_at > $2",
    )
    .bind(hash_key(token))
    .bind(now_ms())
    .fetch_optional(p)
    .await)?;
    row.map(AccountRow::into_account).transpose()
}

/// Ends a session (logout).
pub async fn end(db: &Db, token: &str) -> Result<(), StorageError> {
    on_pool!(&db.pool, p => sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
        .bind(hash_key(token))
        .execute(p)
        .await
        .map(|_| ()))?;
    Ok(())
}

/// Removes expired sessions; returns how many.
pub async fn prune(db: &Db) -> Result<u64, StorageError> {
    Ok(on_pool!(&db.pool, p => sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
        .bind(now_ms())
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?)
}
