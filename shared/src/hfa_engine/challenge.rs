//! Registration challenges that can be used once.
//!
//! The challenge of an HFA registration is the system's timestamp (seconds),
//! sent in answer to the phone's timestamp request; the phone proves its
//! password with an HMAC over it. If two connections were given the same
//! value, a Register captured on one could be replayed on the other. So the
//! issuer, shared by all connections of one gateway, never hands out a value
//! twice: it gives the system time in seconds, or one more than the last
//! value it gave if that is later (during a registration storm the values
//! run ahead of the clock by at most the number of registrations).

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Instant;

use crate::hfa::Timestamp;

/// Hands out strictly increasing timestamps, shared by all connections.
#[derive(Debug)]
pub struct ChallengeIssuer {
    /// `now` at which the system time was `epoch_seconds`.
    epoch: Instant,
    epoch_seconds: u32,
    last: AtomicU32,
}

impl ChallengeIssuer {
    /// `epoch_seconds` is the system time (e.g. seconds since 1970) at `epoch`.
    pub fn new(epoch: Instant, epoch_seconds: u32) -> Self {
        Self {
            epoch,
            epoch_seconds,
            last: AtomicU32::new(epoch_seconds.wrapping_sub(1)),
        }
    }

    /// The system time at `now`, in seconds (what Alive messages carry).
    pub fn system_time(&self, now: Instant) -> Timestamp {
        let elapsed = now.saturating_duration_since(self.epoch).as_secs();
        Timestamp(self.epoch_seconds.wrapping_add(elapsed as u32))
    }

    /// A challenge never issued before by this issuer.
    pub fn issue(&self, now: Instant) -> Timestamp {
        let clock = self.system_time(now).0;
        let previous = self
            .last
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |last| {
                Some(if clock > last {
                    clock
                } else {
                    last.wrapping_add(1)
                })
            })
            .unwrap_or_else(|last| last);
        Timestamp(if clock > previous {
            clock
        } else {
            previous.wrapping_add(1)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;
    use std::time::Duration;

    #[test]
    fn follows_the_clock_when_idle() {
        let t0 = Instant::now();
        let issuer = ChallengeIssuer::new(t0, 1_700_000_000);
        assert_eq!(issuer.issue(t0), Timestamp(1_700_000_000));
        assert_eq!(
            issuer.issue(t0 + Duration::from_secs(10)),
            Timestamp(1_700_000_010)
        );
    }

    #[test]
    fn never_repeats_within_one_second() {
        let t0 = Instant::now();
        let issuer = ChallengeIssuer::new(t0, 1_700_000_000);
        let issued: HashSet<_> = (0..1000).map(|_| issuer.issue(t0).0).collect();
        assert_eq!(issued.len(), 1000);
        // Once the clock passes the values handed out, it is followed again.
        assert_eq!(
            issuer.issue(t0 + Duration::from_secs(2000)),
            Timestamp(1_700_002_000)
        );
    }

    #[test]
    fn never_repeats_across_threads() {
        let t0 = Instant::now();
        let issuer = std::sync::Arc::new(ChallengeIssuer::new(t0, 5));
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let issuer = issuer.clone();
                std::thread::spawn(move || (0..500).map(|_| issuer.issue(t0).0).collect::<Vec<_>>())
            })
            .collect();
        let mut all = HashSet::new();
        for handle in handles {
            for value in handle.join().unwrap() {
                assert!(all.insert(value), "challenge {value} issued twice");
            }
        }
    }
}
