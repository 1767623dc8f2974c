//! The `confab` binary: reads configuration, starts telemetry, and either runs the server
//! until SIGINT/SIGTERM or runs an administration subcommand; reports how it ended.

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
                let app = Application::build(cli.settings).await?;
                app.run_until_stopped(confab::shutdown::signal()).await
            }
            .await
        }
        Command::User(cmd) => admin::user(&cli.settings, cmd).await,
        Command::Token(cmd) => admin::token(&cli.settings, cmd).await,
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
