//! Time as the media engines see it: an `Instant` given by the owner,
//! turned into microseconds since the session began and into the NTP
//! timestamps that RTCP sender reports carry.
//!
//! RTCP round-trip time needs only *our own* NTP clock to be consistent: the
//! peer echoes the middle 32 bits of our last sender report (LSR) and how
//! long it held it (DLSR), and we subtract both from our clock now
//! (RFC 3550 §6.4.1). So the NTP clock counts from a seeded, arbitrary epoch
//! rather than reading the wall clock, which `shared` never does.

use std::time::{Duration, Instant};

/// A 64-bit NTP timestamp: seconds in the high 32 bits, the fraction in the
/// low 32 (RFC 3550 §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct NtpTime(pub u64);

impl NtpTime {
    /// The middle 32 bits: the "short" form of LSR and of the time it is
    /// compared against (16.16 fixed point seconds).
    pub fn middle32(self) -> u32 {
        // Truncation intended: bits 16..48.
        (self.0 >> 16) as u32
    }
}

/// A 16.16 fixed point duration (RFC 3550 DLSR, or a difference of two
/// middle-32 NTP values) as a `Duration`.
pub fn short_ntp_to_duration(value: u32) -> Duration {
    let micros = (u64::from(value) * 1_000_000) >> 16;
    Duration::from_micros(micros)
}

/// A `Duration` as 16.16 fixed point seconds, saturating at the largest
/// value (18 hours).
pub fn duration_to_short_ntp(duration: Duration) -> u32 {
    let units = duration.as_micros().saturating_mul(65_536) / 1_000_000;
    u32::try_from(units).unwrap_or(u32::MAX)
}

/// The session's clock: a fixed epoch `Instant` and the NTP time it stands
/// for.
#[derive(Debug, Clone, Copy)]
pub struct MediaClock {
    epoch: Instant,
    ntp_epoch_seconds: u32,
}

impl MediaClock {
    /// A clock whose `epoch` reads `ntp_epoch_seconds` in NTP seconds.
    pub fn new(epoch: Instant, ntp_epoch_seconds: u32) -> Self {
        Self {
            epoch,
            ntp_epoch_seconds,
        }
    }

    /// Microseconds from the epoch to `now` (0 before the epoch).
    pub fn micros(&self, now: Instant) -> i64 {
        i64::try_from(now.saturating_duration_since(self.epoch).as_micros()).unwrap_or(i64::MAX)
    }

    /// `now` as an NTP timestamp.
    pub fn ntp(&self, now: Instant) -> NtpTime {
        let since = now.saturating_duration_since(self.epoch);
        let seconds = u64::from(self.ntp_epoch_seconds).wrapping_add(since.as_secs());
        let fraction = (u64::from(since.subsec_nanos()) << 32) / 1_000_000_000;
        NtpTime((seconds << 32) | fraction)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ntp_time_counts_from_the_epoch_seconds() {
        let epoch = Instant::now();
        let clock = MediaClock::new(epoch, 0xE000_0000);
        let ntp = clock.ntp(epoch + Duration::from_millis(2_500));
        assert_eq!(ntp.0 >> 32, 0xE000_0002);
        assert_eq!(ntp.0 & 0xFFFF_FFFF, 1 << 31);
        assert_eq!(ntp.middle32(), 0x0002_8000);
        assert_eq!(clock.micros(epoch + Duration::from_millis(3)), 3_000);
        assert_eq!(clock.micros(epoch), 0);
    }

    #[test]
    fn short_ntp_round_trips_to_a_microsecond() {
        let d = Duration::from_micros(1_234_567);
        let back = short_ntp_to_duration(duration_to_short_ntp(d));
        assert!(d.abs_diff(back) < Duration::from_micros(20), "{back:?}");
        assert_eq!(
            duration_to_short_ntp(Duration::from_secs(1 << 20)),
            u32::MAX
        );
    }
}
