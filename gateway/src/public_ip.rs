//! The system's public IP address, as Set Payload announces it to devices
//! at home, kept current without a restart.
//!
//! Precedence (guide 2.4, 3.2): a static address if configured; else a DNS
//! name (dynamic DNS), resolved again every [`RefreshTimers::interval`]
//! (the system resolver gives no TTL, so a timer stands in for it); else
//! STUN, asking the ITSP's enabled STUN server or the system's. A failed
//! lookup is retried sooner ([`RefreshTimers::retry`]) and the last good
//! address stays in use meanwhile. A change is logged once and handed to
//! call control, which gives it to new calls and re-announces it to devices
//! in calls in progress.

use std::fmt;
use std::future::Future;
use std::io;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use shared::stun::Retransmission;

use crate::calls::CallService;
use crate::config::ValidatedConfig;
use crate::config::net::{Host, StunServer};
use crate::stun;

/// Where the public address comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// `network.public_address` is an IP address.
    Static(IpAddr),
    /// `network.public_address` is a DNS name.
    Dns(String),
    /// Not configured: asked of a STUN server (its text, for messages).
    Stun(StunServer, String),
}

impl Source {
    /// The source a validated configuration implies (`None` cannot happen:
    /// validation refuses a configuration with neither).
    pub fn from_config(config: &ValidatedConfig) -> Option<Self> {
        match config.public_address() {
            Some(Host::Ip(ip)) => Some(Self::Static(*ip)),
            Some(Host::Dns(name)) => Some(Self::Dns(name.clone())),
            None => {
                let stun = config.effective_stun();
                stun.server()
                    .map(|server| Self::Stun(server.clone(), stun.to_string()))
            }
        }
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Static(_) => f.write_str("static network.public_address"),
            Self::Dns(name) => write!(f, "DNS name {name}"),
            Self::Stun(_, described) => write!(f, "STUN server {described}"),
        }
    }
}

/// A boxed future, so that resolvers can be trait objects.
pub type Lookup<'a> = Pin<Box<dyn Future<Output = io::Result<Vec<IpAddr>>> + Send + 'a>>;

/// Resolves a DNS name to addresses. The system resolver in production;
/// tests give one whose answer they change, to play dynamic DNS.
pub trait Resolver: Send + Sync + fmt::Debug {
    /// The addresses `name` has now.
    fn lookup<'a>(&'a self, name: &'a str) -> Lookup<'a>;
}

/// The operating system's resolver (getaddrinfo, through tokio).
#[derive(Debug, Default)]
pub struct SystemResolver;

impl Resolver for SystemResolver {
    fn lookup<'a>(&'a self, name: &'a str) -> Lookup<'a> {
        Box::pin(async move {
            tokio::net::lookup_host((name, 0))
                .await
                .map(|found| found.map(|addr| addr.ip()).collect())
        })
    }
}

/// How often the address is checked again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RefreshTimers {
    /// After a successful lookup.
    pub interval: Duration,
    /// After a failed one.
    pub retry: Duration,
}

impl Default for RefreshTimers {
    fn default() -> Self {
        Self {
            interval: Duration::from_secs(60),
            retry: Duration::from_secs(10),
        }
    }
}

/// Why a lookup gave no address.
#[derive(Debug, thiserror::Error)]
pub enum LookupError {
    /// The DNS name does not resolve (or only to IPv6).
    #[error("the public address {name} does not resolve to an IPv4 address: {reason}")]
    Dns {
        /// The name.
        name: String,
        /// The resolver's answer.
        reason: String,
    },
    /// STUN gave no answer.
    #[error(transparent)]
    Stun(#[from] stun::StunError),
}

/// The public address in force, and how to look it up again.
#[derive(Debug)]
pub struct PublicIp {
    source: Source,
    resolver: Arc<dyn Resolver>,
    calls: Arc<CallService>,
    current: Mutex<Option<IpAddr>>,
}

impl PublicIp {
    pub fn new(source: Source, resolver: Arc<dyn Resolver>, calls: Arc<CallService>) -> Self {
        Self {
            source,
            resolver,
            calls,
            current: Mutex::new(None),
        }
    }

    /// The address in force (`None` before the first successful lookup).
    pub fn current(&self) -> Option<IpAddr> {
        *self.current.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Where the address comes from.
    pub fn source(&self) -> &Source {
        &self.source
    }

    /// Looks the address up now (a STUN query retransmitted as
    /// `retransmission` says); a new address is logged once and handed to
    /// call control.
    pub async fn refresh(&self, retransmission: Retransmission) -> Result<IpAddr, LookupError> {
        let ip = self.lookup(retransmission).await?;
        self.apply(ip);
        Ok(ip)
    }

    /// Uses `ip` (a lookup's result, or the fallback at start).
    pub fn apply(&self, ip: IpAddr) {
        let previous = self
            .current
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .replace(ip);
        match previous {
            Some(old) if old == ip => return,
            Some(old) => tracing::info!(
                "public address changed from {old} to {ip} ({}): new calls and calls in \
                 progress use it",
                self.source
            ),
            None => tracing::info!("public address: {ip} ({})", self.source),
        }
        self.calls.set_public_ip(ip);
    }

    async fn lookup(&self, retransmission: Retransmission) -> Result<IpAddr, LookupError> {
        match &self.source {
            Source::Static(ip) => Ok(*ip),
            Source::Dns(name) => {
                let dns_error = |reason: String| LookupError::Dns {
                    name: name.clone(),
                    reason,
                };
                let found = (self.resolver.lookup(name).await)
                    .map_err(|error| dns_error(error.to_string()))?;
                found
                    .iter()
                    .find(|ip| ip.is_ipv4())
                    .copied()
                    .ok_or_else(|| dns_error(format!("it resolves to {found:?}")))
            }
            Source::Stun(server, _) => {
                let server = stun::resolve(server).await?;
                Ok(stun::public_address(server, retransmission).await?.ip())
            }
        }
    }

    /// Looks the address up again on `timers`, forever (STUN with the
    /// RFC 8489 retransmission); a failure is logged when it starts and
    /// when it ends, not on every retry.
    pub async fn keep_current(self: Arc<Self>, timers: RefreshTimers) {
        if matches!(self.source, Source::Static(_)) {
            return;
        }
        let mut failing = self.current().is_none();
        let mut wait = if failing {
            timers.retry
        } else {
            timers.interval
        };
        loop {
            tokio::time::sleep(wait).await;
            wait = match self.refresh(Retransmission::RFC8489).await {
                Ok(_) => {
                    if std::mem::take(&mut failing) {
                        tracing::info!(
                            "the public address can be looked up again ({})",
                            self.source
                        );
                    }
                    timers.interval
                }
                Err(error) => {
                    if !std::mem::replace(&mut failing, true) {
                        tracing::warn!(
                            "{error}; calls keep using {} and the lookup is retried every {:?}",
                            self.current().map_or_else(
                                || "the fallback address".to_owned(),
                                |ip| ip.to_string()
                            ),
                            timers.retry
                        );
                    }
                    timers.retry
                }
            };
        }
    }
}
