//! The failure count of one target, and a bounded table of them.

use std::collections::{BTreeSet, HashMap};
use std::hash::Hash;
use std::time::{Duration, Instant};

use super::LockoutPolicy;

/// Failed attempts against one target and the lockouts they caused.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Record {
    failures: u32,
    /// Lockouts so far: each one lasts twice as long as the one before.
    lockouts: u32,
    /// The latest lockout: when it ends and how long it was.
    lock: Option<(Instant, Duration)>,
}

impl Record {
    /// The end and length of the lockout in force at `now`.
    pub(super) fn active_lock(&self, now: Instant) -> Option<(Instant, Duration)> {
        self.lock.filter(|(until, _)| *until > now)
    }

    pub(super) fn lockouts(&self) -> u32 {
        self.lockouts
    }

    /// Counts one failure; returns the lockout's length if it starts one.
    pub(super) fn fail(&mut self, now: Instant, policy: &LockoutPolicy) -> Option<Duration> {
        self.failures += 1;
        if self.failures < policy.max_failures.max(1) {
            return None;
        }
        let doubling = 2u32.saturating_pow(self.lockouts.min(31));
        let duration = policy
            .base_lockout
            .saturating_mul(doubling)
            .min(policy.max_lockout);
        self.lockouts += 1;
        self.lock = Some((now + duration, duration));
        // After this lockout expires, one more failure locks again.
        self.failures = policy.max_failures.saturating_sub(1);
        Some(duration)
    }

    /// Forgets the failures towards the next lockout, but not how many
    /// lockouts there were (the next one is as long as it would have been).
    pub(super) fn forgive_failures(&mut self) {
        self.failures = 0;
    }

    /// Until when a table must keep this record: the end of its lockout, or
    /// `seen` when that is later (or there is none).
    fn keep_until(&self, seen: Instant) -> Instant {
        self.lock.map_or(seen, |(until, _)| until.max(seen))
    }
}

/// At most `capacity` records. When full, the record with the earliest
/// [`Record::keep_until`] goes: first those without a lockout in force,
/// least recently seen first, and only when every record holds a lockout
/// in force, the one that ends soonest. So a flood of single failures from
/// fresh keys cannot evict a lockout.
#[derive(Debug)]
pub(super) struct BoundedTable<K> {
    capacity: usize,
    records: HashMap<K, (Record, Instant)>,
    /// `(keep_until, key)` of every record, in step with `records`.
    eviction_order: BTreeSet<(Instant, K)>,
}

impl<K: Ord + Hash + Clone> BoundedTable<K> {
    pub(super) fn new(capacity: usize) -> Self {
        Self {
            capacity: capacity.max(1),
            records: HashMap::new(),
            eviction_order: BTreeSet::new(),
        }
    }

    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.records.len()
    }

    /// The end and length of the lockout of `key` in force at `now`.
    pub(super) fn active_lock(&self, key: &K, now: Instant) -> Option<(Instant, Duration)> {
        self.records.get(key)?.0.active_lock(now)
    }

    /// Counts one failure; returns the lockout's length if it starts one.
    pub(super) fn fail(
        &mut self,
        key: K,
        now: Instant,
        policy: &LockoutPolicy,
    ) -> Option<Duration> {
        let mut record = match self.records.remove(&key) {
            Some((record, keep_until)) => {
                self.eviction_order.remove(&(keep_until, key.clone()));
                record
            }
            None => {
                self.make_room();
                Record::default()
            }
        };
        let started = record.fail(now, policy);
        let keep_until = record.keep_until(now);
        self.eviction_order.insert((keep_until, key.clone()));
        self.records.insert(key, (record, keep_until));
        started
    }

    pub(super) fn forget(&mut self, key: &K) {
        if let Some((_, keep_until)) = self.records.remove(key) {
            self.eviction_order.remove(&(keep_until, key.clone()));
        }
    }

    fn make_room(&mut self) {
        while self.records.len() >= self.capacity {
            match self.eviction_order.pop_first() {
                Some((_, evicted)) => {
                    self.records.remove(&evicted);
                }
                None => break,
            }
        }
    }

    /// The index holds exactly the records (tests).
    #[cfg(test)]
    pub(super) fn is_consistent(&self) -> bool {
        self.eviction_order.len() == self.records.len()
            && self
                .eviction_order
                .iter()
                .all(|(keep_until, key)| self.records.get(key).map(|r| r.1) == Some(*keep_until))
    }
}
