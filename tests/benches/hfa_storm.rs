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
//! phones::Fleet: N HfaClient tasks ──TCP──► target/release/gateway run --config <temp>/gateway.toml
//! echo::storm:   N plain connections ─TCP─► hfa_storm --echo-server
//!                          run.rs samples the children's /proc/PID/{stat,status}
//! ```
//!
//! Without `--bench` (which `cargo bench` adds) it does nothing, so that
//! `cargo test --benches` does not start a storm.

#[path = "hfa_storm/args.rs"]
mod args;
#[path = "hfa_storm/child.rs"]
mod child;
#[path = "hfa_storm/echo.rs"]
mod echo;
#[path = "hfa_storm/office.rs"]
mod office;
#[path = "hfa_storm/phones.rs"]
mod phones;
#[path = "hfa_storm/procfs.rs"]
mod procfs;
#[path = "hfa_storm/report.rs"]
mod report;
#[path = "hfa_storm/run.rs"]
mod run;
#[path = "hfa_storm/stats.rs"]
mod stats;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use clap::Parser as _;

use args::Args;

/// File descriptors per process beyond one per connection.
const SPARE_FDS: u64 = 1024;

fn main() -> ExitCode {
    let args = Args::parse();
    let result = if args.echo_server {
        echo::serve(args.listen_backlog)
    } else if args.bench {
        bench(&args)
    } else {
        eprintln!(
            "hfa_storm: a benchmark, skipped without --bench; run it with \
             `cargo bench -p e2e-tests --bench hfa_storm`"
        );
        Ok(())
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn bench(args: &Args) -> anyhow::Result<()> {
    let gateway = gateway_binary(args)?;
    let most = args.phones.iter().copied().max().unwrap_or(0);
    raise_fd_limit(most as u64 + SPARE_FDS)?;
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

/// `--gateway`, or `gateway` in the target directory of this bench
/// (target/release/deps/hfa_storm-* → target/release/gateway).
fn gateway_binary(args: &Args) -> anyhow::Result<PathBuf> {
    if let Some(path) = &args.gateway {
        return Ok(path.clone());
    }
    let me = std::env::current_exe().context("cannot find this bench's executable")?;
    let profile_dir = me
        .parent()
        .and_then(|deps| deps.parent())
        .context("the bench does not run from a target directory")?;
    let gateway = profile_dir.join("gateway");
    if !gateway.is_file() {
        bail!(
            "no gateway binary at {}: build it first with `cargo build --release -p gateway` \
             (or pass --gateway PATH)",
            gateway.display()
        );
    }
    Ok(gateway)
}

/// Each process (this one, the gateway, the echo server, which inherit the
/// limit) holds one descriptor per connection: raise the soft limit up to
/// the hard one if needed.
fn raise_fd_limit(needed: u64) -> anyhow::Result<()> {
    let limit =
        rlimit::increase_nofile_limit(needed).context("cannot raise the open-file limit")?;
    if limit < needed {
        bail!(
            "the open-file limit is {limit}, {needed} are needed: raise the hard limit \
             (e.g. `ulimit -Hn {needed}` as root, or in /etc/security/limits.conf)"
        );
    }
    Ok(())
}
