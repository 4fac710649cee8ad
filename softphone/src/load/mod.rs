//! `softphone load`: a load generator for any Device@Home gateway, and the
//! generators the benchmarks (tests/benches) drive.
//!
//! N HFA phones (the softphone's own client, real TCP, G.711 RTP of
//! silence frames in every call) and M myPortal to go apps (the
//! softphone's own agent, real HTTPS, the same media) register at a chosen
//! rate from source addresses in turn, pair up (each app with a phone
//! first) and call each other at a chosen rate and hold time until the
//! duration ends; a progress line each second on stderr, and a report
//! (text, and JSON on request) at the end, calls counted per kind.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Args as ClapArgs;

use crate::portal::trust::Fingerprint;

pub mod accounts;
pub mod app;
pub mod apps;
pub mod fleet;
pub mod pair;
pub mod party;
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
    /// myPortal to go apps' numbers, FIRST-LAST; UC passwords from
    /// --app-passwords, server from --portal.
    #[arg(long, requires_all = ["app_passwords", "portal"])]
    pub app_numbers: Option<String>,
    /// A file of the apps' UC passwords: one line per number of
    /// --app-numbers, or a single line for all.
    #[arg(long, requires = "app_numbers")]
    pub app_passwords: Option<PathBuf>,
    /// The gateway's myPortal to go HTTPS address, HOST:PORT: the apps' WAN
    /// server, with "Use VoIP in remote WiFi networks" on.
    #[arg(long, value_name = "HOST:PORT", requires = "app_numbers")]
    pub portal: Option<String>,
    /// Trust only the portal certificate with this SHA-256 fingerprint
    /// (AB:CD:...).
    #[arg(long, value_name = "FP", conflicts_with_all = ["accept_fingerprint", "known_gateways"])]
    pub pin: Option<Fingerprint>,
    /// Trust on first use: accept this fingerprint if the portal is not
    /// known yet (without --pin or this, an unknown certificate is a
    /// failure, with its fingerprint).
    #[arg(long, value_name = "FP")]
    pub accept_fingerprint: Option<Fingerprint>,
    /// The known-gateways store of trust on first use (default:
    /// $XDG_CONFIG_HOME/device-at-home/known-gateways.toml).
    #[arg(long, value_name = "FILE")]
    pub known_gateways: Option<PathBuf>,
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
    /// Phones signalling only: no RTP sockets, no media in their calls
    /// (an app always binds its media, and sends it in calls with a
    /// phone or an app).
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
            (None, Some(range), Some(passwords)) => accounts::with_passwords(
                "--passwords",
                accounts::number_range("--numbers", range)?,
                passwords,
            ),
            // clap requires --accounts or --numbers with --passwords.
            _ => Ok(Vec::new()),
        }
    }

    /// The apps' accounts (none without --app-numbers).
    pub fn app_accounts(&self) -> Result<Vec<Account>, AccountsError> {
        match (&self.app_numbers, &self.app_passwords) {
            (Some(range), Some(passwords)) => accounts::with_passwords(
                "--app-passwords",
                accounts::number_range("--app-numbers", range)?,
                passwords,
            ),
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
