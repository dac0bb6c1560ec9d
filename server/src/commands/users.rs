//! `hookrelay user create` and `hookrelay key create`. The new key is the only
//! thing written to stdout, so `KEY=$(hookrelay user create …)` works.

use super::CommandError;
use crate::cli::{KeyCreateArgs, UserCreateArgs};
use app::domain::{Vertical, validate_email, validate_password};
use app::security::passwords;
use app::storage::{self, accounts};

pub async fn create_user(args: UserCreateArgs) -> Result<(), CommandError> {
    let email = validate_email(&args.email)?;
    validate_password(&args.password)?;
    let vertical: Vertical = args.vertical.parse()?;
    let password_hash = passwords::hash_password(&args.password)?;

    let db = storage::connect(&args.database.database_url).await?;
    let account = accounts::create(
        &db,
        accounts::NewAccount { email: &email, password_hash: &password_hash, is_admin: args.admin, vertical },
    )
    .await?;
    let key = storage::api_keys::create(&db, &account.id, "created with the account").await?;
    tracing::info!(account = %account.id, email = %account.email, admin = account.is_admin, "account created");
    println!("{key}");
    Ok(())
}

pub async fn create_key(args: KeyCreateArgs) -> Result<(), CommandError> {
    let email = validate_email(&args.email)?;
    let db = storage::connect(&args.database.database_url).await?;
    let account =
        accounts::find_by_email(&db, &email).await?.ok_or_else(|| CommandError::NoSuchAccount(email.clone()))?;
    let key = storage::api_keys::create(&db, &account.id, &args.name).await?;
    tracing::info!(account = %account.id, "API key created");
    println!("{key}");
    Ok(())
}
