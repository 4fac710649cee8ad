//! The command line of the media benchmark.

use std::time::Duration;

use clap::Parser;

use crate::common::cli::BenchOptions;

/// Mouth-to-ear delay of a call between two softphones with WAV devices
/// (clicks in, recording out) against a direct device-to-device path, and
/// CPU per active call with N calls in this process.
#[derive(Debug, Parser)]
#[command(name = "media_latency")]
pub struct Args {
    /// Clicks in the played file (one every `--click-interval-ms`).
    #[arg(long, default_value_t = 10)]
    pub clicks: usize,
    /// Time between clicks, ms.
    #[arg(long, default_value_t = 1500)]
    pub click_interval_ms: u64,
    /// Calls (or direct-path runs) per path. Round r of R starts B's device
    /// clock 20 ms × (r − 1) / R after A's (mod 20 ms), so the calls cover
    /// the phases between the two device clocks evenly (each phase decides
    /// up to a packet time of a call's delay).
    #[arg(long, default_value_t = 10)]
    pub repeats: usize,
    /// Concurrent calls per CPU run (2 × N phones), comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "1,10,50")]
    pub calls: Vec<usize>,
    /// How long the CPU of N calls (and of the idle phones) is measured, s.
    #[arg(long, default_value_t = 20)]
    pub cpu_secs: u64,
    /// Wait after the last call started before measuring, s.
    #[arg(long, default_value_t = 2)]
    pub settle_secs: u64,
    /// Only the mouth-to-ear part.
    #[arg(long, conflicts_with = "cpu_only")]
    pub latency_only: bool,
    /// Only the CPU part.
    #[arg(long)]
    pub cpu_only: bool,
    #[command(flatten)]
    pub common: BenchOptions,
}

impl Args {
    pub fn click_interval(&self) -> Duration {
        Duration::from_millis(self.click_interval_ms)
    }

    pub fn cpu_period(&self) -> Duration {
        Duration::from_secs(self.cpu_secs)
    }

    pub fn settle(&self) -> Duration {
        Duration::from_secs(self.settle_secs)
    }
}
