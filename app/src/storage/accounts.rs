//! Accounts: who owns hooks and API keys.

use super::backend::on_pool;
use super::row::row;
use super::{Db, StorageError, is_unique_violation, now_ms};
use crate::domain::{ResourceId, Vertical};
use crate::security::random;

#[derive(Clone, Debug)]
pub struct Account {
    pub id: ResourceId,
    pub email: String,
    pub is_admin: bool,
    pub vertical: Vertical,
}

/// What `create` needs: the email must already be validated and the password hashed.
pub struct NewAccount<'a> {
    pub email: &'a str,
    pub password_hash: &'a str,
    pub is_admin: bool,
    pub vertical: Vertical,
}

row! {
    pub(super) struct AccountRow {
        pub id: String,
        pub email: String,
        pub is_admin: bool,
        pub vertical: String,
    }
}

impl AccountRow {
    pub(super) fn into_account(self) -> Result<Account, StorageError> {
        Ok(Account {
            id: ResourceId::parse(&self.id).map_err(|_| StorageError::NotFound("account"))?,
            email: self.email,
            is_admin: self.is_admin,
            vertical: self.vertical.parse().unwrap_or_default(),
        })
    }
}

pub async fn create(db: &Db, new: NewAccount<'_>) -> Result<Account, StorageError> {
    let id = random::new_id()?;
    let result = on_pool!(&db.pool, p => sqlx::query(
        "INSERT INTO accounts (id, email, password_hash, is_admin, vertical, created_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(id.as_str())
    .bind(new.email)
    .bind(new.password_hash)
    .bind(new.is_admin)
    .bind(new.vertical.as_str())
    .bind(now_ms())
    .execute(p)
    .await
    .map(|r| r.rows_affected()));
    match result {
        Ok(_) => Ok(Account { id, email: new.email.to_owned(), is_admin: new.is_admin, vertical: new.vertical }),
        Err(e) if is_unique_violation(&e) => Err(StorageError::Duplicate("an account with this email")),
        Err(e) => Err(e.into()),
    }
}

pub async fn find_by_email(db: &Db, email: &str) -> Result<Option<Account>, StorageError> {
    let row: Option<AccountRow> = on_pool!(&db.pool, p => sqlx::query_as(
        "SELECT id, email, is_admin, vertical FROM accounts WHERE email = $1",
    )
    .bind(email)
    .fetch_optional(p)
    .await)?;
    row.map(AccountRow::into_account).transpose()
}
