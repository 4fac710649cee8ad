//! The command line of the call benchmark.

use std::time::Duration;

use clap::Parser;

use crate::common::cli::BenchOptions;

/// P caller/callee pairs of emulated HFA phones make internal calls through
/// one gateway over loopback, back to back, for `--secs`; the same phones
/// exchanging Alive Request/Response with it are the baseline.
#[derive(Debug, Parser)]
#[command(name = "hfa_calls")]
pub struct Args {
    /// Caller/callee pairs per run (2 × P phones), comma-separated: one
    /// run each, in this order.
    #[arg(long, value_delimiter = ',', default_value = "50,500")]
    pub pairs: Vec<usize>,
    /// How long the pairs make calls, seconds.
    #[arg(long, default_value_t = 30)]
    pub secs: u64,
    /// How long the baseline's phones exchange Alive Request/Response,
    /// seconds.
    #[arg(long, default_value_t = 5)]
    pub baseline_secs: u64,
    /// A registration, call step or baseline round trip that does not
    /// complete within this many seconds is an anomaly: counted, given up,
    /// and the phones go on.
    #[arg(long, default_value_t = 10)]
    pub patience_secs: u64,
    #[command(flatten)]
    pub common: BenchOptions,
}

impl Args {
    pub fn calls_period(&self) -> Duration {
        Duration::from_secs(self.secs)
    }

    pub fn baseline_period(&self) -> Duration {
        Duration::from_secs(self.baseline_secs)
    }

    pub fn patience(&self) -> Duration {
        Duration::from_secs(self.patience_secs)
    }
}
