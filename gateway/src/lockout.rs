//! Brute-force protection for registrations that arrive over the internet.
//!
//! The HFA port (and later the myPortal to go port) is forwarded from the
//! company router, so anyone can try passwords. After `max_failures` failed
//! attempts from one source address, or for one subscriber, further attempts
//! are refused *without checking the password* until a lockout expires. Each
//! further lockout of the same target lasts twice as long (capped). A
//! successful login clears the record.
//!
//! Memory is bounded: each table holds at most `capacity` records, and when
//! it is full the least recently seen record is forgotten. IPv6 sources are
//! grouped by their /64, since one host usually owns a whole /64.
//!
//! Time is an input (`now`), so tests run on a virtual clock.

use std::collections::{BTreeSet, HashMap};
use std::hash::Hash;
use std::net::{IpAddr, Ipv6Addr};
use std::time::{Duration, Instant};

/// How failed logins are punished.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockoutPolicy {
    /// Failed attempts that trigger the first lockout.
    pub max_failures: u32,
    /// Length of the first lockout; each further one doubles it.
    pub base_lockout: Duration,
    /// Upper bound of a single lockout.
    pub max_lockout: Duration,
    /// Records kept per table (sources, subscribers) at most.
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

/// What a lockout applies to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LockTarget {
    /// Every attempt from this address (an IPv6 address stands for its /64).
    Source(IpAddr),
    /// Every attempt for this subscriber number, from anywhere.
    Subscriber(String),
}

/// A lockout in force.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lockout {
    pub target: LockTarget,
    pub until: Instant,
    pub duration: Duration,
}

impl std::fmt::Display for Lockout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.target {
            LockTarget::Source(ip) => write!(f, "source {ip}")?,
            LockTarget::Subscriber(number) => write!(f, "subscriber {number}")?,
        }
        write!(
            f,
            " locked for {} s after failed logins",
            self.duration.as_secs()
        )
    }
}

/// One [`LoginGuard`] for every way in (HFA registrations and myPortal to
/// go logins), so a guesser gets the same few attempts whichever port it
/// tries.
pub type SharedLoginGuard = std::sync::Arc<std::sync::Mutex<LoginGuard>>;

/// Tracks failed logins per source and per subscriber.
#[derive(Debug)]
pub struct LoginGuard {
    policy: LockoutPolicy,
    sources: BoundedTable<IpAddr>,
    subscribers: BoundedTable<String>,
}

impl LoginGuard {
    /// A guard to share between the HFA registrar and the portal logins.
    pub fn shared(policy: LockoutPolicy) -> SharedLoginGuard {
        std::sync::Arc::new(std::sync::Mutex::new(Self::new(policy)))
    }

    /// Takes the lock of a shared guard. Every update completes under it,
    /// so a poisoned lock is taken over.
    pub fn lock(shared: &SharedLoginGuard) -> std::sync::MutexGuard<'_, Self> {
        shared
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub fn new(policy: LockoutPolicy) -> Self {
        Self {
            policy,
            sources: BoundedTable::new(policy.capacity),
            subscribers: BoundedTable::new(policy.capacity),
        }
    }

    /// Refuses the attempt if its source or its subscriber is locked out.
    /// Call this before looking at the password.
    pub fn check(&self, now: Instant, source: IpAddr, subscriber: &str) -> Result<(), Lockout> {
        let source = source_key(source);
        if let Some((until, duration)) = self.sources.active_lockout(&source, now) {
            let target = LockTarget::Source(source);
            return Err(Lockout {
                target,
                until,
                duration,
            });
        }
        let subscriber = subscriber.to_owned();
        if let Some((until, duration)) = self.subscribers.active_lockout(&subscriber, now) {
            let target = LockTarget::Subscriber(subscriber);
            return Err(Lockout {
                target,
                until,
                duration,
            });
        }
        Ok(())
    }

    /// Counts a failed attempt. Returns the lockouts this failure *starts*
    /// (none, one or two), so the caller logs a lockout once, not per attempt.
    pub fn record_failure(
        &mut self,
        now: Instant,
        source: IpAddr,
        subscriber: &str,
    ) -> Vec<Lockout> {
        let mut started = Vec::new();
        let source = source_key(source);
        if let Some(duration) = self.sources.fail(source, now, &self.policy) {
            started.push(Lockout {
                target: LockTarget::Source(source),
                until: now + duration,
                duration,
            });
        }
        if let Some(duration) = self
            .subscribers
            .fail(subscriber.to_owned(), now, &self.policy)
        {
            started.push(Lockout {
                target: LockTarget::Subscriber(subscriber.to_owned()),
                until: now + duration,
                duration,
            });
        }
        started
    }

    /// A successful login forgives the source and the subscriber.
    pub fn record_success(&mut self, source: IpAddr, subscriber: &str) {
        self.sources.forget(&source_key(source));
        self.subscribers.forget(&subscriber.to_owned());
    }

    /// Records held, sources and subscribers together (for status and tests).
    pub fn tracked(&self) -> usize {
        self.sources.len() + self.subscribers.len()
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

#[derive(Debug, Clone, Copy)]
struct Record {
    failures: u32,
    lockouts: u32,
    /// The latest lockout: when it ends and how long it was.
    lock: Option<(Instant, Duration)>,
    last_seen: Instant,
}

/// A map with at most `capacity` records that forgets the least recently
/// seen one when full.
#[derive(Debug)]
struct BoundedTable<K> {
    capacity: usize,
    records: HashMap<K, Record>,
    by_last_seen: BTreeSet<(Instant, K)>,
}

impl<K: Ord + Hash + Clone> BoundedTable<K> {
    fn new(capacity: usize) -> Self {
        Self {
            capacity: capacity.max(1),
            records: HashMap::new(),
            by_last_seen: BTreeSet::new(),
        }
    }

    fn len(&self) -> usize {
        self.records.len()
    }

    /// The end and length of the lockout of `key` in force at `now`.
    fn active_lockout(&self, key: &K, now: Instant) -> Option<(Instant, Duration)> {
        self.records
            .get(key)?
            .lock
            .filter(|(until, _)| *until > now)
    }

    /// Counts one failure; returns the lockout's length if it starts one.
    fn fail(&mut self, key: K, now: Instant, policy: &LockoutPolicy) -> Option<Duration> {
        let mut record = match self.records.get(&key) {
            Some(record) => {
                self.by_last_seen.remove(&(record.last_seen, key.clone()));
                *record
            }
            None => {
                self.make_room();
                Record {
                    failures: 0,
                    lockouts: 0,
                    lock: None,
                    last_seen: now,
                }
            }
        };
        record.last_seen = now;
        record.failures += 1;
        let started = if record.failures >= policy.max_failures.max(1) {
            let doubling = 2u32.saturating_pow(record.lockouts.min(31));
            let duration = policy
                .base_lockout
                .saturating_mul(doubling)
                .min(policy.max_lockout);
            record.lockouts += 1;
            record.lock = Some((now + duration, duration));
            // After this lockout expires, one more failure locks again.
            record.failures = policy.max_failures.saturating_sub(1);
            Some(duration)
        } else {
            None
        };
        self.by_last_seen.insert((now, key.clone()));
        self.records.insert(key, record);
        started
    }

    fn forget(&mut self, key: &K) {
        if let Some(record) = self.records.remove(key) {
            self.by_last_seen.remove(&(record.last_seen, key.clone()));
        }
    }

    fn make_room(&mut self) {
        while self.records.len() >= self.capacity {
            match self.by_last_seen.pop_first() {
                Some((_, oldest)) => {
                    self.records.remove(&oldest);
                }
                None => break,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    const ATTACKER: IpAddr = IpAddr::V4(Ipv4Addr::new(198, 51, 100, 7));
    const HOME: IpAddr = IpAddr::V4(Ipv4Addr::new(203, 0, 113, 20));

    fn guard() -> LoginGuard {
        LoginGuard::new(LockoutPolicy::default())
    }

    fn fail_times(
        guard: &mut LoginGuard,
        now: Instant,
        n: u32,
        source: IpAddr,
        sub: &str,
    ) -> Vec<Lockout> {
        (0..n)
            .flat_map(|_| guard.record_failure(now, source, sub))
            .collect()
    }

    #[test]
    fn fifth_failure_locks_source_and_subscriber_once() {
        let mut guard = guard();
        let now = Instant::now();
        assert!(fail_times(&mut guard, now, 4, ATTACKER, "201").is_empty());
        assert!(guard.check(now, ATTACKER, "201").is_ok());
        let started = guard.record_failure(now, ATTACKER, "201");
        assert_eq!(
            started.len(),
            2,
            "source and subscriber both locked: {started:?}"
        );
        assert_eq!(started[0].target, LockTarget::Source(ATTACKER));
        assert_eq!(started[1].target, LockTarget::Subscriber("201".into()));
        assert_eq!(started[0].duration, Duration::from_secs(30));
        let refused = guard.check(now, ATTACKER, "202").unwrap_err();
        assert_eq!(refused.target, LockTarget::Source(ATTACKER));
        let refused = guard.check(now, HOME, "201").unwrap_err();
        assert_eq!(refused.target, LockTarget::Subscriber("201".into()));
    }

    #[test]
    fn lockout_expires_and_the_next_one_is_longer() {
        let mut guard = guard();
        let t0 = Instant::now();
        fail_times(&mut guard, t0, 5, ATTACKER, "201");
        assert!(
            guard
                .check(t0 + Duration::from_secs(29), ATTACKER, "201")
                .is_err()
        );
        let t1 = t0 + Duration::from_secs(30);
        assert!(guard.check(t1, ATTACKER, "201").is_ok());
        let again = guard.record_failure(t1, ATTACKER, "201");
        assert_eq!(again[0].duration, Duration::from_secs(60));
        assert!(
            guard
                .check(t1 + Duration::from_secs(59), ATTACKER, "201")
                .is_err()
        );
        assert!(
            guard
                .check(t1 + Duration::from_secs(60), ATTACKER, "201")
                .is_ok()
        );
    }

    #[test]
    fn lockout_is_capped() {
        let policy = LockoutPolicy {
            max_lockout: Duration::from_secs(100),
            ..LockoutPolicy::default()
        };
        let mut guard = LoginGuard::new(policy);
        let mut now = Instant::now();
        let mut last = Duration::ZERO;
        for _ in 0..40 {
            for lockout in fail_times(&mut guard, now, 5, ATTACKER, "201") {
                last = lockout.duration;
            }
            now += Duration::from_secs(1000);
        }
        assert_eq!(last, Duration::from_secs(100));
    }

    #[test]
    fn success_resets_the_count() {
        let mut guard = guard();
        let now = Instant::now();
        fail_times(&mut guard, now, 4, HOME, "201");
        guard.record_success(HOME, "201");
        assert_eq!(guard.tracked(), 0);
        assert!(fail_times(&mut guard, now, 4, HOME, "201").is_empty());
        assert!(guard.check(now, HOME, "201").is_ok());
    }

    #[test]
    fn ipv6_addresses_of_one_slash_64_count_together() {
        let mut guard = guard();
        let now = Instant::now();
        for host in 1..=5u16 {
            let ip = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 1, 0, 0, 0, host));
            guard.record_failure(now, ip, &format!("2{host:02}"));
        }
        let other_host = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 1, 0xabcd, 0, 0, 99));
        assert!(matches!(
            guard.check(now, other_host, "299").unwrap_err().target,
            LockTarget::Source(_)
        ));
        let other_net = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 2, 0, 0, 0, 1));
        assert!(guard.check(now, other_net, "299").is_ok());
    }

    #[test]
    fn many_addresses_cannot_grow_the_tables_without_bound() {
        let policy = LockoutPolicy {
            capacity: 100,
            ..LockoutPolicy::default()
        };
        let mut guard = LoginGuard::new(policy);
        let mut now = Instant::now();
        for i in 0..10_000u32 {
            let ip = IpAddr::V4(Ipv4Addr::from(0xC633_0000 + i));
            guard.record_failure(now, ip, &format!("{}", 1000 + i));
            now += Duration::from_millis(1);
        }
        assert_eq!(
            guard.tracked(),
            200,
            "100 sources + 100 subscribers at most"
        );
        assert_eq!(
            guard.sources.by_last_seen.len(),
            100,
            "index in step with the map"
        );
    }
}
