//! Small statistics: latency percentiles and counts of failures by reason.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

/// Per-connection latencies, sorted.
#[derive(Debug, Clone, Default)]
pub struct Latencies(Vec<Duration>);

impl Latencies {
    pub fn new(mut samples: Vec<Duration>) -> Self {
        samples.sort_unstable();
        Self(samples)
    }

    /// The nearest-rank percentile `p` (0 < p <= 100), if any sample.
    pub fn percentile(&self, p: f64) -> Option<Duration> {
        let rank = ((p / 100.0) * self.0.len() as f64).ceil() as usize;
        self.0.get(rank.clamp(1, self.0.len().max(1)) - 1).copied()
    }

    pub fn max(&self) -> Option<Duration> {
        self.0.last().copied()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// How often each kind of failure happened.
#[derive(Debug, Clone, Default)]
pub struct Tally(BTreeMap<String, usize>);

impl Tally {
    pub fn add(&mut self, reason: impl Into<String>) {
        *self.0.entry(reason.into()).or_default() += 1;
    }

    /// Adds every count of `other`.
    pub fn merge(&mut self, other: &Tally) {
        for (reason, count) in &other.0 {
            *self.0.entry(reason.clone()).or_default() += count;
        }
    }

    pub fn total(&self) -> usize {
        self.0.values().sum()
    }

    /// Each reason and how often it happened.
    pub fn counts(&self) -> &BTreeMap<String, usize> {
        &self.0
    }
}

/// `0`, or e.g. `3 (2× the gateway stopped answering; 1× ...)`.
impl fmt::Display for Tally {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.total())?;
        if self.0.is_empty() {
            return Ok(());
        }
        let reasons: Vec<String> = self
            .0
            .iter()
            .map(|(reason, count)| format!("{count}× {reason}"))
            .collect();
        write!(f, " ({})", reasons.join("; "))
    }
}
