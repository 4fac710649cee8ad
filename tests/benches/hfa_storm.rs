//! The HFA registration storm (issue 3): N emulated HFA phones register to
//! one gateway over loopback, all at once, then stay registered for a
//! keepalive period; a plain connect + 14-byte echo against a trivial tokio
//! server, same N, same timing, is the baseline. Prints a markdown table
//! for BENCHMARKS.md.
//!
//! ```text
//! cargo build --release -p gateway
//! cargo bench -p e2e-tests --bench hfa_storm -- --phones 1000,10000 --alive-secs 60
//! ```
//!
//! ```text
//! this process (load generator)            child processes
//! load::Fleet:   N HfaClient tasks ──TCP──► target/release/gateway run --config <temp>/gateway.toml
//! echo::storm:   N plain connections ─TCP─► hfa_storm --echo-server
//!                          run.rs samples the children's /proc/PID/{stat,status}
//! ```
//!
//! Without `--bench` (which `cargo bench` adds) it does nothing, so that
//! `cargo test --benches` does not start a storm.

#[path = "hfa_storm/args.rs"]
mod args;
#[path = "common/mod.rs"]
mod common;
#[path = "hfa_storm/echo.rs"]
mod echo;
#[path = "hfa_storm/report.rs"]
mod report;
#[path = "hfa_storm/run.rs"]
mod run;

use std::process::ExitCode;

use clap::Parser as _;

use args::Args;
use common::{cli, gateway};

fn main() -> ExitCode {
    let args = Args::parse();
    if args.echo_server {
        return cli::exit_code(echo::serve(args.listen_backlog));
    }
    cli::run("hfa_storm", &args.common, || bench(&args))
}

fn bench(args: &Args) -> anyhow::Result<()> {
    let gateway = gateway::binary(args.common.gateway.as_deref())?;
    let most = args.phones.iter().copied().max().unwrap_or(0);
    gateway::raise_fd_limit(most)?;
    let runtime = tokio::runtime::Runtime::new()?;
    let mut runs = Vec::new();
    for &phones in &args.phones {
        runs.push(run::run(&runtime, &gateway, phones, args)?);
    }
    let phones: Vec<String> = args.phones.iter().map(usize::to_string).collect();
    let command = format!(
        "cargo build --release -p gateway && cargo bench -p e2e-tests --bench hfa_storm -- \
         --phones {} --alive-secs {}",
        phones.join(","),
        args.alive_secs
    );
    println!("{}", report::markdown(&runs, &command, &gateway));
    Ok(())
}
