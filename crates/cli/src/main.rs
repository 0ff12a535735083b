//! # identitymesh
//!
//! The one binary: configuration, logging, wiring and subcommands. It is the only crate that
//! uses `anyhow`; every library crate reports typed errors that this binary turns into
//! messages and exit codes.

mod commands;
mod context;
mod output;
mod progress;
mod sample;

/// mimalloc: a sync allocates and frees many small strings and maps per object, and glibc
/// malloc was a fifth of its CPU time.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

/// IdentityMesh: identity synchronization — HR, directories, databases and apps kept consistent.
#[derive(Parser, Debug)]
#[command(name = "identitymesh", version, about, long_about = None)]
pub struct Cli {
    /// Data directory: the embedded database, the example configuration, files of CSV connectors.
    #[arg(
        long,
        global = true,
        env = "IDENTITYMESH_DATA_DIR",
        default_value = "identitymesh-data"
    )]
    pub data_dir: PathBuf,
    /// Database URL: sqlite:PATH or postgres://USER@HOST:PORT/DB (default: SQLite in the data directory).
    #[arg(long, global = true, env = "IDENTITYMESH_DATABASE_URL")]
    pub database: Option<String>,
    /// Log filter (error, warn, info, debug, trace, or a tracing filter such as identitymesh_engine=debug).
    #[arg(long, global = true, env = "IDENTITYMESH_LOG", default_value = "warn")]
    pub log: String,
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Create a data directory with the example configuration and fictional data, run a full cycle, print what happened.
    Quickstart(commands::quickstart::Args),
    /// Run one profile on one connector: full-import, delta-import, full-sync, delta-sync or export.
    Run(commands::run::Args),
    /// Run a named cycle of the active configuration (default: "default").
    Cycle(commands::run::CycleArgs),
    /// Apply pending database migrations.
    Migrate,
    /// Configuration as code: example, check, apply, export.
    #[command(subcommand)]
    Config(commands::config::ConfigCommand),
    /// The Sync Engine and the Admin API in the foreground: queued runs, the cycle on an interval, the API and UI; Ctrl-C stops it.
    Serve(commands::serve::Args),
    /// The Sync Engine alone, without the Admin API.
    Engine(commands::serve::Args),
    /// Approve or reject taking over an existing target object that matched a mesh object.
    Adopt(commands::adopt::Args),
    /// Benchmark: N synthetic persons through full import, full sync and export; one JSON line per phase.
    Bench(commands::bench::Args),
    /// Connector secrets and key ceremonies: set, list, delete, check, export-key, import-key, rotate, use-shared-key.
    #[command(subcommand)]
    Secrets(commands::secrets::SecretsCommand),
    /// The license: show, install FILE, verify [FILE].
    #[command(subcommand)]
    License(commands::license::LicenseCommand),
    /// The Admin API alone (REST under /api/v1, health, metrics); `serve` runs it with the engine.
    AdminApi(commands::admin_api::ListenArgs),
    /// Users of the Admin API: add NAME --role R (password from standard input).
    #[command(subcommand)]
    Users(commands::users::UsersCommand),
    /// TLS certificates for the Admin API: self-signed --host NAME --out DIR for a first HTTPS run.
    #[command(subcommand)]
    Certs(commands::certs::CertsCommand),
    /// The relay agent on a remote host: run --hub URL [--enroll-token T], secrets set NAME.
    #[command(subcommand)]
    Relay(commands::relay::RelayCommand),
}

fn main() -> ExitCode {
    // a usage error exits 1 (failed), not clap's 2, which here means "held by a guard"
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(u8::from(e.use_stderr()));
        }
    };
    context::init_logging(&cli.log);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(commands::dispatch(cli)) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    /// clap checks every subcommand's arguments (unique names and groups, valid defaults).
    #[test]
    fn the_command_line_is_well_formed() {
        super::Cli::command().debug_assert();
    }
}
