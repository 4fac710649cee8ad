//! Signed times in milliseconds and their spread (min / median / max).

use std::time::Instant;

/// `to − from` in ms, negative when `to` is earlier.
pub fn ms_between(from: Instant, to: Instant) -> f64 {
    if to >= from {
        (to - from).as_secs_f64() * 1e3
    } else {
        -((from - to).as_secs_f64() * 1e3)
    }
}

/// Samples in ms, sorted.
#[derive(Debug, Clone, Default)]
pub struct Spread(Vec<f64>);

impl Spread {
    pub fn new(mut samples: Vec<f64>) -> Self {
        samples.sort_by(f64::total_cmp);
        Self(samples)
    }

    pub fn values(&self) -> &[f64] {
        &self.0
    }

    pub fn min(&self) -> Option<f64> {
        self.0.first().copied()
    }

    pub fn max(&self) -> Option<f64> {
        self.0.last().copied()
    }

    /// The nearest-rank median.
    pub fn median(&self) -> Option<f64> {
        let rank = self.0.len().div_ceil(2);
        self.0.get(rank.max(1) - 1).copied()
    }

    /// `min / p50 / max ms` with `decimals` digits.
    pub fn show(&self, decimals: usize) -> String {
        let ms = |value: Option<f64>| {
            value.map_or_else(|| "–".to_owned(), |v| format!("{v:.decimals$}"))
        };
        format!(
            "{} / {} / {} ms",
            ms(self.min()),
            ms(self.median()),
            ms(self.max())
        )
    }
}
