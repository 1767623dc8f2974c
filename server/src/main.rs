//! The `confab` binary: reads configuration, starts telemetry, runs the server until
//! SIGINT/SIGTERM, and reports how it ended.

use clap::Parser;
use confab::config::Cli;
use confab::startup::Application;
use confab::telemetry;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    telemetry::init(cli.settings.log_format, &cli.settings.log_filter);

    let result = async {
        let app = Application::build(cli.settings).await?;
        app.run_until_stopped(confab::shutdown::signal()).await
    }
    .await;

    match result {
        Ok(()) => {
            tracing::info!("confab stopped");
            std::process::ExitCode::SUCCESS
        }
        Err(err) => {
            tracing::error!(cause = ?err, "confab failed");
            eprintln!("confab: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
