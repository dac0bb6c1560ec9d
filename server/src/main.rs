//! `hookrelay`: the webhook registry and delivery service in one binary.

use clap::Parser;
use hookrelay::{cli, commands, telemetry};
use std::process::ExitCode;

fn main() -> ExitCode {
    tune_malloc();
    raise_open_file_limit();
    let cli = cli::Cli::parse();
    // Held to the end of main: dropping it writes the log lines still buffered.
    let log_flush = match telemetry::init() {
        Ok(guard) => guard,
        Err(e) => {
            eprintln!("error: cannot start the log writer: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    let threads = match &cli.command {
        None => cli.serve.runtime_threads(),
        Some(cli::Command::Serve(args)) => args.runtime_threads(),
        Some(_) => None,
    };
    if let Some(threads) = threads {
        builder.worker_threads(threads);
    }
    let runtime = match builder.enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async move {
        match cli.command {
            None => hookrelay::serve(cli.serve).await.map_err(commands::CommandError::from),
            Some(cli::Command::Serve(args)) => hookrelay::serve(*args).await.map_err(Into::into),
            Some(cli::Command::User(cli::UserCommand::Create(args))) => commands::users::create_user(args).await,
            Some(cli::Command::Key(cli::KeyCommand::Create(args))) => commands::users::create_key(args).await,
            Some(cli::Command::MigrateTo(args)) => commands::migrate::migrate_to(args).await,
            Some(cli::Command::RotateSecretKey(args)) => commands::rotate::rotate_secret_key(args).await,
        }
    });
    // The lines logged before the outcome come before it.
    drop(runtime);
    drop(log_flush);
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// glibc gives each busy thread its own malloc arena; with tokio's and
/// sqlx's threads that held ~20 MiB of extra memory under load
/// (docs/BENCHMARKS.md). Four arenas: two per core; fewer cost throughput (measured). Runs before
/// any thread is started. Also fixes the mmap threshold (below).
fn tune_malloc() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets an allocator tunable; called once, before other threads exist.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 4);
        // A fixed threshold (which also turns off glibc's dynamic one): blocks
        // of 8 MiB and more are mmapped and go back to the system when freed.
        // With the dynamic threshold each freed 19 MiB argon2 block raised it,
        // later blocks came from the arenas and stayed: 40 logins in a row
        // left 181 MiB resident, a flood 765 MiB (26 MiB with this). 8 MiB,
        // not 1: at 1 MiB publishing lost ~9 % (docs/BENCHMARKS.md).
        libc::mallopt(libc::M_MMAP_THRESHOLD, 8 << 20);
    }
}

/// Every attempt in flight holds a socket (`--workers`, 512 by default):
/// raise the soft limit on open files to the hard one (often 1024 → 1M).
fn raise_open_file_limit() {
    #[cfg(unix)]
    // SAFETY: getrlimit/setrlimit read and write one plain struct we own.
    unsafe {
        let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 && limit.rlim_cur < limit.rlim_max {
            limit.rlim_cur = limit.rlim_max;
            let _ = libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
        }
    }
}
