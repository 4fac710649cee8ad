//! Registration challenges, and the system time of Alive messages.
//!
//! The challenge of an HFA registration is the 4-byte value the system
//! sends in answer to the phone's timestamp request; the phone proves its
//! password with an HMAC over it. HFA signalling travels in clear (guide
//! section 6), so anyone on the path can capture a Register. What keeps
//! that Register from ever being accepted again is that the challenge it
//! answers is:
//!
//! - **unpredictable**: 32 bits from a CSPRNG (not the clock, which an
//!   attacker could run ahead of, or wait for after a restart); a captured
//!   Register is only good on a connection that happens to be issued the
//!   same value, one chance in 2^32 per challenge issued;
//! - **single use, on the connection that asked for it, within its
//!   lifetime**: the connection engine keeps the few values it issued and
//!   consumes them with the Register (`system.rs`), so no table shared
//!   between connections or across restarts is needed.

use std::time::Instant;

use rand::Rng;

use crate::hfa::Timestamp;

/// Issues challenges and tells the system time; shared by all connections.
#[derive(Debug)]
pub struct ChallengeIssuer {
    /// `now` at which the system time was `epoch_seconds`.
    epoch: Instant,
    epoch_seconds: u32,
}

impl ChallengeIssuer {
    /// `epoch_seconds` is the system time (e.g. seconds since 1970) at `epoch`.
    pub fn new(epoch: Instant, epoch_seconds: u32) -> Self {
        Self {
            epoch,
            epoch_seconds,
        }
    }

    /// The system time at `now`, in seconds (what Alive messages carry).
    pub fn system_time(&self, now: Instant) -> Timestamp {
        let elapsed = now.saturating_duration_since(self.epoch).as_secs();
        Timestamp(self.epoch_seconds.wrapping_add(elapsed as u32))
    }

    /// A fresh challenge: 32 bits from the thread's CSPRNG (ChaCha, seeded
    /// and reseeded from the operating system).
    pub fn issue(&self) -> Timestamp {
        Timestamp(rand::rng().random())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;
    use std::time::Duration;

    #[test]
    fn the_system_time_follows_the_clock() {
        let t0 = Instant::now();
        let issuer = ChallengeIssuer::new(t0, 1_700_000_000);
        assert_eq!(issuer.system_time(t0), Timestamp(1_700_000_000));
        assert_eq!(
            issuer.system_time(t0 + Duration::from_secs(10)),
            Timestamp(1_700_000_010)
        );
    }

    #[test]
    fn challenges_do_not_follow_the_clock() {
        let t0 = Instant::now();
        let issuer = ChallengeIssuer::new(t0, 1_700_000_000);
        // 1000 draws of 32 bits: a repeat has odds of about 1 in 10^4, and
        // a run of values near the clock would be ~1 in 2^32000.
        let issued: HashSet<u32> = (0..1000).map(|_| issuer.issue().0).collect();
        assert!(issued.len() >= 998, "{} distinct", issued.len());
        let near_the_clock = issued
            .iter()
            .filter(|value| value.abs_diff(1_700_000_000) < 100_000)
            .count();
        assert!(
            near_the_clock < 10,
            "{near_the_clock} values near the clock"
        );
    }
}
