//! The command line of the storm benchmark.

use std::time::Duration;

use clap::Parser;

use crate::common::cli::BenchOptions;

/// N emulated HFA phones register to one gateway over loopback, all at
/// once, then stay registered with keepalives; the same N connections
/// against a trivial echo server are the baseline.
#[derive(Debug, Parser)]
#[command(name = "hfa_storm")]
pub struct Args {
    /// Phones per run, comma-separated: one storm each, in this order.
    #[arg(long, value_delimiter = ',', default_value = "1000,10000")]
    pub phones: Vec<usize>,
    /// How long the registered phones keep alive after the storm, seconds.
    #[arg(long, default_value_t = 60)]
    pub alive_secs: u64,
    /// Stop waiting for registrations (or echoes) after this many seconds.
    #[arg(long, default_value_t = 120)]
    pub storm_timeout_secs: u64,
    #[command(flatten)]
    pub common: BenchOptions,
    /// Internal: serve as the baseline's echo server (the bench starts
    /// itself as a child process with this flag).
    #[arg(long, hide = true)]
    pub echo_server: bool,
    /// Internal: the echo server's listen backlog.
    #[arg(long, hide = true, default_value_t = 128)]
    pub listen_backlog: u32,
}

impl Args {
    pub fn alive(&self) -> Duration {
        Duration::from_secs(self.alive_secs)
    }

    pub fn storm_timeout(&self) -> Duration {
        Duration::from_secs(self.storm_timeout_secs)
    }
}
