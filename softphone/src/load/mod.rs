//! `softphone load`: a load generator for any Device@Home gateway, and the
//! generators the benchmarks (tests/benches) drive.
//!
//! N HFA phones (the softphone's own client, real TCP, G.711 RTP of
//! silence frames in every call) register at a chosen rate from source
//! addresses in turn, pair up and call each other at a chosen rate and hold
//! time until the duration ends; a progress line each second on stderr,
//! and a report (text, and JSON on request) at the end.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Args as ClapArgs;

pub mod accounts;
pub mod fleet;
pub mod pair;
pub mod phone;
pub mod report;
pub mod run;
pub mod stats;

use accounts::{Account, AccountsError};

/// The options of `softphone load`.
#[derive(Debug, Clone, ClapArgs)]
pub struct LoadArgs {
    /// The gateway's HFA address, HOST:PORT (required: there is no default
    /// target).
    #[arg(long, value_name = "HOST:PORT")]
    pub gateway: String,
    /// The phones' numbers, FIRST-LAST (e.g. 301-400); passwords from
    /// --passwords.
    #[arg(long, requires = "passwords", conflicts_with = "accounts")]
    pub numbers: Option<String>,
    /// A file of passwords: one line per number of --numbers, or a single
    /// line for all.
    #[arg(long, requires = "numbers")]
    pub passwords: Option<PathBuf>,
    /// A TOML file of `[[accounts]]` entries with `number` and `password`
    /// (instead of --numbers and --passwords).
    #[arg(long, required_unless_present = "numbers")]
    pub accounts: Option<PathBuf>,
    /// Source addresses to connect from, in turn: one address or
    /// FIRST-LAST (e.g. 127.0.3.1-127.0.3.200).
    #[arg(long)]
    pub bind: Option<String>,
    /// Phones started per second (0: all at once).
    #[arg(long, default_value_t = 50.0)]
    pub register_rate: f64,
    /// Calls started per second over all pairs (0: each pair back to back).
    #[arg(long, default_value_t = 1.0)]
    pub call_rate: f64,
    /// How long each call stays connected.
    #[arg(long, default_value = "2s", value_parser = humantime::parse_duration)]
    pub hold: Duration,
    /// When the load stops, from its start (calls in progress complete).
    #[arg(long, default_value = "30s", value_parser = humantime::parse_duration)]
    pub duration: Duration,
    /// A registration or call step not done within this long is a failure.
    #[arg(long, default_value = "10s", value_parser = humantime::parse_duration)]
    pub patience: Duration,
    /// Registrations only: the phones stay registered (keepalives) for
    /// the duration and make no calls.
    #[arg(long, conflicts_with_all = ["call_rate", "hold"])]
    pub no_calls: bool,
    /// Signalling only: no RTP sockets, no media in calls.
    #[arg(long)]
    pub no_media: bool,
    /// Also write the report as JSON to this file.
    #[arg(long)]
    pub json: Option<PathBuf>,
}

impl LoadArgs {
    /// The accounts the options name.
    pub fn accounts(&self) -> Result<Vec<Account>, AccountsError> {
        match (&self.accounts, &self.numbers, &self.passwords) {
            (Some(file), _, _) => accounts::from_toml(file),
            (None, Some(range), Some(passwords)) => {
                accounts::with_passwords(accounts::number_range(range)?, passwords)
            }
            // clap requires --accounts or --numbers with --passwords.
            _ => Ok(Vec::new()),
        }
    }

    /// The source addresses, if --bind is given.
    pub fn sources(&self) -> Result<Vec<IpAddr>, AccountsError> {
        self.bind
            .as_deref()
            .map_or(Ok(Vec::new()), accounts::bind_range)
    }
}
