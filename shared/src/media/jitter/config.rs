//! The jitter buffer's settings, and their defaults for 20 ms speech.

use std::time::Duration;

use super::super::error::MediaError;

/// Settings of a [`JitterBuffer`](super::JitterBuffer).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct JitterConfig {
    /// The least playout delay beyond the fastest path.
    pub min_delay: Duration,
    /// The least playout delay once a packet was lost (it did not come
    /// within 100 ms of its frame; a late one is answered by the delay
    /// estimate instead). A packet time lets Opus FEC find the next packet
    /// when one is lost; a clean path does without it.
    pub min_delay_after_loss: Duration,
    /// The most playout delay the buffer will build up.
    pub max_delay: Duration,
    /// The most packets held.
    pub max_packets: usize,
    /// The share of recent packets the target delay lets arrive in time.
    pub quantile: f64,
    /// How many recent packets the delay estimate looks at.
    pub history: usize,
    /// Drop at most one frame per this interval to shrink the delay.
    pub shrink_interval: Duration,
    /// How fast the delay a late packet called for is forgotten, per second.
    pub peak_decay_per_second: Duration,
    /// With nothing to play for this long, stop concealing: the stream is
    /// silent (DTX, hold, end) and restarts at its next packet.
    pub idle_after: Duration,
}

impl Default for JitterConfig {
    /// 20 to 400 ms; 95 % of the last 250 packets (5 s at 20 ms) in time;
    /// shrinking by at most 20 ms per second; silence after 60 ms.
    fn default() -> Self {
        Self {
            min_delay: Duration::from_millis(20),
            min_delay_after_loss: Duration::from_millis(20),
            max_delay: Duration::from_millis(400),
            max_packets: 64,
            quantile: 0.95,
            history: 250,
            shrink_interval: Duration::from_secs(1),
            peak_decay_per_second: Duration::from_millis(20),
            idle_after: Duration::from_millis(60),
        }
    }
}

impl JitterConfig {
    /// Checks that the settings can work together.
    pub fn validate(&self) -> Result<(), MediaError> {
        let error = |what| Err(MediaError::BadJitterConfig(what));
        if self.min_delay > self.max_delay || self.min_delay_after_loss > self.max_delay {
            return error("min_delay or min_delay_after_loss exceeds max_delay");
        }
        if self.max_packets < 2 {
            return error("max_packets must be at least 2");
        }
        if !(self.quantile > 0.0 && self.quantile <= 1.0) {
            return error("quantile must be in (0, 1]");
        }
        if self.history == 0 {
            return error("history must be at least 1");
        }
        Ok(())
    }
}
