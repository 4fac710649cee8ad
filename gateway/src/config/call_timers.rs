//! `[call_control]`: how long the system waits for a dialled digit and for
//! a callee to answer.

use std::time::Duration;

use serde::Deserialize;

/// The `[call_control]` section.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallTimersSection {
    /// Seconds after the last digit before an external number is dialled.
    #[serde(default = "default_inter_digit")]
    pub inter_digit_seconds: u32,
    /// Seconds a call may ring before the caller hears "no answer".
    #[serde(default = "default_no_answer")]
    pub no_answer_seconds: u32,
}

/// Accepted range of `inter_digit_seconds`.
pub const INTER_DIGIT_RANGE: std::ops::RangeInclusive<u32> = 1..=30;
/// Accepted range of `no_answer_seconds`.
pub const NO_ANSWER_RANGE: std::ops::RangeInclusive<u32> = 5..=600;

fn default_inter_digit() -> u32 {
    5
}

fn default_no_answer() -> u32 {
    30
}

impl Default for CallTimersSection {
    fn default() -> Self {
        Self {
            inter_digit_seconds: default_inter_digit(),
            no_answer_seconds: default_no_answer(),
        }
    }
}

impl CallTimersSection {
    pub fn inter_digit(&self) -> Duration {
        Duration::from_secs(u64::from(self.inter_digit_seconds))
    }

    pub fn no_answer(&self) -> Duration {
        Duration::from_secs(u64::from(self.no_answer_seconds))
    }
}
