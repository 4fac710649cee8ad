//! Brute-force protection for logins that arrive over the internet.
//!
//! The HFA port and the myPortal to go port are forwarded from the company
//! router, so anyone can try passwords. After `max_failures` failed
//! attempts against a target, further attempts are refused *without
//! checking the password* until a lockout expires; each further lockout of
//! the same target lasts twice as long (capped). The targets:
//!
//! - **Accounts.** Every configured client has a record, made at start-up
//!   and never forgotten, so the configuration bounds them and no flood of
//!   failures for other numbers can evict one. Failures from every address
//!   count together: guessing is capped per account however many addresses
//!   an attacker has.
//! - **The known device.** An account remembers the device of its last
//!   successful login: the source address and, for an HFA phone, its MAC.
//!   While strangers are locked out, that device may still log in, with a
//!   failure count of its own; so an attacker cannot keep a home worker's
//!   phone out by failing on purpose.
//! - **Numbers that are no client** and **source addresses** (an IPv6
//!   address stands for its /64): two tables of at most `capacity` records
//!   each. When one is full, records without a lockout in force go first,
//!   so a flood of single failures cannot evict a lockout.
//!
//! Time is an input (`now`), so tests run on a virtual clock.

mod account;
mod record;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::time::{Duration, Instant};

use shared::hfa::MacAddress;

use account::{Account, Lane};
use record::BoundedTable;

/// How failed logins are punished.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockoutPolicy {
    /// Failed attempts that trigger the first lockout.
    pub max_failures: u32,
    /// Length of the first lockout; each further one doubles it.
    pub base_lockout: Duration,
    /// Upper bound of a single lockout.
    pub max_lockout: Duration,
    /// Records kept at most in each of the tables of source addresses and
    /// of numbers that are no client (accounts are not counted: there is
    /// one per configured client).
    pub capacity: usize,
}

impl Default for LockoutPolicy {
    fn default() -> Self {
        Self {
            max_failures: 5,
            base_lockout: Duration::from_secs(30),
            max_lockout: Duration::from_secs(3600),
            capacity: 4096,
        }
    }
}

impl LockoutPolicy {
    /// The configured policy (`[security]`), the same for HFA phones and
    /// myPortal to go logins.
    pub fn from_settings(settings: crate::config::LockoutSettings) -> Self {
        Self {
            max_failures: settings.max_failed_attempts,
            base_lockout: settings.base_lockout,
            ..Self::default()
        }
    }
}

/// Who makes a login attempt: the source address and, for an HFA phone,
/// the MAC its Register names (a myPortal to go app has none).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Device {
    address: IpAddr,
    mac: Option<MacAddress>,
}

impl Device {
    /// An IPv4-mapped IPv6 address (from a dual-stack socket) counts as
    /// the IPv4 address.
    pub fn new(address: IpAddr, mac: Option<MacAddress>) -> Self {
        let address = match address {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(address, IpAddr::V4),
            v4 => v4,
        };
        Self { address, mac }
    }

    pub fn address(&self) -> IpAddr {
        self.address
    }
}

impl std::fmt::Display for Device {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.mac {
            Some(mac) => write!(f, "{} with MAC {mac}", self.address),
            None => write!(f, "{}", self.address),
        }
    }
}

/// What a lockout applies to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LockTarget {
    /// Every attempt from this address (an IPv6 address stands for its /64).
    Source(IpAddr),
    /// Every attempt for this configured client except from `known`, the
    /// device of its last successful login: the account is under attack.
    Account {
        number: String,
        known: Option<Device>,
    },
    /// The attempts of the device that last logged in to `number`.
    KnownDevice { number: String, device: Device },
    /// Every attempt for this number, which is no configured client.
    UnknownNumber(String),
}

/// For a refused attempt: what is locked (the lockout's start says more).
impl std::fmt::Display for LockTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Source(ip) => write!(f, "source {ip}"),
            Self::Account { number, .. } => write!(f, "account {number} (for strangers)"),
            Self::KnownDevice { number, device } => {
                write!(
                    f,
                    "the last registered device of account {number} ({device})"
                )
            }
            Self::UnknownNumber(number) => write!(f, "number {number} (no client)"),
        }
    }
}

/// A lockout in force.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lockout {
    pub target: LockTarget,
    pub until: Instant,
    pub duration: Duration,
}

impl Lockout {
    /// Why an attempt is refused, for the log (once per attempt, so it
    /// does not repeat the start's "under attack").
    pub fn refusal(&self, now: Instant) -> String {
        let left = self.until.saturating_duration_since(now).as_secs();
        format!("{} locked out for another {left} s", self.target)
    }
}

/// The start of a lockout, for the log (once per lockout).
impl std::fmt::Display for Lockout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let seconds = self.duration.as_secs();
        match &self.target {
            LockTarget::Source(ip) => {
                write!(f, "source {ip} locked for {seconds} s after failed logins")
            }
            LockTarget::Account { number, known } => {
                write!(
                    f,
                    "account {number} under attack: locked for {seconds} s after failed logins; "
                )?;
                match known {
                    Some(device) => {
                        write!(f, "only its last registered device ({device}) may log in")
                    }
                    None => {
                        f.write_str("no device has logged in to it since the start, so none may")
                    }
                }
            }
            LockTarget::KnownDevice { number, device } => write!(
                f,
                "the last registered device of account {number} ({device}) locked for {seconds} s \
                 after failed logins"
            ),
            LockTarget::UnknownNumber(number) => write!(
                f,
                "number {number} (no client) locked for {seconds} s after failed logins"
            ),
        }
    }
}

/// An account whose strangers are locked out right now (`gateway status`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountUnderAttack {
    pub number: String,
    /// Until the strangers' lockout ends.
    pub locked_for: Duration,
    /// Strangers' lockouts so far (each twice as long as the one before).
    pub lockouts: u32,
    /// Strangers' failed and refused attempts since a new device last
    /// logged in.
    pub attempts: u64,
    pub last_source: Option<IpAddr>,
    /// The device that may still log in.
    pub known_device: Option<Device>,
}

impl std::fmt::Display for AccountUnderAttack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: strangers locked out for another {} s (lockout {}); {} failed or refused attempts",
            self.number,
            self.locked_for.as_secs(),
            self.lockouts,
            self.attempts
        )?;
        if let Some(source) = self.last_source {
            write!(f, ", the last from {source}")?;
        }
        match &self.known_device {
            Some(device) => write!(f, "; its last registered device ({device}) still gets in"),
            None => f.write_str("; no device has logged in to it since the start"),
        }
    }
}

/// One [`LoginGuard`] for every way in (HFA registrations and myPortal to
/// go logins), so a guesser gets the same few attempts whichever port it
/// tries.
pub type SharedLoginGuard = std::sync::Arc<std::sync::Mutex<LoginGuard>>;

/// Tracks failed logins per account, per unknown number and per source.
#[derive(Debug)]
pub struct LoginGuard {
    policy: LockoutPolicy,
    accounts: HashMap<String, Account>,
    unknown_numbers: BoundedTable<String>,
    sources: BoundedTable<IpAddr>,
}

impl LoginGuard {
    /// A guard for the configured clients `numbers`, to share between the
    /// HFA registrar and the portal logins.
    pub fn shared<N: Into<String>>(
        policy: LockoutPolicy,
        numbers: impl IntoIterator<Item = N>,
    ) -> SharedLoginGuard {
        std::sync::Arc::new(std::sync::Mutex::new(Self::new(policy, numbers)))
    }

    /// Takes the lock of a shared guard. Every update completes under it,
    /// so a poisoned lock is taken over.
    pub fn lock(shared: &SharedLoginGuard) -> std::sync::MutexGuard<'_, Self> {
        shared
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A guard with an account record for each of `numbers`.
    pub fn new<N: Into<String>>(
        policy: LockoutPolicy,
        numbers: impl IntoIterator<Item = N>,
    ) -> Self {
        Self {
            policy,
            accounts: numbers
                .into_iter()
                .map(|number| (number.into(), Account::default()))
                .collect(),
            unknown_numbers: BoundedTable::new(policy.capacity),
            sources: BoundedTable::new(policy.capacity),
        }
    }

    /// Refuses the attempt if its source, or the account for `device`, is
    /// locked out. Call this before looking at the password.
    pub fn check(&mut self, now: Instant, device: Device, number: &str) -> Result<(), Lockout> {
        let source = source_key(device.address);
        if let Some((until, duration)) = self.sources.active_lock(&source, now) {
            let target = LockTarget::Source(source);
            return Err(Lockout {
                target,
                until,
                duration,
            });
        }
        let refused = match self.accounts.get_mut(number) {
            Some(account) => account.check(now, &device).map(|(lane, until, duration)| {
                (
                    account_target(account, lane, number, device),
                    until,
                    duration,
                )
            }),
            None => {
                let number = number.to_owned();
                self.unknown_numbers
                    .active_lock(&number, now)
                    .map(|(until, duration)| (LockTarget::UnknownNumber(number), until, duration))
            }
        };
        match refused {
            Some((target, until, duration)) => Err(Lockout {
                target,
                until,
                duration,
            }),
            None => Ok(()),
        }
    }

    /// Counts a failed attempt. Returns the lockouts this failure *starts*
    /// (none, one or two), so the caller logs a lockout once, not per attempt.
    pub fn record_failure(&mut self, now: Instant, device: Device, number: &str) -> Vec<Lockout> {
        let mut started = Vec::new();
        let source = source_key(device.address);
        if let Some(duration) = self.sources.fail(source, now, &self.policy) {
            started.push(lockout(LockTarget::Source(source), now, duration));
        }
        match self.accounts.get_mut(number) {
            Some(account) => {
                if let (lane, Some(duration)) = account.fail(now, &device, &self.policy) {
                    let target = account_target(account, lane, number, device);
                    started.push(lockout(target, now, duration));
                }
            }
            None => {
                let number = number.to_owned();
                if let Some(duration) = self.unknown_numbers.fail(number.clone(), now, &self.policy)
                {
                    started.push(lockout(LockTarget::UnknownNumber(number), now, duration));
                }
            }
        }
        started
    }

    /// A successful login forgives the source; the device becomes the
    /// account's known device (strangers' failures are forgiven only when
    /// it is a new one).
    pub fn record_success(&mut self, device: Device, number: &str) {
        self.sources.forget(&source_key(device.address));
        if let Some(account) = self.accounts.get_mut(number) {
            account.succeed(&device);
        }
    }

    /// The accounts whose strangers are locked out at `now`, by number.
    pub fn under_attack(&self, now: Instant) -> Vec<AccountUnderAttack> {
        let mut attacked: Vec<_> = self
            .accounts
            .iter()
            .filter_map(|(number, account)| account.under_attack(number, now))
            .collect();
        attacked.sort_by(|a, b| a.number.cmp(&b.number));
        attacked
    }
}

fn account_target(account: &Account, lane: Lane, number: &str, device: Device) -> LockTarget {
    let number = number.to_owned();
    match lane {
        Lane::Strangers => LockTarget::Account {
            number,
            known: account.known_device(),
        },
        Lane::KnownDevice => LockTarget::KnownDevice { number, device },
    }
}

fn lockout(target: LockTarget, now: Instant, duration: Duration) -> Lockout {
    Lockout {
        target,
        until: now + duration,
        duration,
    }
}

/// One IPv6 host usually owns a whole /64: count its addresses as one.
pub(crate) fn source_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let prefix = u128::from(v6) & !(u128::from(u64::MAX));
                IpAddr::V6(Ipv6Addr::from(prefix))
            }
        },
    }
}
