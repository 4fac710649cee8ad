//! Calls through the gateway (issue 4): P caller/callee pairs of emulated
//! HFA phones on loopback make internal calls back to back, signalling only
//! (no RTP): calls per second, setup latency (caller off-hook + digits →
//! callee ringer), and the gateway's CPU and memory. The baseline, same
//! run, same phones: each phone sends Alive Requests to the gateway in a
//! loop, the signalling round trip without call control. Prints a markdown
//! table for BENCHMARKS.md.
//!
//! ```text
//! cargo build --release -p gateway
//! cargo bench -p e2e-tests --bench hfa_calls -- --pairs 50,500 --secs 30
//! ```
//!
//! ```text
//! this process (load generator)                 child process
//! baseline: 2P RawPhone tasks, Alive ping ─TCP─► target/release/gateway run --config <temp>/gateway.toml
//! calls:    P softphone::load::pair tasks     ─TCP─►   (2P HFA clients 10000..)
//!                          run.rs samples the gateway's /proc/PID/{stat,status}
//! ```
//!
//! Without `--bench` (which `cargo bench` adds) it does nothing, so that
//! `cargo test --benches` does not make calls.

#[path = "hfa_calls/args.rs"]
mod args;
#[path = "hfa_calls/baseline.rs"]
mod baseline;
#[path = "common/mod.rs"]
mod common;
#[path = "hfa_calls/report.rs"]
mod report;
#[path = "hfa_calls/run.rs"]
mod run;

use std::process::ExitCode;

use clap::Parser as _;

use args::Args;
use common::{cli, gateway};

fn main() -> ExitCode {
    let args = Args::parse();
    cli::run("hfa_calls", &args.common, || bench(&args))
}

fn bench(args: &Args) -> anyhow::Result<()> {
    let gateway = gateway::binary(args.common.gateway.as_deref())?;
    let most = args.pairs.iter().copied().max().unwrap_or(0);
    gateway::raise_fd_limit(2 * most)?;
    let runtime = tokio::runtime::Runtime::new()?;
    let mut runs = Vec::new();
    for &pairs in &args.pairs {
        runs.push(run::run(&runtime, &gateway, pairs, args)?);
    }
    let pairs: Vec<String> = args.pairs.iter().map(usize::to_string).collect();
    let command = format!(
        "cargo build --release -p gateway && cargo bench -p e2e-tests --bench hfa_calls -- \
         --pairs {} --secs {}",
        pairs.join(","),
        args.secs
    );
    println!("{}", report::markdown(&runs, &command, &gateway));
    Ok(())
}
