//! `hookrelay rotate-secret-key`: every secret at rest re-sealed under a new
//! key (`app::storage::reseal`), with every hookrelay process on the
//! database stopped. With a key file, the new key (from
//! `HOOKRELAY_NEW_SECRET_KEY`, or made here) is first written beside it as
//! `<key file>.new` and fsynced, then the database is re-sealed in one
//! transaction, then the new file replaces the old one. A run interrupted
//! after the commit is finished by running the command again. With
//! `HOOKRELAY_SECRET_KEY`, the new key must come from
//! `HOOKRELAY_NEW_SECRET_KEY`, and the operator swaps the variables.

use super::CommandError;
use crate::cli::RotateSecretKeyArgs;
use crate::secret_key::{self, KeySource};
use app::security::SecretBox;
use app::storage::{self, key_check, reseal};
use std::path::{Path, PathBuf};

fn new_key_from_env() -> Result<Option<[u8; 32]>, CommandError> {
    match std::env::var("HOOKRELAY_NEW_SECRET_KEY").ok().filter(|k| !k.trim().is_empty()) {
        None => Ok(None),
        Some(raw) => secret_key::decode(raw.trim())
            .map(Some)
            .ok_or(CommandError::Usage("HOOKRELAY_NEW_SECRET_KEY must be 32 bytes as base64 or 64 hex characters")),
    }
}

pub async fn rotate_secret_key(args: RotateSecretKeyArgs) -> Result<(), CommandError> {
    let url = &args.database.database_url;
    let db = storage::connect(url).await?;
    let source = KeySource::of(&args.secret_key, url).map_err(crate::http::ServeError::from)?;
    if let KeySource::File(path) = &source
        && finish_interrupted(&db, path).await?
    {
        return Ok(());
    }
    let old = secret_key::open(&args.secret_key, url, &db).await.map_err(crate::http::ServeError::from)?;
    let done = match &source {
        KeySource::Env => {
            let Some(new_key) = new_key_from_env()? else {
                return Err(CommandError::Usage(
                    "the key comes from HOOKRELAY_SECRET_KEY: set HOOKRELAY_NEW_SECRET_KEY to the new key \
                     (`openssl rand -base64 32`), run this again, then start hookrelay with that key",
                ));
            };
            let done = reseal::reseal_all(&db, &old, &SecretBox::new(&new_key)).await?;
            eprintln!("Now start hookrelay with HOOKRELAY_SECRET_KEY set to the new key (HOOKRELAY_NEW_SECRET_KEY).");
            done
        }
        KeySource::File(path) => {
            let new_key = match new_key_from_env()? {
                Some(key) => key,
                None => secret_key::generate().map_err(crate::http::ServeError::from)?,
            };
            let staged = secret_key::staged_key_file(path);
            // A leftover from a run that stopped before its commit: the
            // database is still under the current key, so it is unused.
            if staged.exists() {
                std::fs::remove_file(&staged).map_err(|e| io_error(&staged, e))?;
            }
            secret_key::write_new_key_file(&staged, &new_key).map_err(crate::http::ServeError::from)?;
            let done = reseal::reseal_all(&db, &old, &SecretBox::new(&new_key)).await?;
            install(&staged, path)?;
            eprintln!("The key file {} now holds the new key: back it up.", path.display());
            done
        }
    };
    tracing::info!(hooks = done.hooks, secrets = done.secrets, "secrets re-sealed under the new key");
    eprintln!(
        "Re-sealed {} secrets of {} hooks. Backups of the database taken before now still need the old key.",
        done.secrets, done.hooks
    );
    Ok(())
}

/// A staged key that already opens the database: the last run committed
/// but did not get to replace the key file. Finish that.
async fn finish_interrupted(db: &storage::Db, key_file: &Path) -> Result<bool, CommandError> {
    let staged = secret_key::staged_key_file(key_file);
    if !staged.exists() {
        return Ok(false);
    }
    // Half-written (a crash before the commit): a leftover, removed below.
    let Ok(key) = secret_key::read_key_file(&staged) else {
        return Ok(false);
    };
    if !key_check::holds_sealed_secrets(db).await? || !key_check::verify(db, &SecretBox::new(&key)).await? {
        return Ok(false);
    }
    install(&staged, key_file)?;
    eprintln!(
        "An earlier rotation had re-sealed the database but not replaced the key file: {} now holds the new key.",
        key_file.display()
    );
    Ok(true)
}

/// Keeps the old key as `<key file>.old` (a hard link: same owner and
/// mode), for the backups taken before the rotation, then renames the
/// staged key over the key file and makes both durable.
fn install(staged: &Path, key_file: &Path) -> Result<(), CommandError> {
    let mut old = key_file.as_os_str().to_owned();
    old.push(".old");
    let old = PathBuf::from(old);
    if key_file.exists() {
        let _ = std::fs::remove_file(&old);
        std::fs::hard_link(key_file, &old).map_err(|e| io_error(&old, e))?;
        eprintln!(
            "The old key is kept as {}: move it to where the old database backups are kept, then delete it here.",
            old.display()
        );
    }
    std::fs::rename(staged, key_file).map_err(|e| io_error(key_file, e))?;
    secret_key::sync_parent(key_file).map_err(|e| io_error(key_file, e))
}

fn io_error(path: &Path, source: std::io::Error) -> CommandError {
    crate::http::ServeError::from(secret_key::SecretKeyError::Io { path: path.to_path_buf(), source }).into()
}
