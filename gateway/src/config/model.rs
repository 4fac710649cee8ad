//! The configuration file as written: one serde type per TOML section.
//!
//! Every struct denies unknown fields, so a typo such as `pasword` is a
//! parse error naming the field instead of a silently ignored setting.
//! These types hold what the file says; [`super::validate`] checks the
//! guide's rules and derives the rest.

use std::net::{IpAddr, Ipv4Addr};
use std::num::NonZeroU32;
use std::path::PathBuf;

use ipnet::IpNet;
use serde::Deserialize;

use super::call_timers::CallTimersSection;
use super::client::Client;
use super::dialing::Dialing;
use super::media::MediaSection;
use super::portal::PortalSection;
use super::system::{LanInterface, RtpRange, SystemModel};
use super::versions::MinVersionsSection;

/// Default HFA signalling port, TCP (guide 2.5.1).
pub const DEFAULT_HFA_PORT: u16 = 4060;
/// Default HTTPS port for myPortal to go, TCP (guide 2.5.1).
pub const DEFAULT_HTTPS_PORT: u16 = 8802;

/// The whole configuration file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// `[system]`: model and interface.
    pub system: System,
    /// `[network]`: addresses and ports.
    pub network: Network,
    /// `[internet]`: bandwidth and simultaneous internet calls.
    #[serde(default)]
    pub internet: Internet,
    /// `[stun]`: the system STUN configuration.
    #[serde(default)]
    pub stun: Stun,
    /// `[[itsp]]`: ITSP trunks.
    #[serde(default)]
    pub itsp: Vec<Itsp>,
    /// `[security]`: brute-force lockout.
    #[serde(default)]
    pub security: Security,
    /// `[dialing]`: country code, number prefixes and barred ranges for
    /// class of service.
    #[serde(default)]
    pub dialing: Dialing,
    /// `[call_control]`: digit and answer timeouts.
    #[serde(default)]
    pub call_control: CallTimersSection,
    /// `[media]`: codec preference.
    #[serde(default)]
    pub media: MediaSection,
    /// `[portal]`: the myPortal to go HTTPS server.
    #[serde(default)]
    pub portal: PortalSection,
    /// `[trace]`: trace profiles on from the start (guide 7).
    #[serde(default)]
    pub trace: crate::trace::TraceSection,
    /// `[min_versions]`: minimum client software versions.
    #[serde(default)]
    pub min_versions: MinVersionsSection,
    /// `[[clients]]`: the system clients.
    #[serde(default)]
    pub clients: Vec<Client>,
}

/// `[system]`: the emulated OpenScape Business.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct System {
    /// X1, X3, X5, X8 or S (guide 1.3.5).
    pub model: SystemModel,
    /// A booster card/server is fitted (X models only; same capacity).
    #[serde(default)]
    pub booster: bool,
    /// The LAN interface the internet router is connected to (guide 1.3.1).
    pub lan_interface: LanInterface,
    /// Where the gateway keeps its files; defaults to
    /// `$XDG_DATA_HOME/device-at-home/gateway` (see [`super::data_dir`]).
    #[serde(default)]
    pub data_dir: Option<PathBuf>,
}

/// `[network]`: where the system listens and how it is reached.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Network {
    /// Local address the servers bind to.
    #[serde(default = "any_address")]
    pub listen_address: IpAddr,
    /// The public IP address or DNS name that devices at home enter as
    /// gateway address (guide 3.2, 4.1). Unset: the SBC detects it by STUN
    /// (guide 2.4).
    #[serde(default)]
    pub public_address: Option<String>,
    /// The company LAN prefixes: a registration from one of them is local,
    /// from anywhere else it comes over the internet.
    pub company_lan: Vec<IpNet>,
    /// HFA signalling port, TCP (guide 2.5.1).
    #[serde(default = "hfa_port")]
    pub hfa_port: u16,
    /// HTTPS port for myPortal to go, TCP (guide 2.5.1).
    #[serde(default = "https_port")]
    pub https_port: u16,
    /// Overrides the model's RTP port range (guide 2.5.2).
    #[serde(default)]
    pub rtp_ports: Option<RtpRange>,
}

fn any_address() -> IpAddr {
    IpAddr::V4(Ipv4Addr::UNSPECIFIED)
}

fn hfa_port() -> u16 {
    DEFAULT_HFA_PORT
}

fn https_port() -> u16 {
    DEFAULT_HTTPS_PORT
}

/// `[internet]`: how many calls may run over the internet at once (guide 2.3).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Internet {
    /// "Upstream up to (Kbps)" of the internet connection; implies the
    /// number of calls (see [`super::calls::KBPS_PER_CALL`]).
    #[serde(default)]
    pub upstream_kbps: Option<u32>,
    /// "Number of simultaneous internet calls", set directly; wins over
    /// `upstream_kbps`.
    #[serde(default)]
    pub simultaneous_calls: Option<u32>,
}

/// `[stun]`: "Edit STUN Configuration" (guide 2.4).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Stun {
    /// The system STUN server, `host[:port]`; used only when no ITSP has an
    /// enabled STUN server.
    #[serde(default)]
    pub server: Option<String>,
}

/// One `[[itsp]]` trunk.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Itsp {
    /// Provider name, for messages.
    pub name: String,
    /// LAN interface of the trunk; must be Device@Home's (guide 1.3.1).
    pub interface: LanInterface,
    /// The provider's STUN server, `host[:port]`.
    #[serde(default)]
    pub stun_server: Option<String>,
    /// Whether STUN is activated for this provider (guide 2.4).
    #[serde(default = "enabled")]
    pub stun_enabled: bool,
}

fn enabled() -> bool {
    true
}

/// `[security]`: lockout of a client after failed logins.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Security {
    /// Failed password attempts before a lockout.
    #[serde(default = "max_failed_attempts")]
    pub max_failed_attempts: NonZeroU32,
    /// Length of the first lockout in seconds.
    #[serde(default = "lockout_base_seconds")]
    pub lockout_base_seconds: NonZeroU32,
}

/// Default failed attempts before a lockout.
pub const DEFAULT_MAX_FAILED_ATTEMPTS: NonZeroU32 = NonZeroU32::new(5).expect("not zero");
/// Default first lockout, in seconds.
pub const DEFAULT_LOCKOUT_BASE_SECONDS: NonZeroU32 = NonZeroU32::new(30).expect("not zero");

fn max_failed_attempts() -> NonZeroU32 {
    DEFAULT_MAX_FAILED_ATTEMPTS
}

fn lockout_base_seconds() -> NonZeroU32 {
    DEFAULT_LOCKOUT_BASE_SECONDS
}

impl Default for Security {
    fn default() -> Self {
        Self {
            max_failed_attempts: max_failed_attempts(),
            lockout_base_seconds: lockout_base_seconds(),
        }
    }
}
