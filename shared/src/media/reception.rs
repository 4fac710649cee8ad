//! Receiver statistics of one remote source, as RFC 3550 Appendix A
//! computes them: extended highest sequence number and packets expected
//! (§A.1, A.3), loss since the last report, interarrival jitter (§A.8), and
//! the last sender report received, which our reports echo for the peer's
//! round-trip time (§6.4.1).
//!
//! Packets are counted once: a duplicate (within the last 128 sequence
//! numbers) is reported to the caller and not counted as received, so
//! network duplication does not hide loss. A sequence number far from the
//! others (over 3000 ahead or 100 behind, §A.1) is not counted either,
//! unless the next packet follows it: then the sender restarted its
//! numbering, and counting restarts there (the loss so far is kept).

use std::time::Instant;

use super::clock::{MediaClock, duration_to_short_ntp};
use super::ids::Ssrc;
use super::rtcp::ReportBlock;
use super::seq::{SeqWindow, extend_seq};

/// RFC 3550 §A.1: how far a sequence number may jump ahead, or fall
/// behind, and still belong to the same numbering.
const MAX_DROPOUT: i64 = 3000;
const MAX_MISORDER: i64 = 100;

/// How a packet counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arrival {
    /// Counted as received.
    New,
    /// Seen before: not counted.
    Duplicate,
    /// Far outside the numbering, not (yet) confirmed by the next packet.
    OutOfSequence,
}

/// What we received from one source.
#[derive(Debug, Clone)]
pub struct Reception {
    ssrc: Ssrc,
    clock_rate: u32,
    base_seq: i64,
    max_seq: i64,
    received: u64,
    expected_prior: u64,
    received_prior: u64,
    /// Interarrival jitter, timestamp units (kept unscaled as a float).
    jitter: f64,
    /// The previous packet's transit, timestamp units (wrapping).
    last_transit: Option<u32>,
    seen: SeqWindow,
    /// The packet after a far jump, which would confirm a restart.
    bad_seq: Option<u16>,
    /// Expected, received and lost before the numbering restarted.
    carried: (u64, u64, u64),
    /// The last SR: middle 32 bits of its NTP time, and when it came.
    last_sr: Option<(u32, Instant)>,
}

impl Reception {
    /// Starts counting a source at its first packet's sequence number.
    pub fn new(ssrc: Ssrc, clock_rate: u32, first_seq: u16) -> Self {
        let base = i64::from(first_seq);
        Self {
            ssrc,
            clock_rate,
            base_seq: base,
            max_seq: base - 1,
            received: 0,
            expected_prior: 0,
            received_prior: 0,
            jitter: 0.0,
            last_transit: None,
            seen: SeqWindow::default(),
            bad_seq: None,
            carried: (0, 0, 0),
            last_sr: None,
        }
    }

    /// The source.
    pub fn ssrc(&self) -> Ssrc {
        self.ssrc
    }

    /// Counts a packet that arrived at `now`. Only packets whose timestamp
    /// is their sampling instant feed the jitter (`timed`: audio, not the
    /// repeated timestamp of a telephone-event).
    pub fn on_packet(
        &mut self,
        clock: &MediaClock,
        now: Instant,
        seq: u16,
        ts: u32,
        timed: bool,
    ) -> Arrival {
        let highest = self.max_seq.max(self.base_seq);
        let mut ext = extend_seq(highest, seq);
        if ext - highest > MAX_DROPOUT || highest - ext > MAX_MISORDER {
            if self.bad_seq != Some(seq) {
                self.bad_seq = Some(seq.wrapping_add(1));
                return Arrival::OutOfSequence;
            }
            self.restart(seq);
            ext = i64::from(seq);
        }
        self.bad_seq = None;
        if !self.seen.insert(ext) {
            return Arrival::Duplicate;
        }
        self.received += 1;
        self.max_seq = self.max_seq.max(ext);
        self.base_seq = self.base_seq.min(ext);
        if timed {
            let arrival = i128::from(clock.micros(now)) * i128::from(self.clock_rate) / 1_000_000;
            // Truncation intended: RTP time wraps at 32 bits.
            let transit = (arrival as u32).wrapping_sub(ts);
            if let Some(last) = self.last_transit {
                let d = f64::from((transit.wrapping_sub(last) as i32).unsigned_abs());
                self.jitter += (d - self.jitter) / 16.0;
            }
            self.last_transit = Some(transit);
        }
        Arrival::New
    }

    /// Counting starts again at `seq`, keeping the totals so far.
    fn restart(&mut self, seq: u16) {
        let (expected, received, lost) = self.carried;
        self.carried = (
            expected + self.numbered_expected(),
            received + self.numbered_received(),
            lost + self
                .numbered_expected()
                .saturating_sub(self.numbered_received()),
        );
        self.base_seq = i64::from(seq);
        self.max_seq = self.base_seq - 1;
        self.seen.clear();
    }

    /// Expected and received since the numbering last (re)started.
    fn numbered_expected(&self) -> u64 {
        u64::try_from(self.max_seq - self.base_seq + 1).unwrap_or(0)
    }

    fn numbered_received(&self) -> u64 {
        self.received - self.carried.1
    }

    /// Packets expected: highest minus first sequence number, plus one
    /// (summed over restarts of the numbering).
    pub fn expected(&self) -> u64 {
        self.carried.0 + self.numbered_expected()
    }

    /// Packets received (duplicates not counted).
    pub fn received(&self) -> u64 {
        self.received
    }

    /// Packets lost: expected minus received, never negative.
    pub fn lost(&self) -> u64 {
        self.carried.2
            + self
                .numbered_expected()
                .saturating_sub(self.numbered_received())
    }

    /// Interarrival jitter, in timestamp units.
    pub fn jitter(&self) -> f64 {
        self.jitter
    }

    /// Notes a sender report whose NTP time had these middle 32 bits.
    pub fn on_sender_report(&mut self, ntp_middle: u32, now: Instant) {
        self.last_sr = Some((ntp_middle, now));
    }

    /// The report block about this source, and the start of a new interval
    /// for its loss fraction.
    pub fn report_block(&mut self, now: Instant) -> ReportBlock {
        let expected = self.expected();
        let expected_interval = expected.saturating_sub(self.expected_prior);
        let received_interval = self.received.saturating_sub(self.received_prior);
        self.expected_prior = expected;
        self.received_prior = self.received;
        let lost_interval = expected_interval.saturating_sub(received_interval);
        let fraction_lost = (lost_interval << 8)
            .checked_div(expected_interval)
            .map_or(0, |f| u8::try_from(f).unwrap_or(u8::MAX));
        let (last_sr, delay_since_last_sr) = self.last_sr.map_or((0, 0), |(middle, at)| {
            (
                middle,
                duration_to_short_ntp(now.saturating_duration_since(at)),
            )
        });
        ReportBlock {
            ssrc: self.ssrc,
            fraction_lost,
            cumulative_lost: i32::try_from(self.lost()).unwrap_or(i32::MAX),
            // Truncation intended: cycles in the high 16 bits, mod 2^32.
            extended_highest_seq: self.max_seq as u32,
            jitter: self.jitter as u32,
            last_sr,
            delay_since_last_sr,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn clock(epoch: Instant) -> MediaClock {
        MediaClock::new(epoch, 0)
    }

    #[test]
    fn loss_is_counted_across_the_wrap_and_duplicates_do_not_hide_it() {
        let t0 = Instant::now();
        let clock = clock(t0);
        let mut rx = Reception::new(Ssrc(5), 8000, 65_530);
        let mut seq = 65_530u16;
        for n in 0..20 {
            if n != 7 && n != 8 {
                assert_eq!(rx.on_packet(&clock, t0, seq, 0, false), Arrival::New);
            }
            seq = seq.wrapping_add(1);
        }
        assert_eq!(
            rx.on_packet(&clock, t0, 65_531, 0, false),
            Arrival::Duplicate
        );
        assert_eq!((rx.expected(), rx.received(), rx.lost()), (20, 18, 2));
        let block = rx.report_block(t0);
        assert_eq!(block.extended_highest_seq, 65_536 + 13); // one cycle, seq 13
        assert_eq!(block.cumulative_lost, 2);
        assert_eq!(block.fraction_lost, 25); // 2 * 256 / 20
        assert_eq!(block.last_sr, 0);
        // Next interval: nothing lost.
        for _ in 0..10 {
            rx.on_packet(&clock, t0, seq, 0, false);
            seq = seq.wrapping_add(1);
        }
        assert_eq!(rx.report_block(t0).fraction_lost, 0);
    }

    #[test]
    fn a_far_jump_counts_only_when_the_next_packet_confirms_it() {
        let t0 = Instant::now();
        let clock = clock(t0);
        let mut rx = Reception::new(Ssrc(5), 8000, 100);
        for seq in 100..110 {
            rx.on_packet(&clock, t0, seq, 0, false);
        }
        // A stray far ahead, one far behind: not counted, nothing lost.
        assert_eq!(
            rx.on_packet(&clock, t0, 30_000, 0, false),
            Arrival::OutOfSequence
        );
        assert_eq!(
            rx.on_packet(&clock, t0, 5, 0, false),
            Arrival::OutOfSequence
        );
        assert_eq!((rx.expected(), rx.lost()), (10, 0));
        // Two in sequence: the sender restarted; counting restarts at the
        // second (RFC 3550 §A.1), then 40 002 is lost.
        assert_eq!(
            rx.on_packet(&clock, t0, 40_000, 0, false),
            Arrival::OutOfSequence
        );
        assert_eq!(rx.on_packet(&clock, t0, 40_001, 0, false), Arrival::New);
        rx.on_packet(&clock, t0, 40_003, 0, false);
        assert_eq!((rx.expected(), rx.received(), rx.lost()), (13, 12, 1));
        assert_eq!(rx.report_block(t0).extended_highest_seq, 40_003);
    }

    #[test]
    fn jitter_follows_rfc_3550_a8() {
        let t0 = Instant::now();
        let clock = clock(t0);
        let mut rx = Reception::new(Ssrc(5), 8000, 0);
        // Packets every 20 ms (160 units), arriving alternately 0 and 10 ms late:
        // |D| = 80 units every time, so J converges to 80.
        for n in 0..400u16 {
            let late = if n % 2 == 0 { 0 } else { 10 };
            let at = t0 + Duration::from_millis(u64::from(n) * 20 + late);
            rx.on_packet(&clock, at, n, u32::from(n) * 160, true);
        }
        assert!((rx.jitter() - 80.0).abs() < 0.5, "{}", rx.jitter());
    }

    #[test]
    fn report_echoes_the_last_sender_report() {
        let t0 = Instant::now();
        let mut rx = Reception::new(Ssrc(5), 8000, 0);
        rx.on_sender_report(0xabcd_1234, t0);
        let block = rx.report_block(t0 + Duration::from_millis(500));
        assert_eq!(block.last_sr, 0xabcd_1234);
        assert_eq!(block.delay_since_last_sr, 0x8000);
    }
}
