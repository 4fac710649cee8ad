//! The `gateway` binary: parses the command line and calls the library.

mod cli;

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::Parser as _;
use gateway::config::{self, ValidatedConfig, embedded};
use gateway::gateway::{Gateway, StartOptions};
use tracing_subscriber::EnvFilter;

use cli::{Cli, Command};

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .with_writer(std::io::stderr)
        .init();
    let result = match Cli::parse().command {
        Command::CheckConfig { file } => return check_config(&file),
        Command::Init { file, force } => init(&file, force),
        Command::Run { config } => run(config.as_deref()).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn check_config(file: &Path) -> ExitCode {
    match config::load_file(file) {
        Ok(config) => {
            print!("{}", config.summary());
            ExitCode::SUCCESS
        }
        Err(errors) => {
            eprintln!("{errors}");
            ExitCode::FAILURE
        }
    }
}

fn init(file: &Path, force: bool) -> anyhow::Result<()> {
    config::init::write_example(file, force)?;
    println!("{}", file.display());
    Ok(())
}

async fn run(file: Option<&Path>) -> anyhow::Result<()> {
    let config = load_for_run(file)?;
    print!("{}", config.summary());
    let hfa_addr = config.hfa_addr();
    let (https_addr, rtp_ports) = (config.https_addr(), config.rtp_ports());
    let gateway = Gateway::start(config, StartOptions::default())
        .await
        .with_context(|| format!("cannot listen for HFA on TCP {hfa_addr}"))?;
    println!(
        "listening: HFA TCP {}, HTTPS TCP {https_addr} (not served yet), RTP UDP {rtp_ports}; Ctrl-C stops",
        gateway.hfa_addr(),
    );
    tokio::signal::ctrl_c().await?;
    println!(
        "stopping: closing {} phone connections",
        gateway.registered_phones()
    );
    gateway.stop().await;
    println!("stopped");
    Ok(())
}

fn load_for_run(file: Option<&Path>) -> anyhow::Result<ValidatedConfig> {
    if let Some(file) = file {
        println!("config: {}", file.display());
        return Ok(config::load_file(file)?);
    }
    let loaded = embedded::load(&config::data_dir::default_data_dir()?)?;
    println!("config: built-in default (listens on loopback only)");
    println!("client passwords: {}", loaded.passwords_file.display());
    Ok(loaded.config)
}
