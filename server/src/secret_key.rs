//! The key that encrypts secrets at rest: `HOOKRELAY_SECRET_KEY` (base64 or
//! hex of 32 bytes), or a key file — by default `<database file>.key` —
//! created with mode 0600 on first start. A database that holds sealed
//! secrets is never started with a new or wrong key: a missing key file is
//! not replaced, and the key must open the database's key check. A key on
//! the command line (visible to every local user) and a key file that
//! group or others may read are refused, with how to fix it.

use app::security::secret_box::KEY_LEN;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum SecretKeyError {
    #[error("HOOKRELAY_SECRET_KEY must be 32 bytes as base64 (e.g. `openssl rand -base64 32`) or 64 hex characters")]
    BadEnvKey,
    #[error("the key file {0} does not hold 32 base64-encoded bytes")]
    BadKeyFile(PathBuf),
    #[error("cannot read or create the key file {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error(
        "no secret key: set HOOKRELAY_SECRET_KEY or --secret-key-file (the database is not a SQLite file to put one next to)"
    )]
    NoLocation,
    #[error("the operating system's random number generator failed")]
    Random,
    #[error(
        "the database holds encrypted secrets (hook passwords, tokens, signing secrets) but the key file {0} is missing. \
         A new key could not open them, so hookrelay does not start. Restore the key file from the backup you made \
         with the database (or set HOOKRELAY_SECRET_KEY to that key), then start again."
    )]
    LostKeyFile(PathBuf),
    #[error(
        "the secret key from {0} is not the key this database's secrets were encrypted with, so hookrelay does not \
         start. Use the original key (restore its key file, or set HOOKRELAY_SECRET_KEY to it)."
    )]
    WrongKey(String),
    #[error(
        "the secret key is never taken from the command line (every local user can read a process's arguments): \
         set HOOKRELAY_SECRET_KEY or put it in a file named by --secret-key-file (mode 0600)"
    )]
    KeyOnCommandLine,
    #[error(
        "the key file {path} can be read or changed by users other than its owner (mode {mode:o}); run \
         `chmod 600 {path}` (and check who has seen it), then start again"
    )]
    KeyFileTooOpen { path: PathBuf, mode: u32 },
    #[error(
        "the key file does not open this database, and {0} is there: a `hookrelay rotate-secret-key` was \
         interrupted after re-sealing. Run `hookrelay rotate-secret-key` again to finish it, then start again."
    )]
    InterruptedRotation(PathBuf),
    #[error("cannot check the secret key against the database: {0}")]
    Storage(#[from] app::storage::StorageError),
}

/// The key for this database as a `SecretBox`, checked against the database.
pub async fn open(
    args: &crate::cli::SecretKeyArgs,
    database_url: &str,
    db: &app::storage::Db,
) -> Result<app::security::SecretBox, SecretKeyError> {
    use app::storage::key_check;
    if args.key_on_command_line.is_some() {
        return Err(SecretKeyError::KeyOnCommandLine);
    }
    let holds_secrets = key_check::holds_sealed_secrets(db).await?;
    let key = load(args.key.as_deref(), args.secret_key_file.as_deref(), database_url, holds_secrets)?;
    let secrets = app::security::SecretBox::new(&key);
    if !key_check::verify(db, &secrets).await? {
        if let Ok(KeySource::File(path)) = KeySource::of(args, database_url) {
            let staged = staged_key_file(&path);
            if staged.exists() {
                return Err(SecretKeyError::InterruptedRotation(staged));
            }
        }
        let source = match (&args.key, &args.secret_key_file) {
            (Some(_), _) => "HOOKRELAY_SECRET_KEY".to_owned(),
            (None, Some(path)) => path.display().to_string(),
            (None, None) => default_key_file(database_url).map_or_else(String::new, |p| p.display().to_string()),
        };
        return Err(SecretKeyError::WrongKey(source));
    }
    Ok(secrets)
}

/// Reads the key; creates a key file only for a database without secrets.
pub fn load(
    env_key: Option<&str>,
    key_file: Option<&Path>,
    database_url: &str,
    holds_secrets: bool,
) -> Result<[u8; KEY_LEN], SecretKeyError> {
    if let Some(raw) = env_key.map(str::trim).filter(|k| !k.is_empty()) {
        return decode(raw).ok_or(SecretKeyError::BadEnvKey);
    }
    let path = match key_file {
        Some(p) => p.to_path_buf(),
        None => default_key_file(database_url).ok_or(SecretKeyError::NoLocation)?,
    };
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            private_to_owner(&path)?;
            decode(text.trim()).ok_or(SecretKeyError::BadKeyFile(path))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && holds_secrets => Err(SecretKeyError::LostKeyFile(path)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => create(&path),
        Err(source) => Err(SecretKeyError::Io { path, source }),
    }
}

/// Refuses a key file that anyone but its owner may read or change (the
/// service's user should own it, mode 0600 or 0400).
fn private_to_owner(path: &Path) -> Result<(), SecretKeyError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let io = |source| SecretKeyError::Io { path: path.to_path_buf(), source };
        let mode = std::fs::metadata(path).map_err(io)?.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(SecretKeyError::KeyFileTooOpen { path: path.to_path_buf(), mode });
        }
    }
    Ok(())
}

/// Where the at-rest key lives: `HOOKRELAY_SECRET_KEY`, or a key file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    Env,
    File(PathBuf),
}

impl KeySource {
    pub fn of(args: &crate::cli::SecretKeyArgs, database_url: &str) -> Result<Self, SecretKeyError> {
        if args.key.as_deref().map(str::trim).is_some_and(|k| !k.is_empty()) {
            return Ok(Self::Env);
        }
        match &args.secret_key_file {
            Some(path) => Ok(Self::File(path.clone())),
            None => default_key_file(database_url).map(Self::File).ok_or(SecretKeyError::NoLocation),
        }
    }
}

/// A key given as base64 or hex text.
pub fn decode(raw: &str) -> Option<[u8; KEY_LEN]> {
    let bytes = if raw.len() == KEY_LEN * 2 && raw.bytes().all(|b| b.is_ascii_hexdigit()) {
        hex::decode(raw).ok()?
    } else {
        STANDARD.decode(raw).ok()?
    };
    bytes.try_into().ok()
}

/// A fresh random key.
pub fn generate() -> Result<[u8; KEY_LEN], SecretKeyError> {
    app::security::random::bytes::<KEY_LEN>().map_err(|_| SecretKeyError::Random)
}

/// Writes `key` to a new file at `path` (mode 0600, fsynced); fails if it exists.
pub fn write_new_key_file(path: &Path, key: &[u8; KEY_LEN]) -> Result<(), SecretKeyError> {
    let io = |source| SecretKeyError::Io { path: path.to_path_buf(), source };
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).map_err(io)?;
    writeln!(file, "{}", STANDARD.encode(key)).map_err(io)?;
    file.sync_all().map_err(io)?;
    // The new name must survive a crash too, before anything relies on it.
    sync_parent(path).map_err(io)
}

/// fsyncs the directory holding `path`, so a create or rename in it is durable.
pub fn sync_parent(path: &Path) -> std::io::Result<()> {
    match path.parent().filter(|d| !d.as_os_str().is_empty()) {
        Some(dir) => std::fs::File::open(dir)?.sync_all(),
        None => std::fs::File::open(".")?.sync_all(),
    }
}

/// Reads a key file (which must be private to its owner).
pub fn read_key_file(path: &Path) -> Result<[u8; KEY_LEN], SecretKeyError> {
    let text =
        std::fs::read_to_string(path).map_err(|source| SecretKeyError::Io { path: path.to_path_buf(), source })?;
    private_to_owner(path)?;
    decode(text.trim()).ok_or_else(|| SecretKeyError::BadKeyFile(path.to_path_buf()))
}

fn create(path: &Path) -> Result<[u8; KEY_LEN], SecretKeyError> {
    let key = generate()?;
    match write_new_key_file(path, &key) {
        Ok(()) => {}
        // Another process sharing the database made it a moment ago: use
        // that one, once its maker has written it (within a few seconds).
        Err(SecretKeyError::Io { source, .. }) if source.kind() == std::io::ErrorKind::AlreadyExists => {
            return read_sibling_key(path);
        }
        Err(e) => return Err(e),
    }
    tracing::info!(path = %path.display(), "created a new secret key file (mode 0600): back it up with the database");
    Ok(key)
}

/// Where `rotate-secret-key` stages the new key until the database commits.
pub fn staged_key_file(key_file: &Path) -> PathBuf {
    let mut name = key_file.as_os_str().to_owned();
    name.push(".new");
    PathBuf::from(name)
}

/// A key file another process has just created: read once it holds a key.
fn read_sibling_key(path: &Path) -> Result<[u8; KEY_LEN], SecretKeyError> {
    let io = |source| SecretKeyError::Io { path: path.to_path_buf(), source };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let text = std::fs::read_to_string(path).map_err(io)?;
        if let Some(key) = decode(text.trim()) {
            private_to_owner(path)?;
            return Ok(key);
        }
        if std::time::Instant::now() > deadline {
            return Err(SecretKeyError::BadKeyFile(path.to_path_buf()));
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// `sqlite://dir/x.db?mode=rwc` → `dir/x.db.key`; nothing for in-memory or other databases.
pub fn default_key_file(database_url: &str) -> Option<PathBuf> {
    let rest = database_url.strip_prefix("sqlite://").or_else(|| database_url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or_default();
    if path.is_empty() || path.contains(":memory:") {
        return None;
    }
    Some(PathBuf::from(format!("{path}.key")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_file_sits_next_to_the_sqlite_file() {
        assert_eq!(default_key_file("sqlite://hookrelay.db"), Some(PathBuf::from("hookrelay.db.key")));
        assert_eq!(default_key_file("sqlite:///tmp/x.db?mode=rwc"), Some(PathBuf::from("/tmp/x.db.key")));
        assert_eq!(default_key_file("sqlite::memory:"), None);
        assert_eq!(default_key_file("postgres://localhost/test"), None);
    }

    #[test]
    fn env_keys_decode_from_base64_or_hex_only_at_32_bytes() {
        assert!(decode(&STANDARD.encode([1u8; 32])).is_some());
        assert!(decode(&"ab".repeat(32)).is_some());
        assert!(decode(&STANDARD.encode([1u8; 16])).is_none());
        assert!(decode("not a key").is_none());
    }

    #[test]
    fn a_missing_key_file_is_not_replaced_when_the_database_holds_secrets() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("lost.key");
        let err = load(None, Some(&path), "sqlite::memory:", true).expect_err("must refuse");
        assert!(matches!(err, SecretKeyError::LostKeyFile(_)));
        assert!(!path.exists(), "no new key file may be written");
    }

    #[test]
    fn a_new_key_file_is_created_private_and_read_back() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("k.key");
        let first = load(None, Some(&path), "sqlite::memory:", false).expect("create");
        let second = load(None, Some(&path), "sqlite::memory:", true).expect("read");
        assert_eq!(first, second);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
