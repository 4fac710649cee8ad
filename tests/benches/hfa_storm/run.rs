//! One run for N phones: the echo baseline, then the HFA storm and the
//! keepalive period against a gateway child process, with the servers'
//! CPU and memory sampled from /proc between the phases.
//!
//! Clean-up holds on every path: the phones are stopped before the
//! gateway, the server children are killed on drop if still running, and
//! the temp dir (config, gateway log) is removed on drop.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use softphone::load::fleet::{AliveOutcome, Fleet, StormOutcome};
use tokio::runtime::Runtime;

use crate::args::Args;
use crate::common::child::ServerChild;
use crate::common::gateway::{GatewayChild, STARTUP_PATIENCE, STOP_PATIENCE};
use crate::common::office::{self, Phone};
use crate::common::procfs::{self, Process, TcpCounters, Usage};
use crate::echo::{self, EchoOutcome};

/// The echo baselines' listen backlogs: tokio's default (as the gateway's
/// HFA listener), and the kernel's cap `net.core.somaxconn` (default 4096).
const BASELINE_BACKLOGS: [u32; 2] = [128, 4096];

/// Everything measured for one N.
#[derive(Debug)]
pub struct Run {
    pub phones: usize,
    /// One per [`BASELINE_BACKLOGS`].
    pub echo: Vec<EchoRun>,
    pub hfa: HfaRun,
}

#[derive(Debug)]
pub struct EchoRun {
    pub backlog: u32,
    pub outcome: EchoOutcome,
    pub tcp: TcpCounters,
    pub server_cpu: Duration,
    pub server_peak_rss_kib: u64,
}

#[derive(Debug)]
pub struct HfaRun {
    /// Gateway spawn to its `listening:` line (includes config validation).
    pub startup: Duration,
    /// The gateway right after start-up, after the storm, after the
    /// keepalive period.
    pub idle: Usage,
    pub after_storm: Usage,
    pub after_alive: Usage,
    /// CPU of this process (the phones) during the storm.
    pub generator_storm_cpu: Duration,
    pub storm: StormOutcome,
    /// The kernel's accept-queue counters during the storm.
    pub storm_tcp: TcpCounters,
    pub alive: AliveOutcome,
    pub alive_period: Duration,
    /// Lines the gateway logged (RUST_LOG=warn).
    pub log_lines: usize,
}

pub fn run(runtime: &Runtime, gateway: &Path, phones: usize, args: &Args) -> anyhow::Result<Run> {
    let mut echo = Vec::new();
    for backlog in BASELINE_BACKLOGS {
        eprintln!("{phones} connections: echo baseline, listen backlog {backlog}");
        echo.push(baseline(runtime, phones, backlog, args)?);
    }
    eprintln!(
        "{phones} phones: HFA registration storm, then {args_alive} s of keepalives",
        args_alive = args.alive_secs
    );
    let hfa = hfa(runtime, gateway, phones, args)?;
    Ok(Run { phones, echo, hfa })
}

fn baseline(
    runtime: &Runtime,
    connections: usize,
    backlog: u32,
    args: &Args,
) -> anyhow::Result<EchoRun> {
    let mut command = Command::new(std::env::current_exe()?);
    command
        .arg("--echo-server")
        .arg(format!("--listen-backlog={backlog}"));
    let server = ServerChild::start("echo server", command, STARTUP_PATIENCE)?;
    let address = server.address("ECHO TCP")?;
    let before = server.usage()?;
    let tcp_before = TcpCounters::now();
    let outcome = runtime.block_on(echo::storm(address, connections, args.storm_timeout()));
    let tcp = TcpCounters::now().since(tcp_before);
    let after = server.usage()?;
    server.stop(STOP_PATIENCE)?;
    Ok(EchoRun {
        backlog,
        outcome,
        tcp,
        server_cpu: after.cpu.saturating_sub(before.cpu),
        server_peak_rss_kib: after.peak_rss_kib,
    })
}

fn hfa(runtime: &Runtime, binary: &Path, count: usize, args: &Args) -> anyhow::Result<HfaRun> {
    let phones = office::phones(count);
    let gateway = GatewayChild::start(binary, &phones, "hfa_storm")?;
    let address = gateway.hfa_address()?;
    let mut run = runtime.block_on(storm_and_keep_alive(address, &phones, &gateway, args))?;
    run.startup = gateway.startup();
    run.log_lines = gateway.stop()?;
    Ok(run)
}

/// The phones' whole life: started, registered, kept alive, stopped.
async fn storm_and_keep_alive(
    address: std::net::SocketAddr,
    phones: &[Phone],
    gateway: &GatewayChild,
    args: &Args,
) -> anyhow::Result<HfaRun> {
    let accounts = phones
        .iter()
        .map(|phone| phone.account(address))
        .collect::<Result<Vec<_>, _>>()?;
    let idle = gateway.usage()?;
    let generator_before = procfs::usage(Process::Current)?;
    let tcp_before = TcpCounters::now();
    let mut fleet = Fleet::start(accounts);
    let storm = fleet.until_registered(args.storm_timeout()).await;
    let storm_tcp = TcpCounters::now().since(tcp_before);
    let after_storm = gateway.usage();
    let generator_after = procfs::usage(Process::Current);
    let alive = fleet.keep_alive(args.alive()).await;
    let after_alive = gateway.usage();
    fleet.stop().await;
    Ok(HfaRun {
        startup: Duration::ZERO,
        idle,
        after_storm: after_storm?,
        after_alive: after_alive?,
        generator_storm_cpu: generator_after?.cpu.saturating_sub(generator_before.cpu),
        storm,
        storm_tcp,
        alive,
        alive_period: args.alive(),
        log_lines: 0,
    })
}
