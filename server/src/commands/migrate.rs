//! `hookrelay migrate-to --to postgres://…`: the move from one SQLite
//! process to PostgreSQL (docs/ARCHITECTURE.md, "Running several processes").

use super::CommandError;
use crate::cli::MigrateToArgs;
use app::storage::{self, Backend};

pub async fn migrate_to(args: MigrateToArgs) -> Result<(), CommandError> {
    let source = &args.database.database_url;
    if Backend::of_url(source) != Backend::Sqlite {
        return Err(CommandError::Usage("--database-url must name the SQLite database to copy from"));
    }
    if Backend::of_url(&args.to) != Backend::Postgres {
        return Err(CommandError::Usage("--to must be a postgres:// URL"));
    }
    let path = source.trim_start_matches("sqlite://").trim_start_matches("sqlite:");
    let path = path.split('?').next().unwrap_or(path);
    if !std::path::Path::new(path).exists() {
        return Err(CommandError::Usage("the SQLite database named by --database-url does not exist"));
    }
    let from = storage::connect(source).await?;
    let to = storage::connect(&args.to).await?;
    let copied = storage::migrate::copy(&from, &to).await?;
    tracing::info!(?copied, "copied into PostgreSQL");
    println!(
        "copied {} accounts, {} API keys, {} sessions, {} hooks, {} pending and {} failed deliveries ({} events, \
         {} attempts), {} idempotency keys",
        copied.accounts,
        copied.api_keys,
        copied.sessions,
        copied.hooks,
        copied.pending_deliveries,
        copied.failed_deliveries,
        copied.events,
        copied.attempts,
        copied.idempotency_keys
    );
    println!(
        "start the servers with --database-url {} and the same secret key (e.g. --secret-key-file {path}.key)",
        redact(&args.to)
    );
    Ok(())
}

/// The URL without its password, for printing.
fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => url.to_owned(),
    }
}
