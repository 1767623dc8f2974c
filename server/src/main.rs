//! The `confab` binary: reads configuration, starts telemetry, and either runs the server
//! until SIGINT/SIGTERM (holding the lock on its SQLite database) or runs an
//! administration, backup or restore subcommand; reports how it ended. It allocates with
//! jemalloc (below).

use clap::Parser;
use confab::config::{Cli, Command};
use confab::startup::Application;
use confab::{admin, telemetry};

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    telemetry::init(cli.settings.log_format, &cli.settings.log_filter);

    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            async {
                // Held until the process ends: no second server, no restore, meanwhile.
                let _lock = confab::data_lock::DataLock::acquire(&cli.settings.store_config())?;
                let app = Application::build(cli.settings).await?;
                app.run_until_stopped(confab::shutdown::signal()).await
            }
            .await
        }
        Command::User(cmd) => admin::user(&cli.settings, cmd).await,
        Command::Token(cmd) => admin::token(&cli.settings, cmd).await,
        Command::Backup { path } => confab::backup::backup(&cli.settings, path).await,
        Command::Restore { path } => confab::backup::restore(&cli.settings, path).await,
    };

    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!(cause = ?err, "confab failed");
            eprintln!("confab: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// jemalloc rather than glibc's allocator: it keeps allocations of one size together in
/// slabs of their own, so the buffers a connect burst frees (a handshake's read buffer
/// among them) leave whole pages it can give back, not holes between the pieces every
/// open connection keeps. `docs/benchmarks.md` has the A/B.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// jemalloc's options, read as it starts (`_RJEM_MALLOC_CONF` in the environment adds to
/// them). A background thread gives freed pages back once they have been unused for the
/// decay time; without it jemalloc only does that while the program allocates, so a
/// server that went quiet after a burst would keep them.
#[unsafe(export_name = "_rjem_malloc_conf")]
static ALLOCATOR_OPTIONS: &std::ffi::c_char = {
    // SAFETY: a pointer to the first byte of a `'static` C string, valid for the whole run.
    unsafe { &*c"background_thread:true,max_background_threads:1".as_ptr() }
};
