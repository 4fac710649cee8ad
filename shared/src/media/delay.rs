//! The jitter buffer's estimate of how much playout delay the network needs.
//!
//! Each packet's *transit* is its arrival time minus its media time (both in
//! microseconds, with an arbitrary offset between the two clocks). The
//! smallest transit in the recent history is the fastest path; a packet's
//! *excess* over it is the delay jitter it suffered. The target playout
//! delay is a high quantile of recent excesses, or the excess of the latest
//! late packet when that is higher: a peak that rises at once and falls
//! linearly, so the delay grows fast and shrinks slowly.

/// Transit history and the target delay derived from it.
#[derive(Debug, Clone)]
pub struct DelayEstimator {
    /// Ring of recent transits, µs.
    transits: Vec<i64>,
    /// Next slot of the ring to write.
    next: usize,
    /// Slots written so far, up to the ring's length.
    filled: usize,
    /// Reused for the quantile.
    scratch: Vec<i64>,
    /// Which quantile of excesses to cover, in (0, 1].
    quantile: f64,
    /// The late-packet peak, µs of excess.
    peak: i64,
    /// How fast the peak falls, µs per second.
    decay_per_second: i64,
    /// When the peak last fell, µs on the buffer's clock.
    decayed_at: Option<i64>,
    /// Min transit and quantile excess, while no transit was added.
    cached: Option<(i64, i64)>,
}

impl DelayEstimator {
    /// An estimator over the last `history` transits.
    pub fn new(history: usize, quantile: f64, decay_per_second: i64) -> Self {
        let history = history.max(1);
        Self {
            transits: vec![0; history],
            next: 0,
            filled: 0,
            scratch: Vec::with_capacity(history),
            quantile,
            peak: 0,
            decay_per_second,
            decayed_at: None,
            cached: None,
        }
    }

    /// Records the transit of a packet that arrived.
    pub fn record(&mut self, transit: i64) {
        if let Some(slot) = self.transits.get_mut(self.next) {
            *slot = transit;
        }
        self.next = (self.next + 1) % self.transits.len();
        self.filled = (self.filled + 1).min(self.transits.len());
        self.cached = None;
    }

    /// The fastest recent transit: media time plus this is the earliest a
    /// packet arrives. `None` before the first packet.
    pub fn base(&mut self) -> Option<i64> {
        self.summary().map(|(base, _)| base)
    }

    /// The excess of `transit` over the fastest path.
    pub fn excess(&mut self, transit: i64) -> i64 {
        self.base().map_or(0, |base| transit.saturating_sub(base))
    }

    /// A packet with this transit came too late: the target rises at once
    /// to what would have played it.
    pub fn late(&mut self, transit: i64, now: i64) {
        let excess = self.excess(transit);
        if excess > self.peak {
            self.peak = excess;
            self.decayed_at = Some(now);
        }
    }

    /// The delay to aim for at `now` (µs on the buffer's clock), within
    /// `min..=max` µs.
    pub fn target(&mut self, now: i64, min: i64, max: i64) -> i64 {
        if let Some(since) = self.decayed_at {
            let fall = (now - since).max(0).saturating_mul(self.decay_per_second) / 1_000_000;
            if fall > 0 {
                self.peak = (self.peak - fall).max(0);
                self.decayed_at = Some(now);
            }
        }
        let quantile = self.summary().map_or(0, |(_, q)| q);
        quantile.max(self.peak).clamp(min, max.max(min))
    }

    /// The excess the latest late packet called for, as it has decayed by
    /// the last [`target`](Self::target).
    pub fn late_peak(&self) -> i64 {
        self.peak
    }

    /// Forgets everything (a new source or timeline).
    pub fn clear(&mut self) {
        self.next = 0;
        self.filled = 0;
        self.peak = 0;
        self.decayed_at = None;
        self.cached = None;
    }

    fn summary(&mut self) -> Option<(i64, i64)> {
        if self.cached.is_none() && self.filled > 0 {
            let recent = self.transits.get(..self.filled).unwrap_or_default();
            let base = recent.iter().copied().min().unwrap_or(0);
            self.scratch.clear();
            self.scratch.extend(recent.iter().map(|t| t - base));
            // The smallest index covering `quantile` of the samples.
            let rank = (self.quantile * self.filled as f64).ceil() as usize;
            let index = rank.clamp(1, self.filled) - 1;
            let (_, q, _) = self.scratch.select_nth_unstable(index);
            self.cached = Some((base, *q));
        }
        self.cached
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantile_of_excess_over_the_fastest_path() {
        let mut estimator = DelayEstimator::new(100, 0.95, 20_000);
        assert_eq!(estimator.base(), None);
        for i in 0..100 {
            estimator.record(50_000 + i * 1000);
        }
        assert_eq!(estimator.base(), Some(50_000));
        assert_eq!(estimator.target(0, 0, 1_000_000), 94_000);
        assert_eq!(estimator.target(0, 100_000, 1_000_000), 100_000, "min");
        assert_eq!(estimator.target(0, 0, 60_000), 60_000, "max");
    }

    #[test]
    fn history_forgets_old_transits() {
        let mut estimator = DelayEstimator::new(4, 1.0, 0);
        for transit in [0, 90_000, 10, 10, 10, 10] {
            estimator.record(transit);
        }
        assert_eq!(estimator.base(), Some(10));
        assert_eq!(estimator.target(0, 0, 1_000_000), 0);
    }

    #[test]
    fn a_late_packet_raises_the_target_at_once_which_then_falls_slowly() {
        let mut estimator = DelayEstimator::new(100, 0.95, 20_000);
        for _ in 0..100 {
            estimator.record(1_000);
        }
        estimator.late(151_000, 0);
        assert_eq!(estimator.target(0, 40_000, 400_000), 150_000);
        assert_eq!(estimator.target(1_000_000, 40_000, 400_000), 130_000);
        assert_eq!(estimator.target(6_000_000, 40_000, 400_000), 40_000);
        estimator.clear();
        assert_eq!(estimator.base(), None);
    }
}
