//! A configuration that passed every rule, with the values derived from
//! it. This is what the servers of the gateway are given: it can only be
//! made by [`super::validate`], so holding one means the guide's rules hold.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use super::calls::InternetCalls;
use super::client::Client;
use super::cos::Classifier;
use super::data_dir;
use super::dialing::Dialing;
use super::error::ConfigError;
use super::model::Config;
use super::net::Host;
use super::stun::EffectiveStun;
use super::summary::Summary;
use super::system::RtpRange;
use super::versions::MinVersions;
use super::warning::ConfigWarning;

/// A validated configuration.
#[derive(Debug, Clone)]
pub struct ValidatedConfig {
    pub(super) config: Config,
    pub(super) channels: u32,
    pub(super) rtp_ports: RtpRange,
    pub(super) calls: InternetCalls,
    pub(super) public_address: Option<Host>,
    pub(super) stun: EffectiveStun,
    pub(super) min_versions: MinVersions,
    pub(super) classifier: Classifier,
    pub(super) warnings: Vec<ConfigWarning>,
    /// Client index by number: registration looks a client up per attempt.
    pub(super) by_number: HashMap<String, usize>,
}

/// Brute-force lockout settings for the login handlers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockoutSettings {
    /// Failed password attempts before a client is locked out.
    pub max_failed_attempts: u32,
    /// Length of the first lockout.
    pub base_lockout: Duration,
}

impl ValidatedConfig {
    /// The configuration as written.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// All system clients, in file order.
    pub fn clients(&self) -> &[Client] {
        &self.config.clients
    }

    /// The client registered under call `number`.
    pub fn client(&self, number: &str) -> Option<&Client> {
        self.by_number
            .get(number)
            .and_then(|index| self.config.clients.get(*index))
    }

    /// Whether `ip` is in the company LAN; a registration from anywhere else
    /// comes over the internet and needs `internet_registration`. An
    /// IPv4-mapped IPv6 address (from a dual-stack socket) counts as IPv4.
    pub fn is_company_lan(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.config
            .network
            .company_lan
            .iter()
            .any(|net| net.contains(&ip))
    }

    /// Where the HFA server listens (TCP).
    pub fn hfa_addr(&self) -> SocketAddr {
        SocketAddr::new(
            self.config.network.listen_address,
            self.config.network.hfa_port,
        )
    }

    /// Where the HTTPS server for myPortal to go listens (TCP).
    pub fn https_addr(&self) -> SocketAddr {
        SocketAddr::new(
            self.config.network.listen_address,
            self.config.network.https_port,
        )
    }

    /// The RTP/RTCP port range (UDP) in use.
    pub fn rtp_ports(&self) -> RtpRange {
        self.rtp_ports
    }

    /// Channels of the RTP proxy pool that all internet calls share.
    pub fn rtp_proxy_channels(&self) -> u32 {
        self.channels
    }

    /// Simultaneous internet calls and where the number came from.
    pub fn internet_calls(&self) -> InternetCalls {
        self.calls
    }

    /// The STUN server in use and its source.
    pub fn effective_stun(&self) -> &EffectiveStun {
        &self.stun
    }

    /// The address devices at home use to reach the system, as configured;
    /// `None`: detected by STUN (guide 2.4).
    pub fn public_address(&self) -> Option<&Host> {
        self.public_address.as_ref()
    }

    /// Minimum client software versions.
    pub fn min_versions(&self) -> &MinVersions {
        &self.min_versions
    }

    /// Brute-force lockout settings.
    pub fn lockout(&self) -> LockoutSettings {
        let security = &self.config.security;
        LockoutSettings {
            max_failed_attempts: security.max_failed_attempts.get(),
            base_lockout: Duration::from_secs(u64::from(security.lockout_base_seconds.get())),
        }
    }

    /// The `[dialing]` section as written.
    pub fn dialing(&self) -> &Dialing {
        &self.config.dialing
    }

    /// How external numbers are normalised and classed for class of
    /// service checks.
    pub fn classifier(&self) -> &Classifier {
        &self.classifier
    }

    /// The gateway's data directory: `system.data_dir`, or the default of
    /// [`data_dir::default_data_dir`].
    pub fn data_dir(&self) -> Result<PathBuf, ConfigError> {
        match &self.config.system.data_dir {
            Some(dir) => Ok(dir.clone()),
            None => data_dir::default_data_dir(),
        }
    }

    /// Warnings found during validation.
    pub fn warnings(&self) -> &[ConfigWarning] {
        &self.warnings
    }

    /// A human-readable overview (never shows a password).
    pub fn summary(&self) -> Summary<'_> {
        Summary(self)
    }
}
