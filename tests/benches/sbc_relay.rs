//! The SBC relay benchmark (issue 6): how many concurrent G.711 calls the
//! RTP proxy relays on this machine with zero loss and an added relay
//! latency p99 under 1 ms, side by side with rtpengine (userspace
//! forwarding) and with the physical floor (a bare relay with the proxy's
//! I/O and none of its checks, `sbc_relay/floor.rs`) under the same load in
//! the same run. Prints a markdown table for BENCHMARKS.md.
//!
//! ```text
//! cargo bench -p e2e-tests --bench sbc_relay -- --calls 100,500,1000 --secs 20
//! ```
//!
//! One call is one channel, as in the product's most common case (a device
//! at home in a call with a LAN phone): the generator plays both ends, the
//! home end sending to the channel's public port and the LAN end to its
//! inner port (the channel anchored with the LAN end as inner peer), 50
//! packets/s each way. rtpengine gets the same calls through an ng offer
//! (the home end's SDP) and answer (the LAN end's SDP) each.
//!
//! ```text
//! this process                                                  child process
//! load::run (threads gen-send, gen-recv-home, gen-recv-lan)
//!   baseline:  home socket ──────────────────────► LAN socket (and back)
//!   proxy:     home ──► public port ─ Sbc (threads sbc-worker-*) ─ inner port ◄── LAN
//!   floor:     home ──► side A ─ Floor (threads floor-relay-*) ─── side B ◄── LAN
//!   rtpengine: home ──► port B ─────────────────────────── port A ◄── LAN     rtpengine --table=-1
//! ```
//!
//! Without `--bench` (which `cargo bench` adds) it does nothing.

#[path = "common/mod.rs"]
mod common;
#[path = "sbc_relay/floor.rs"]
mod floor;
#[path = "sbc_relay/load.rs"]
mod load;
#[path = "sbc_relay/report.rs"]
mod report;
#[path = "sbc_relay/rtpengine.rs"]
mod rtpengine;

use std::net::{IpAddr, Ipv4Addr};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use clap::Parser;
use gateway::config::system::RtpRange;
use gateway::sbc::{AnnouncedPorts, ChannelId, DeviceSource, Sbc, SbcConfig};

use common::cli::{self, BenchOptions};
use common::procfs::{self, Process};
use load::{Ends, Outcome, Targets};

/// G.711 calls relayed through the SBC's RTP proxy and through rtpengine,
/// against the generator's own socket-to-socket baseline.
#[derive(Debug, Parser)]
#[command(name = "sbc_relay")]
struct Args {
    /// Concurrent calls per run, comma-separated, in this order.
    #[arg(long, value_delimiter = ',', default_value = "100,500,1000")]
    calls: Vec<usize>,
    /// Measured seconds per run (after a 1 s warm-up that latches).
    #[arg(long, default_value_t = 20)]
    secs: u64,
    /// The proxy's first public port (channel i: first + 2i, + 1).
    #[arg(long, default_value_t = 20_000)]
    first_port: u16,
    /// Skip rtpengine (when it is not installed).
    #[arg(long)]
    no_rtpengine: bool,
    #[command(flatten)]
    common: BenchOptions,
}

/// Which path a run measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Path {
    Baseline,
    Proxy,
    Floor,
    Rtpengine,
}

/// One measured run.
#[derive(Debug)]
pub struct Run {
    pub path: Path,
    pub calls: usize,
    pub outcome: Outcome,
    /// CPU of the relay over the measured period (the SBC's worker
    /// threads, the floor's threads, or the rtpengine process); none for
    /// the baseline.
    pub relay_cpu: Option<Duration>,
    /// CPU of the generator's threads over the measured period.
    pub generator_cpu: Duration,
}

const WARMUP: Duration = Duration::from_secs(1);

fn main() -> ExitCode {
    let args = Args::parse();
    cli::run("sbc_relay", &args.common, || bench(&args))
}

fn bench(args: &Args) -> anyhow::Result<()> {
    let most = args.calls.iter().copied().max().unwrap_or(0);
    // Two sockets per channel side, one per floor side, plus rtpengine's
    // (its own process).
    common::gateway::raise_fd_limit(6 * most)?;
    let channels = u16::try_from(most).context("at most 65,535 calls")?;
    let last = u32::from(args.first_port) + 2 * u32::from(channels) - 1;
    let config = SbcConfig {
        public_bind: IpAddr::V4(Ipv4Addr::LOCALHOST),
        rtp_range: RtpRange {
            first: args.first_port,
            last: u16::try_from(last).context("the port range passes 65535")?,
        },
        channels,
        inner_bind: IpAddr::V4(Ipv4Addr::LOCALHOST),
        learning_window: Duration::from_secs(10),
        probation: 3,
        announced_preference: Duration::from_secs(1),
        idle_timeout: Duration::from_secs(30),
    };
    let workers = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
    let sbc = Sbc::start_with_workers(config, workers)?;
    let log_dir = common::office::temp_dir("sbc_relay")?;
    let mut engine = if args.no_rtpengine {
        None
    } else {
        Some(rtpengine::Rtpengine::start(
            &log_dir.path().join("rtpengine.log"),
        )?)
    };
    let measure = Duration::from_secs(args.secs);
    let mut runs = Vec::new();
    for &calls in &args.calls {
        eprintln!("{calls} calls: baseline");
        runs.push(baseline(calls, measure)?);
        eprintln!("{calls} calls: proxy");
        runs.push(proxy(&sbc, calls, measure)?);
        eprintln!("{calls} calls: floor");
        runs.push(floor_run(calls, workers, measure)?);
        if let Some(engine) = engine.as_mut() {
            eprintln!("{calls} calls: rtpengine");
            runs.push(rtpengine_run(engine, calls, measure)?);
        }
    }
    let version = engine.as_ref().map(|engine| engine.version.clone());
    drop(engine);
    let calls: Vec<String> = args.calls.iter().map(usize::to_string).collect();
    let command = format!(
        "cargo bench -p e2e-tests --bench sbc_relay -- --calls {} --secs {}",
        calls.join(","),
        args.secs
    );
    println!(
        "{}",
        report::markdown(&runs, &command, workers, version.as_deref())
    );
    Ok(())
}

/// The generator's CPU so far: this process but the SBC's workers and the
/// floor's threads (the main thread sleeps; the generator's threads may
/// have ended, so their time is read from the process's total).
fn generator_cpu() -> Duration {
    let process = procfs::usage(Process::Current).map_or(Duration::ZERO, |usage| usage.cpu);
    process
        .saturating_sub(threads_cpu("sbc-worker"))
        .saturating_sub(threads_cpu(floor::THREAD))
}

fn threads_cpu(prefix: &str) -> Duration {
    procfs::thread_cpu(Process::Current)
        .unwrap_or_default()
        .into_iter()
        .filter(|(name, _)| name.starts_with(prefix))
        .map(|(_, cpu)| cpu)
        .sum()
}

/// Runs the load on `targets`, sampling `relay` CPU (and the generator's)
/// over the measured period.
fn measured(
    path: Path,
    ends: &Ends,
    targets: &Targets,
    measure: Duration,
    relay: impl Fn() -> Option<Duration>,
) -> anyhow::Result<Run> {
    let mut samples = Vec::new();
    let outcome = load::run(ends, targets, WARMUP, measure, |_| {
        samples.push((relay(), generator_cpu()));
    })?;
    let (start, end) = match samples.as_slice() {
        [start, end] => (*start, *end),
        _ => anyhow::bail!("the load did not sample its start and end"),
    };
    let relay_cpu = match (start.0, end.0) {
        (Some(a), Some(b)) => Some(b.saturating_sub(a)),
        _ => None,
    };
    Ok(Run {
        path,
        calls: targets.home_to.len(),
        outcome,
        relay_cpu,
        generator_cpu: end.1.saturating_sub(start.1),
    })
}

/// The generator alone: each end sends straight to the other.
fn baseline(calls: usize, measure: Duration) -> anyhow::Result<Run> {
    let ends = Ends::bind()?;
    let targets = Targets {
        home_to: vec![ends.lan_addr(); calls],
        lan_to: vec![ends.home_addr(); calls],
    };
    measured(Path::Baseline, &ends, &targets, measure, || None)
}

/// Our proxy: call i on channel i, anchored with the LAN end as inner peer.
fn proxy(sbc: &Arc<Sbc>, calls: usize, measure: Duration) -> anyhow::Result<Run> {
    let ends = Ends::bind()?;
    let lan = ends.lan_addr();
    // Every home end sends from one socket, the port it "announced".
    let home = ends.home_addr();
    let device = DeviceSource {
        ip: home.ip(),
        announced: Some(AnnouncedPorts {
            rtp: home.port(),
            rtcp: home.port().saturating_add(1),
        }),
    };
    let ids: Vec<ChannelId> = (0..calls)
        .map(|i| u16::try_from(i).map(ChannelId))
        .collect::<Result<_, _>>()?;
    for &id in &ids {
        sbc.anchor(id, Some((lan, lan)), device);
    }
    let targets = Targets {
        home_to: ids.iter().map(|&id| sbc.public_rtp(id)).collect(),
        lan_to: ids.iter().map(|&id| sbc.inner(id).0).collect(),
    };
    let run = measured(Path::Proxy, &ends, &targets, measure, || {
        Some(threads_cpu("sbc-worker"))
    });
    for &id in &ids {
        sbc.release(id);
    }
    run
}

/// The floor: call i on pair i of a bare relay with as many threads as the
/// proxy has workers, its CPU read per thread as the proxy's.
fn floor_run(calls: usize, threads: usize, measure: Duration) -> anyhow::Result<Run> {
    let ends = Ends::bind()?;
    let floor = floor::Floor::start(calls, threads)?;
    let targets = Targets {
        home_to: floor.sides.iter().map(|&(a, _)| a).collect(),
        lan_to: floor.sides.iter().map(|&(_, b)| b).collect(),
    };
    measured(Path::Floor, &ends, &targets, measure, || {
        Some(threads_cpu(floor::THREAD))
    })
}

/// rtpengine: an offer (home end) and an answer (LAN end) per call.
fn rtpengine_run(
    engine: &mut rtpengine::Rtpengine,
    calls: usize,
    measure: Duration,
) -> anyhow::Result<Run> {
    let ends = Ends::bind()?;
    let (home, lan) = (ends.home_addr(), ends.lan_addr());
    let mut targets = Targets {
        home_to: Vec::with_capacity(calls),
        lan_to: Vec::with_capacity(calls),
    };
    for call in 0..calls {
        let (home_to, lan_to) = engine.call(call, home, lan)?;
        targets.home_to.push(home_to);
        targets.lan_to.push(lan_to);
    }
    let run = measured(Path::Rtpengine, &ends, &targets, measure, || {
        engine.usage().ok().map(|usage| usage.cpu)
    });
    for call in 0..calls {
        engine.delete(call)?;
    }
    run
}
