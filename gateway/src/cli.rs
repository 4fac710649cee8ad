//! The command line of the `gateway` binary.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// The company side of Device@Home: an OpenScape Business emulator.
#[derive(Debug, Parser)]
#[command(name = "gateway", version)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Validate a configuration file: print its summary and warnings, or
    /// every error (one per line) and exit with status 1.
    CheckConfig {
        /// The configuration file (TOML).
        file: PathBuf,
    },
    /// Write a commented example configuration with fresh random passwords
    /// to FILE (mode 0600). The passwords are never printed.
    Init {
        /// Where to write it.
        file: PathBuf,
        /// Overwrite FILE if it exists.
        #[arg(long)]
        force: bool,
    },
    /// Ask the running gateway (of this configuration's data directory)
    /// how it is doing: registered phones, calls, RTP proxy channels.
    Status {
        /// The configuration file the gateway runs with; without it, the
        /// built-in demo configuration's data directory.
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Switch a trace profile (guide 7) of the running gateway on or off:
    /// Voice_Fax_connection, SIP_Interconnection_Subscriber_ITSP,
    /// Calls_with_System_Device_HFA, CSTA_applications, Application. Each
    /// writes DATA_DIR/traces/NAME.log.
    Trace {
        /// `enable` or `disable`.
        switch: TraceSwitch,
        /// The profile's name.
        profile: gateway::trace::Profile,
        /// The configuration file the gateway runs with; without it, the
        /// built-in demo configuration's data directory.
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Check the company internet router's NAT type (guide 3.3) by RFC 5780
    /// NAT behaviour discovery against a STUN server with two addresses:
    /// prints the public address, mapping and filtering; fails on symmetric
    /// NAT (Device@Home does not work with it) or when it cannot tell.
    NatCheck {
        /// The configuration whose STUN server to use (an ITSP's enabled
        /// one, else `stun.server`).
        #[arg(long)]
        config: Option<PathBuf>,
        /// Use this STUN server instead, host[:port].
        #[arg(long)]
        stun: Option<String>,
    },
    /// Start the gateway.
    Run {
        /// The configuration file; without it, the built-in demo
        /// configuration (loopback only) with generated passwords.
        #[arg(long)]
        config: Option<PathBuf>,
        /// Write the gateway's own traffic to FILE as pcapng for
        /// Wireshark: HFA over TCP, the portal's TLS (decrypt it with the
        /// keys written to $SSLKEYLOGFILE), the SBC's relayed RTP/RTCP.
        #[arg(long, value_name = "FILE")]
        capture: Option<PathBuf>,
    },
}

/// `gateway trace enable|disable`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TraceSwitch {
    Enable,
    Disable,
}
