//! Command-line interface. Every setting is a flag and an environment variable.

use clap::{Args, Parser, Subcommand};
use std::net::SocketAddr;

/// The largest `--max-body-bytes` (1 GiB).
const MAX_BODY_BYTES: u64 = 1 << 30;
/// The largest `--workers` and `--max-per-destination`: attempts in flight at once.
const MAX_IN_FLIGHT: u64 = 65_536;

#[derive(Parser, Debug)]
#[command(name = "hookrelay", version, about = "Self-hosted webhook registry and delivery service")]
#[command(args_conflicts_with_subcommands = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Settings for `serve`, which is also what runs when no subcommand is given.
    #[command(flatten)]
    pub serve: ServeArgs,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the HTTP server (dashboard and REST API). The default.
    Serve(Box<ServeArgs>),
    /// Manage accounts.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage API keys.
    #[command(subcommand)]
    Key(KeyCommand),
    /// Copy this SQLite installation into an empty PostgreSQL database (stop the server first).
    MigrateTo(MigrateToArgs),
    /// Re-encrypt every secret at rest under a new key (stop the server first).
    /// The new key comes from HOOKRELAY_NEW_SECRET_KEY, or is made here and
    /// written to the key file.
    RotateSecretKey(RotateSecretKeyArgs),
}

#[derive(Args, Debug)]
pub struct RotateSecretKeyArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// The current key, as `serve` takes it.
    #[command(flatten)]
    pub secret_key: SecretKeyArgs,
}

#[derive(Args, Debug)]
pub struct MigrateToArgs {
    /// The PostgreSQL database to copy into: `postgres://user@host:port/db`, existing and empty
    /// (prefer the environment variable when the URL holds a password: argv is visible to other users).
    #[arg(long, env = "HOOKRELAY_MIGRATE_TO", hide_env_values = true)]
    pub to: String,
    /// The SQLite database to copy from.
    #[command(flatten)]
    pub database: DatabaseArgs,
}

#[derive(Args, Debug, Clone)]
pub struct DatabaseArgs {
    /// Database URL; a missing SQLite file is created and migrations are applied at start.
    #[arg(long, env = "DATABASE_URL", default_value = "sqlite://hookrelay.db", hide_env_values = true)]
    pub database_url: String,
}

#[derive(Args, Debug, Clone)]
pub struct ServeArgs {
    /// Address to listen on (port 0 picks a free port; the address is logged).
    #[arg(long, env = "HOOKRELAY_LISTEN", default_value = "127.0.0.1:3000")]
    pub listen: SocketAddr,
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// Serve the dashboard's files (`pkg/`, favicon) from this directory instead of the copy
    /// inside the binary (development); without an embedded copy the default is `target/site`.
    #[arg(long, env = "LEPTOS_SITE_ROOT")]
    pub site_root: Option<String>,
    /// Requests per second allowed per API key (0 turns the limit off).
    #[arg(long, env = "HOOKRELAY_RATE_LIMIT", default_value_t = 100)]
    pub rate_limit: u32,
    /// Requests an API key may send at once above the steady rate.
    #[arg(long, env = "HOOKRELAY_RATE_LIMIT_BURST", default_value_t = 200)]
    pub rate_limit_burst: u32,
    /// Largest request body accepted, in bytes (larger gets 413).
    #[arg(long, env = "HOOKRELAY_MAX_BODY_BYTES", default_value_t = 1024 * 1024,
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=MAX_BODY_BYTES))]
    pub max_body_bytes: usize,
    /// Hook types per vertical, e.g. `flightrates=dbs;eventsshop=eventsinfo,eventimpact,hoteldemand`.
    #[arg(long, env = "HOOKRELAY_HOOK_TYPES", value_parser = app::domain::Catalogue::parse, default_value = "")]
    pub hook_types: app::domain::Catalogue,
    #[command(flatten)]
    pub secret_key: SecretKeyArgs,
    #[command(flatten)]
    pub delivery: DeliveryArgs,
    #[command(flatten)]
    pub limits: LimitArgs,
    #[command(flatten)]
    pub exposure: ExposureArgs,
    /// Threads running the async work (requests, the dispatcher). Default: 1 on SQLite,
    /// whose queries run on threads of their own (fewer threads to wake: less CPU per
    /// event); one per CPU on PostgreSQL, whose I/O runs on these threads.
    #[arg(long, env = "HOOKRELAY_RUNTIME_THREADS", value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub runtime_threads: Option<u16>,
}

impl ServeArgs {
    /// The async runtime's worker threads (`None`: one per CPU).
    pub fn runtime_threads(&self) -> Option<usize> {
        match self.runtime_threads {
            Some(n) => Some(n.into()),
            None if app::storage::Backend::of_url(&self.database.database_url) == app::storage::Backend::Sqlite => {
                Some(1)
            }
            None => None,
        }
    }
}

/// Limits that keep one client or tenant from costing everyone else.
#[derive(Args, Debug, Clone)]
pub struct LimitArgs {
    /// REST requests per second with API keys that do not exist (or are
    /// revoked), per client address (burst 4×; 0 turns it off).
    #[arg(long, env = "HOOKRELAY_UNKNOWN_KEY_RATE_LIMIT", default_value_t = 5)]
    pub unknown_key_rate_limit: u32,
    /// Dashboard server-function calls per second per session (burst 4×;
    /// 5× that per client address; 0 turns it off).
    #[arg(long, env = "HOOKRELAY_DASHBOARD_RATE_LIMIT", default_value_t = 10)]
    pub dashboard_rate_limit: u32,
    /// Dashboard login attempts per minute for one email from one client address.
    #[arg(long, env = "HOOKRELAY_LOGIN_LIMIT", default_value_t = 5)]
    pub login_limit: u32,
    /// Dashboard login attempts per minute from one client address, and for
    /// one email from all addresses together.
    #[arg(long, env = "HOOKRELAY_LOGIN_LIMIT_PER_ADDRESS", default_value_t = 30)]
    pub login_limit_per_address: u32,
    /// Hooks one account may have (both route families together).
    #[arg(long, env = "HOOKRELAY_MAX_HOOKS_PER_ACCOUNT", default_value_t = 1000)]
    pub max_hooks_per_account: u32,
    /// Unrevoked API keys one account may have.
    #[arg(long, env = "HOOKRELAY_MAX_KEYS_PER_ACCOUNT", default_value_t = 100)]
    pub max_keys_per_account: u32,
}

/// How the service is reached from outside.
#[derive(Args, Debug, Clone)]
pub struct ExposureArgs {
    /// The dashboard's external origin, e.g. `https://hooks.example.com`
    /// when a proxy in front rewrites `Host`: the cross-site check compares
    /// the browser's `Origin` with it; an https URL also turns on HSTS.
    #[arg(long, env = "HOOKRELAY_PUBLIC_URL", value_parser = parse_public_url)]
    pub public_url: Option<url::Origin>,
    /// Take the client address for the per-client limits from this header
    /// (set by a trusted reverse proxy, e.g. `X-Forwarded-For`: the last
    /// address in it counts). Without it the connection's peer counts.
    #[arg(long, env = "HOOKRELAY_CLIENT_IP_HEADER")]
    pub client_ip_header: Option<axum::http::HeaderName>,
    /// Require `Authorization: Bearer <token>` on `/metrics` (prefer the
    /// environment variable: argv is visible to other local users).
    #[arg(long, env = "HOOKRELAY_METRICS_TOKEN", hide_env_values = true, value_parser = MetricsToken)]
    pub metrics_token: Option<String>,
}

#[derive(Args, Debug, Clone)]
pub struct DeliveryArgs {
    /// Deliver to loopback, private, link-local and multicast addresses too (on-premise use, tests).
    #[arg(long, env = "HOOKRELAY_ALLOW_PRIVATE_TARGETS")]
    pub allow_private_targets: bool,
    /// Send every delivery through this HTTP(S) proxy (e.g. the network's
    /// egress proxy). Without it no proxy is used: HTTP_PROXY and the like
    /// are ignored, since a proxy resolves names itself, past the SSRF guard.
    #[arg(long, env = "HOOKRELAY_EGRESS_PROXY", value_parser = parse_proxy, hide_env_values = true)]
    pub egress_proxy: Option<String>,
    /// Delay before each attempt (its length is the number of attempts); durations such as 250ms, 5s, 5m, 2h, 1d.
    #[arg(long, env = "HOOKRELAY_RETRY_SCHEDULE", default_value = crate::delivery::schedule::DEFAULT,
          value_parser = crate::delivery::schedule::RetrySchedule::parse)]
    pub retry_schedule: crate::delivery::schedule::RetrySchedule,
    /// How long one attempt may take (e.g. 15s, 500ms).
    #[arg(long, env = "HOOKRELAY_DELIVERY_TIMEOUT", default_value = "15s", value_parser = crate::delivery::schedule::parse_delivery_timeout)]
    pub delivery_timeout: std::time::Duration,
    /// Attempts in flight at once, across all destinations (attempts are
    /// async: a slow endpoint holds a socket, not a thread).
    #[arg(long, env = "HOOKRELAY_WORKERS", default_value_t = 512,
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=MAX_IN_FLIGHT))]
    pub workers: usize,
    /// Attempts in flight at once to one destination (scheme, host and port
    /// of the endpoint URL), shared by every hook pointing there.
    #[arg(long, alias = "max-per-endpoint", env = "HOOKRELAY_MAX_PER_DESTINATION", default_value_t = 32,
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=MAX_IN_FLIGHT))]
    pub max_per_destination: usize,
    /// Keep delivery history (events, attempts) this long (e.g. 30d).
    #[arg(long, env = "HOOKRELAY_RETENTION", default_value = "30d", value_parser = retention)]
    pub retention: std::time::Duration,
    /// Disable a hook whose delivery attempts all failed for this long.
    #[arg(long, env = "HOOKRELAY_DISABLE_AFTER", default_value = "5d", value_parser = crate::delivery::schedule::parse_duration)]
    pub disable_after: std::time::Duration,
    /// Test suite only: inject a fault to prove the process is watched.
    #[arg(long, env = "HOOKRELAY_FAULT", hide = true, value_enum)]
    pub fault: Option<crate::delivery::Fault>,
}

#[derive(Args, Debug, Clone)]
pub struct SecretKeyArgs {
    /// Key that encrypts secrets at rest: 32 bytes as base64 or hex, from
    /// `HOOKRELAY_SECRET_KEY` only (never argv: every local user can read a
    /// process's command line).
    #[arg(skip = std::env::var("HOOKRELAY_SECRET_KEY").ok())]
    pub key: Option<String>,
    /// Refused with a message: a key given on the command line.
    #[arg(long = "secret-key", hide = true)]
    pub key_on_command_line: Option<String>,
    /// File holding that key; created (mode 0600) if missing. Default: `<database file>.key`.
    #[arg(long, env = "HOOKRELAY_SECRET_KEY_FILE")]
    pub secret_key_file: Option<std::path::PathBuf>,
}

#[derive(Subcommand, Debug)]
pub enum UserCommand {
    /// Create an account and print its first API key (alone on stdout).
    Create(UserCreateArgs),
}

#[derive(Args, Debug)]
pub struct UserCreateArgs {
    #[arg(long, env = "HOOKRELAY_USER_EMAIL")]
    pub email: String,
    /// At least 8 characters. Prefer the environment variable: argv is visible to other local users.
    #[arg(long, env = "HOOKRELAY_USER_PASSWORD", hide_env_values = true)]
    pub password: String,
    /// An admin key may publish events for any account.
    #[arg(long)]
    pub admin: bool,
    /// The account's default vertical: flightrates or eventsshop.
    #[arg(long, default_value = "flightrates")]
    pub vertical: String,
    #[command(flatten)]
    pub database: DatabaseArgs,
}

#[derive(Subcommand, Debug)]
pub enum KeyCommand {
    /// Create another API key for an account and print it (alone on stdout).
    Create(KeyCreateArgs),
}

#[derive(Args, Debug)]
pub struct KeyCreateArgs {
    #[arg(long, env = "HOOKRELAY_USER_EMAIL")]
    pub email: String,
    /// A label to tell keys apart.
    #[arg(long, default_value = "")]
    pub name: String,
    #[command(flatten)]
    pub database: DatabaseArgs,
}

/// An `--egress-proxy` URL: `http://` or `https://` with a host (other
/// schemes would be dropped silently and deliveries would go direct).
fn parse_proxy(value: &str) -> Result<String, String> {
    let url = url::Url::parse(value).map_err(|e| format!("not a URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
        return Err("must be an http:// or https:// URL with a host, e.g. http://proxy.internal:3128".into());
    }
    reqwest::Proxy::all(url.as_str()).map_err(|e| format!("not a proxy URL: {e}"))?;
    Ok(url.to_string())
}

/// A `--public-url`: an http(s) origin (a path, query or fragment would be
/// ignored by browsers' `Origin`, so they are refused rather than dropped).
fn parse_public_url(value: &str) -> Result<url::Origin, String> {
    let url = url::Url::parse(value).map_err(|e| format!("not a URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
        return Err("must be an http:// or https:// URL, e.g. https://hooks.example.com".into());
    }
    if !matches!(url.path(), "" | "/") || url.query().is_some() || url.fragment().is_some() {
        return Err("must be an origin only (scheme, host, port), e.g. https://hooks.example.com".into());
    }
    Ok(url.origin())
}

/// `--metrics-token`: an empty one would look set and protect nothing. A
/// parser of its own because clap's message for a refused value quotes the
/// value, and this one is a secret (stderr ends up in the logs).
#[derive(Clone)]
struct MetricsToken;

impl clap::builder::TypedValueParser for MetricsToken {
    type Value = String;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        _arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<String, clap::Error> {
        let refuse = |why: &str| {
            clap::Error::raw(
                clap::error::ErrorKind::ValueValidation,
                format!("--metrics-token {why} (the value is not shown)\n"),
            )
            .with_cmd(cmd)
        };
        let s = value.to_str().ok_or_else(|| refuse("must be valid UTF-8"))?;
        if s.trim().is_empty() {
            return Err(refuse("must not be empty (leave it unset for an open /metrics)"));
        }
        // A scraper's token is compared trimmed: one with spaces (a CRLF env
        // file's `\r`) could never match, and /metrics would answer 401 for good.
        if s.trim() != s {
            return Err(refuse("must not start or end with whitespace"));
        }
        Ok(s.to_owned())
    }
}

/// `--retention`: zero would remove each delivery's history as it ends.
fn retention(s: &str) -> Result<std::time::Duration, String> {
    let keep =
        crate::delivery::schedule::parse_duration(s).map_err(|e| format!("{e} (expected a duration such as 30d)"))?;
    if keep.is_zero() {
        return Err("must be more than 0 (history would be removed as soon as each delivery ends)".into());
    }
    Ok(keep)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn no_subcommand_means_serve_with_defaults() {
        let cli = Cli::try_parse_from(["hookrelay", "--listen", "127.0.0.1:0"]).expect("parse");
        assert!(cli.command.is_none());
        assert_eq!(cli.serve.listen.port(), 0);
    }

    #[test]
    fn a_public_url_is_an_http_origin() {
        let origin = super::parse_public_url("https://Hooks.Example.com").expect("valid");
        assert_eq!(origin.ascii_serialization(), "https://hooks.example.com");
        assert!(super::parse_public_url("http://127.0.0.1:8080/").is_ok());
        for bad in ["ftp://x", "hooks.example.com", "https://x/dashboard", "https://x/?a=1"] {
            assert!(super::parse_public_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn an_egress_proxy_must_be_http_or_https_with_a_host() {
        assert_eq!(super::parse_proxy("http://proxy.internal:3128").as_deref(), Ok("http://proxy.internal:3128/"));
        assert!(super::parse_proxy("https://user:pw@proxy.internal").is_ok());
        for bad in ["socks5://proxy:1080", "ftp://proxy", "proxy:3128", "http://"] {
            assert!(super::parse_proxy(bad).is_err(), "{bad}");
        }
    }
}
