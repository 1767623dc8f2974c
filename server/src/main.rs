//! The `confab` binary: reads configuration, starts telemetry, and either runs the server
//! until SIGINT/SIGTERM (holding the lock on its SQLite database) or runs an
//! administration, backup or restore subcommand; reports how it ended.

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
