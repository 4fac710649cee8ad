//! The number of simultaneous internet calls (guide 1.2.1, 2.3).
//!
//! The system derives it from "upstream up to (Kbps)" unless it is set
//! directly. We count [`KBPS_PER_CALL`] = 100 kbit/s upstream per call: a
//! G.711 call with 20 ms packets sends 50 packets/s of 160 bytes payload +
//! 12 RTP + 8 UDP + 20 IPv4 header bytes = 200 bytes, i.e. 80 kbit/s at the
//! IP layer; link-layer overhead (Ethernet, PPPoE, DSL) brings it to about
//! 100 kbit/s. G.711 is the codec to plan for, as myPortal to go VoIP
//! supports nothing else (guide 1.3.3).

use std::fmt;

use super::model::Internet;

/// Upstream bandwidth planned per internet call, kbit/s.
pub const KBPS_PER_CALL: u32 = 100;

/// How many calls may run over the internet at once, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InternetCalls {
    /// The number; 0 means no Device@Home call can be made.
    pub calls: u32,
    /// Where it came from.
    pub source: CallsSource,
}

/// Which setting gave the number of simultaneous internet calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallsSource {
    /// `internet.simultaneous_calls`; `ignored_upstream_kbps` is the
    /// upstream setting it overrode, if both were set.
    Direct {
        /// `internet.upstream_kbps`, when it was set as well.
        ignored_upstream_kbps: Option<u32>,
    },
    /// `internet.upstream_kbps` divided by [`KBPS_PER_CALL`].
    Upstream {
        /// The configured upstream bandwidth.
        kbps: u32,
    },
    /// Neither setting: no internet call at all.
    NotConfigured,
}

impl InternetCalls {
    /// Derives the number from the `[internet]` section.
    pub fn from_section(internet: &Internet) -> Self {
        match (internet.simultaneous_calls, internet.upstream_kbps) {
            (Some(calls), ignored_upstream_kbps) => Self {
                calls,
                source: CallsSource::Direct {
                    ignored_upstream_kbps,
                },
            },
            (None, Some(kbps)) => Self {
                calls: kbps / KBPS_PER_CALL,
                source: CallsSource::Upstream { kbps },
            },
            (None, None) => Self {
                calls: 0,
                source: CallsSource::NotConfigured,
            },
        }
    }
}

/// The setting that gave the number, as a field path with its value, for
/// messages: `internet.upstream_kbps = 50 (0 calls at 100 kbit/s per call)`.
impl fmt::Display for InternetCalls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.source {
            CallsSource::Direct {
                ignored_upstream_kbps: None,
            } => write!(f, "internet.simultaneous_calls = {}", self.calls),
            CallsSource::Direct {
                ignored_upstream_kbps: Some(kbps),
            } => write!(
                f,
                "internet.simultaneous_calls = {} (set directly, so it wins over \
                 internet.upstream_kbps = {kbps}, which would give {})",
                self.calls,
                kbps / KBPS_PER_CALL
            ),
            CallsSource::Upstream { kbps } => write!(
                f,
                "internet.upstream_kbps = {kbps} ({} calls at {KBPS_PER_CALL} kbit/s per call)",
                self.calls
            ),
            CallsSource::NotConfigured => f.write_str(
                "internet (neither upstream_kbps nor simultaneous_calls is set: 0 calls)",
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn calls(upstream_kbps: Option<u32>, simultaneous_calls: Option<u32>) -> InternetCalls {
        InternetCalls::from_section(&Internet {
            upstream_kbps,
            simultaneous_calls,
        })
    }

    #[test]
    fn upstream_gives_one_call_per_100_kbps() {
        assert_eq!(calls(Some(1000), None).calls, 10);
        assert_eq!(calls(Some(199), None).calls, 1);
        assert_eq!(calls(Some(99), None).calls, 0);
        assert_eq!(calls(None, None).calls, 0);
    }

    #[test]
    fn direct_number_wins_and_says_so() {
        let both = calls(Some(1000), Some(4));
        assert_eq!(both.calls, 4);
        let text = both.to_string();
        assert!(
            text.contains("wins over internet.upstream_kbps = 1000"),
            "{text}"
        );
    }
}
