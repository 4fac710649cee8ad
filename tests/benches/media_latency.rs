//! Media latency and CPU (issue 5): the delay the softphone's media stack
//! adds, mouth to ear, on a clean loopback path, against a direct
//! device-to-device path in the same run; and CPU per active call. Prints
//! markdown tables for BENCHMARKS.md.
//!
//! ```text
//! cargo bench -p e2e-tests --bench media_latency
//! ```
//!
//! ```text
//! mouth to ear (latency.rs), all in this process, one monotonic clock:
//!   A: WavBackend(clicks.wav) ─ring─► media task ─RTP/UDP loopback─► B: media task ─ring─► WavBackend(recording)
//!      └ in-process gateway: HFA call set-up, Set Payload to A and B ┘
//!   baseline: A: WavBackend(clicks.wav) ─ring─► relay task (20 ms tick, prefill) ─ring─► B: WavBackend(recording)
//!   floor:    the same with a relay that moves each frame within 1 ms of its capture
//!   each back end is wrapped (stamped.rs) to see when its 20 ms clock ticks
//!
//! CPU (cpu.rs): 2N phones with NullBackend, N calls, /proc/self/stat over
//!   a window idle, then over a window in calls; G.711 A-law and Opus
//! ```
//!
//! Without `--bench` (which `cargo bench` adds) it does nothing, so that
//! `cargo test --benches` does not make calls.

#[path = "media_latency/args.rs"]
mod args;
#[path = "media_latency/clicks.rs"]
mod clicks;
#[path = "common/mod.rs"]
mod common;
#[path = "media_latency/cpu.rs"]
mod cpu;
#[path = "media_latency/latency.rs"]
mod latency;
#[path = "media_latency/report.rs"]
mod report;
#[path = "media_latency/spread.rs"]
mod spread;
#[path = "media_latency/stamped.rs"]
mod stamped;

use std::process::ExitCode;

use clap::Parser as _;
use gateway::clock::Clock;
use shared::hfa_engine::system::SystemTimers;
use shared::media::Codec;
use softphone::media::OPUS;
use tokio::runtime::{Builder, Runtime};

use args::Args;
use clicks::Clicks;
use common::cli;
use common::office::temp_dir;
use latency::Direct;

/// The gateway and the phones on runtimes of their own, so that the
/// process's CPU splits by thread name.
pub struct Runtimes {
    pub gateway: Runtime,
    pub phones: Runtime,
}

impl Runtimes {
    fn new() -> std::io::Result<Self> {
        Ok(Self {
            gateway: Builder::new_multi_thread()
                .worker_threads(1)
                .thread_name("gateway")
                .enable_all()
                .build()?,
            phones: Builder::new_multi_thread()
                .thread_name("phones")
                .enable_all()
                .build()?,
        })
    }
}

/// G.711 A-law first (the gateway's choice when Opus is not offered),
/// Opus first, and G.722 first (an OpenStage phone's offer).
/// The devices' tick, and the calls' packet time.
const PACKET_TIME: std::time::Duration = std::time::Duration::from_millis(20);

const G711: [Codec; 2] = [Codec::Pcma, Codec::Pcmu];
const WITH_OPUS: [Codec; 2] = [OPUS, Codec::Pcma];
const WITH_G722: [Codec; 3] = [Codec::G722, Codec::Pcma, Codec::Pcmu];

fn main() -> ExitCode {
    let args = Args::parse();
    cli::run("media_latency", &args.common, || bench(&args))
}

fn bench(args: &Args) -> anyhow::Result<()> {
    let runtimes = Runtimes::new()?;
    let latency = if args.cpu_only {
        None
    } else {
        Some(latency_part(&runtimes, args)?)
    };
    let mut cpu = Vec::new();
    if !args.latency_only {
        for codecs in [&G711[..], &WITH_OPUS[..]] {
            for &calls in &args.calls {
                cpu.push(cpu::run(&runtimes, calls, codecs, args)?);
            }
        }
    }
    let calls: Vec<String> = args.calls.iter().map(usize::to_string).collect();
    let command = format!(
        "cargo bench -p e2e-tests --bench media_latency -- --clicks {} --click-interval-ms {} \
         --repeats {} --calls {} --cpu-secs {}",
        args.clicks,
        args.click_interval_ms,
        args.repeats,
        calls.join(","),
        args.cpu_secs
    );
    println!("{}", report::markdown(&command, latency.as_ref(), &cpu));
    Ok(())
}

fn latency_part(runtimes: &Runtimes, args: &Args) -> anyhow::Result<report::Latency> {
    let dir = temp_dir("media_latency")?;
    let narrow = Clicks::new(8000, args.clicks, args.click_interval());
    let wide = Clicks::new(16_000, args.clicks, args.click_interval());
    // Columns: the baseline, the stack in G.711, in Opus and in G.722, the
    // floor; the repeats go round the columns, so that each sees the
    // machine's load of the whole run. Where B's packet-time pulls fall
    // against A's captures decides up to a packet time of each call's
    // delay; left to the set-up's timing that phase is nearly the same in
    // every call, so each round starts B's device clock another share of
    // a packet time after A's and the calls cover the phases evenly, as
    // calls between real devices do.
    let mut paths: Vec<Vec<latency::PathRun>> = vec![Vec::new(); 5];
    for repeat in 1..=args.repeats {
        let b_phase = PACKET_TIME * (repeat - 1) as u32 / args.repeats.max(1) as u32;
        eprintln!(
            "mouth to ear, round {repeat} of {}: five paths of {:.1} s",
            args.repeats,
            narrow.duration().as_secs_f64()
        );
        paths[0].push(runtimes.phones.block_on(latency::direct(
            &narrow,
            dir.path(),
            Direct::Driver,
            b_phase,
        ))?);
        let stacks = [
            (1, &G711[..], &narrow),
            (2, &WITH_OPUS[..], &wide),
            (3, &WITH_G722[..], &wide),
        ];
        for (column, codecs, clicks) in stacks {
            let gateway = runtimes.gateway.block_on(e2e_tests::start_gateway(
                Clock::system(),
                SystemTimers::default(),
            ));
            let run = runtimes.phones.block_on(latency::stack(
                gateway.hfa_addr(),
                codecs,
                clicks,
                dir.path(),
                b_phase,
            ));
            runtimes.gateway.block_on(gateway.stop());
            paths[column].push(run?);
        }
        paths[4].push(runtimes.phones.block_on(latency::direct(
            &narrow,
            dir.path(),
            Direct::Immediate,
            b_phase,
        ))?);
    }
    Ok(report::Latency { paths })
}
