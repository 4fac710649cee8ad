//! The `gateway` binary: parses the command line and calls the library.

mod cli;

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use clap::Parser as _;
use gateway::config::net::StunServer;
use gateway::config::{self, ValidatedConfig, embedded};
use gateway::gateway::{Gateway, StartOptions};
use gateway::status::Request;
use gateway::stun;
use gateway::trace::Traces;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::prelude::*;

use cli::{Cli, Command, TraceSwitch};

#[tokio::main]
async fn main() -> ExitCode {
    let traces = Traces::new();
    let log = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()));
    tracing_subscriber::registry()
        .with(log)
        .with(traces.layer().filtered())
        .init();
    let result = match Cli::parse().command {
        Command::CheckConfig { file } => return check_config(&file),
        Command::Init { file, force } => init(&file, force),
        Command::Run { config, capture } => {
            run(config.as_deref(), capture.as_deref(), traces).await
        }
        Command::Status { config } => status(config.as_deref()).await,
        Command::Trace {
            switch,
            profile,
            config,
        } => {
            let on = switch == TraceSwitch::Enable;
            ask(config.as_deref(), Request::Trace { profile, on }).await
        }
        Command::NatCheck { config, stun } => nat_check(config.as_deref(), stun.as_deref()).await,
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

async fn run(
    file: Option<&Path>,
    capture: Option<&Path>,
    traces: Arc<Traces>,
) -> anyhow::Result<()> {
    let config = load_for_run(file)?;
    print!("{}", config.summary());
    raise_open_file_limit(&config);
    let data_dir = prepare_data_dir(&config)?;
    start_traces(&traces, &config, &data_dir);
    let hfa_addr = config.hfa_addr();
    let (https_addr, rtp_ports) = (config.https_addr(), config.rtp_ports());
    // The company router's NAT type, checked once at start (guide 3.3).
    let stun_server = config.effective_stun().server().cloned();
    let status_socket = Some(gateway::status::socket_path(&data_dir));
    let capture = match capture {
        Some(path) => Some(
            shared::capture::Capture::create(path)
                .with_context(|| format!("--capture {}", path.display()))?,
        ),
        None => None,
    };
    let options = StartOptions {
        capture: capture.clone(),
        portal_listen: Some(https_addr),
        status_socket,
        traces: Some(traces),
        ..StartOptions::default()
    };
    let gateway = Gateway::start(config, options)
        .await
        .with_context(|| format!("cannot start (HFA TCP {hfa_addr}, HTTPS TCP {https_addr})"))?;
    println!(
        "listening: HFA TCP {}, HTTPS TCP {} (certificate SHA-256 {}), RTP UDP {rtp_ports}; Ctrl-C stops",
        gateway.hfa_addr(),
        gateway
            .portal_addr()
            .map_or_else(|| https_addr.to_string(), |addr| addr.to_string()),
        gateway.portal_fingerprint().unwrap_or("none"),
    );
    let nat_check = stun_server.map(|server| tokio::spawn(stun::log_nat_check(server)));
    tokio::signal::ctrl_c().await?;
    if let Some(task) = nat_check {
        task.abort();
    }
    println!(
        "stopping: closing {} phone connections",
        gateway.registered_phones()
    );
    gateway.stop().await;
    if let Some(capture) = capture
        && capture.dropped() > 0
    {
        println!(
            "capture: {} records dropped (the writer fell behind)",
            capture.dropped()
        );
    }
    println!("stopped");
    Ok(())
}

async fn nat_check(file: Option<&Path>, stun: Option<&str>) -> anyhow::Result<()> {
    let server = match (stun, file) {
        (Some(text), _) => StunServer::parse(text).map_err(|reason| {
            anyhow::anyhow!("--stun \"{text}\": not a STUN server host[:port]: {reason}")
        })?,
        (None, Some(file)) => {
            let config = config::load_file(file)?;
            config.effective_stun().server().cloned().with_context(|| {
                format!(
                    "{} names no STUN server (stun.server, or an ITSP's stun_server): give \
                     --stun HOST:PORT (guide 2.4)",
                    file.display()
                )
            })?
        }
        (None, None) => anyhow::bail!("give --stun HOST:PORT or --config FILE"),
    };
    println!(
        "NAT check of the {} via STUN server {server}",
        stun::COMPANY_ROUTER
    );
    let behaviour = stun::nat_check(&server).await?;
    for line in behaviour.report(stun::COMPANY_ROUTER) {
        println!("{line}");
    }
    if behaviour.is_symmetric() {
        anyhow::bail!("symmetric NAT: Device@Home will not work through this router");
    }
    if behaviour.mapping.is_err() {
        anyhow::bail!("the NAT type could not be determined");
    }
    Ok(())
}

async fn status(file: Option<&Path>) -> anyhow::Result<()> {
    ask(file, Request::Status).await
}

/// Sends `request` to the running gateway of `file`'s data directory and
/// prints the answer; an error answer fails.
async fn ask(file: Option<&Path>, request: Request) -> anyhow::Result<()> {
    let data_dir = match file {
        Some(file) => config::load_file(file)?.data_dir()?,
        None => config::data_dir::default_data_dir()?,
    };
    let path = gateway::status::socket_path(&data_dir);
    let answer = gateway::status::request(&data_dir, request)
        .await
        .with_context(|| {
            format!(
                "no gateway answers at {} (is `gateway run` running with this configuration?)",
                path.display()
            )
        })?;
    match answer.strip_prefix(gateway::status::ERROR) {
        Some(reason) => anyhow::bail!("{}", reason.trim_end()),
        None => print!("{answer}"),
    }
    Ok(())
}

/// Trace files go to DATA_DIR/traces; the configured profiles are on.
fn start_traces(traces: &Traces, config: &ValidatedConfig, data_dir: &Path) {
    let section = &config.config().trace;
    traces.set_directory(&data_dir.join("traces"), section.rotation());
    for profile in &section.enabled {
        match traces.set(*profile, true) {
            Ok(path) => println!("trace {profile}: {}", path.display()),
            Err(error) => tracing::warn!("trace {profile}: {error}"),
        }
    }
}

/// Descriptors besides the connections: RTP sockets, the status socket,
/// certificate and configuration files.
const SPARE_FDS: u64 = 256;

/// Raises the soft open-file limit (often 1024) to what the connection
/// limits need, so that a flood of connections meets the gateway's limits
/// and not the kernel's: an accept that fails for want of a descriptor
/// refuses everyone, the company's phones included.
fn raise_open_file_limit(config: &ValidatedConfig) {
    let rtp = u64::from(config.rtp_proxy_channels()) * 4;
    let needed = (config.clients().len()
        + gateway::hfa::UNREGISTERED_ROOM
        + gateway::portal::server::MAX_CONNECTIONS) as u64
        + rtp
        + SPARE_FDS;
    match rlimit::increase_nofile_limit(needed) {
        Ok(limit) if limit >= needed => {}
        Ok(limit) => tracing::warn!(
            "the open-file limit is {limit}, the connection limits need {needed}: a flood of \
             connections could leave none for the phones; raise the hard limit (`ulimit -Hn`)"
        ),
        Err(error) => tracing::warn!("cannot raise the open-file limit to {needed}: {error}"),
    }
}

/// The gateway's data directory, created private (0700) if missing.
fn prepare_data_dir(config: &ValidatedConfig) -> anyhow::Result<std::path::PathBuf> {
    use std::os::unix::fs::DirBuilderExt as _;
    let dir = config.data_dir()?;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&dir)
        .with_context(|| format!("cannot create the data directory {}", dir.display()))?;
    Ok(dir)
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
