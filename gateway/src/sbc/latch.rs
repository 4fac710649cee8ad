//! Latching the device's real (post-NAT) source, with the protection
//! against RTP hijacking ("RTP Bleed": CVE-2017-14099, CVE-2017-14114,
//! CVE-2025-53399) of `docs/sbc.md`. Sans-IO: time is an input.
//!
//! ```text
//!  Idle ──open_window(now)──► Learning { until, candidate } ──probation──► Latched(source)
//!   ▲                              │ window closes                            │
//!   └──────────────────────────────┘                                          │
//!   open_window(now) (a signalling event: relearn) forgets the source ◄───────┘
//! ```
//!
//! - A source becomes the candidate with its first RTP packet. It is latched
//!   after `probation` packets in a row from that source (address *and*
//!   port) with consecutive sequence numbers; a wrap counts as consecutive.
//!   A packet from another source, or out of sequence, restarts probation
//!   with that packet. So an attacker cannot take the channel by sending
//!   first (the device's own run replaces the attacker as candidate) nor by
//!   interleaving (every foreign packet breaks a run, its own included):
//!   only an uninterrupted run of `probation` consecutive packets latches.
//! - When signalling tells where the device is (`expected`: the IP address
//!   its registration comes from), packets from any other IP are foreign
//!   even while learning: they neither become candidates nor break the
//!   device's run. Without it, an attacker who sends a clean run before the
//!   device does is indistinguishable from the device.
//! - Nothing is learned outside a window; nothing from the device is
//!   forwarded before the latch.
//! - RTCP is accepted only once RTP is latched, from the latched IP address
//!   at *any* port: a NAT that is not port-preserving maps the device's
//!   RTCP socket to a port unrelated to its RTP mapping, so "latched port +
//!   1" would lose RTCP behind such NATs. The first accepted RTCP source is
//!   then kept (strict source for RTCP too), and RTCP to the device goes to
//!   it; before any arrives, to the latched RTP port + 1 (RFC 3550, 11).

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

/// The latching rules of one deployment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LatchRules {
    /// How long a signalling event lets the device's source be learned.
    pub window: Duration,
    /// Packets in a row with consecutive sequence numbers that latch a
    /// source (at least 1).
    pub probation: u16,
}

/// A source on probation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Candidate {
    /// Where its packets come from.
    pub source: SocketAddr,
    /// The sequence number of its last packet.
    pub last_seq: u16,
    /// Its packets in a row so far.
    pub count: u16,
}

/// Where the latch is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LatchState {
    /// Not learning, nothing latched: no call, or the window closed
    /// without a latch.
    Idle,
    /// A learning window is open until `until`.
    Learning {
        /// When the window closes.
        until: Instant,
        /// The source on probation, if any.
        candidate: Option<Candidate>,
    },
    /// The device's source is known; only it is forwarded.
    Latched {
        /// The device's RTP source.
        source: SocketAddr,
        /// The device's RTCP source, once one arrived.
        rtcp: Option<SocketAddr>,
    },
}

/// The latch as the control plane sees it (without the probation details).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LatchView {
    /// Not learning, nothing latched.
    Idle,
    /// Learning until the instant.
    Learning {
        /// When the window closes.
        until: Instant,
    },
    /// Latched.
    Latched {
        /// The device's RTP source.
        source: SocketAddr,
        /// The device's RTCP source, once one arrived.
        rtcp: Option<SocketAddr>,
    },
}

/// Why a packet from the public side is not forwarded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// From somewhere other than the latched source (or, with an expected
    /// address, another IP address while learning).
    Foreign,
    /// Learning: the source is on probation (or just broke a run).
    Probation,
    /// No window is open and nothing is latched.
    NotLearning,
}

/// What to do with a packet from the public side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// From the device: forward it.
    Forward,
    /// Drop it, counted under the reason.
    Drop(Refused),
}

/// One channel's latch.
#[derive(Debug, Clone)]
pub struct Latch {
    rules: LatchRules,
    state: LatchState,
    /// The IP address signalling says the device sends from, if known.
    expected: Option<IpAddr>,
}

impl Latch {
    /// An idle latch.
    pub fn new(rules: LatchRules) -> Self {
        Self {
            rules,
            state: LatchState::Idle,
            expected: None,
        }
    }

    /// Where the latch is.
    pub fn state(&self) -> LatchState {
        self.state
    }

    /// Where the latch is, without the probation details.
    pub fn view(&self) -> LatchView {
        match self.state {
            LatchState::Idle => LatchView::Idle,
            LatchState::Learning { until, .. } => LatchView::Learning { until },
            LatchState::Latched { source, rtcp } => LatchView::Latched { source, rtcp },
        }
    }

    /// The IP address learning is restricted to, if any.
    pub fn expected(&self) -> Option<IpAddr> {
        self.expected
    }

    /// The latched RTP source.
    pub fn source(&self) -> Option<SocketAddr> {
        match self.state {
            LatchState::Latched { source, .. } => Some(source),
            _ => None,
        }
    }

    /// A signalling event: forget any latched source and learn for a
    /// window from `now`, from `expected` only when it is given.
    pub fn open_window(&mut self, now: Instant, expected: Option<IpAddr>) {
        self.expected = expected;
        self.state = LatchState::Learning {
            until: now + self.rules.window,
            candidate: None,
        };
    }

    /// Back to idle: the call ended.
    pub fn reset(&mut self) {
        self.state = LatchState::Idle;
        self.expected = None;
    }

    /// Decides about an RTP packet from `source` with sequence number
    /// `seq`, and learns from it.
    pub fn on_rtp(&mut self, now: Instant, source: SocketAddr, seq: u16) -> Verdict {
        match self.state {
            LatchState::Latched {
                source: latched, ..
            } => {
                if source == latched {
                    Verdict::Forward
                } else {
                    Verdict::Drop(Refused::Foreign)
                }
            }
            LatchState::Idle => Verdict::Drop(Refused::NotLearning),
            LatchState::Learning { until, .. } if now >= until => {
                self.state = LatchState::Idle;
                Verdict::Drop(Refused::NotLearning)
            }
            LatchState::Learning { until, candidate } => {
                if self.expected.is_some_and(|ip| ip != source.ip()) {
                    return Verdict::Drop(Refused::Foreign);
                }
                let count = match candidate {
                    Some(run) if run.source == source && seq == run.last_seq.wrapping_add(1) => {
                        run.count.saturating_add(1)
                    }
                    _ => 1,
                };
                if count >= self.rules.probation.max(1) {
                    self.state = LatchState::Latched { source, rtcp: None };
                    // The packet that completes probation is the first one
                    // forwarded.
                    return Verdict::Forward;
                }
                self.state = LatchState::Learning {
                    until,
                    candidate: Some(Candidate {
                        source,
                        last_seq: seq,
                        count,
                    }),
                };
                Verdict::Drop(Refused::Probation)
            }
        }
    }

    /// Decides about an RTCP packet from `source`: accepted from the
    /// latched IP address at any port, then from that port only.
    pub fn on_rtcp(&mut self, now: Instant, source: SocketAddr) -> Verdict {
        match &mut self.state {
            LatchState::Latched {
                source: latched,
                rtcp,
            } => match rtcp {
                Some(known) if *known == source => Verdict::Forward,
                Some(_) => Verdict::Drop(Refused::Foreign),
                None if source.ip() == latched.ip() => {
                    *rtcp = Some(source);
                    Verdict::Forward
                }
                None => Verdict::Drop(Refused::Foreign),
            },
            LatchState::Idle => Verdict::Drop(Refused::NotLearning),
            LatchState::Learning { until, .. } if now >= *until => {
                self.state = LatchState::Idle;
                Verdict::Drop(Refused::NotLearning)
            }
            LatchState::Learning { .. } => {
                if self.expected.is_some_and(|ip| ip != source.ip()) {
                    Verdict::Drop(Refused::Foreign)
                } else {
                    Verdict::Drop(Refused::Probation)
                }
            }
        }
    }

    /// Where RTP for the device goes: the latched source.
    pub fn rtp_destination(&self) -> Option<SocketAddr> {
        self.source()
    }

    /// Where RTCP for the device goes: its RTCP source once known, else
    /// the latched RTP port + 1.
    pub fn rtcp_destination(&self) -> Option<SocketAddr> {
        match self.state {
            LatchState::Latched {
                rtcp: Some(rtcp), ..
            } => Some(rtcp),
            LatchState::Latched { source, rtcp: None } => source
                .port()
                .checked_add(1)
                .map(|port| SocketAddr::new(source.ip(), port)),
            _ => None,
        }
    }

    /// Whether a learning window is open at `now`.
    pub fn is_learning(&self, now: Instant) -> bool {
        matches!(self.state, LatchState::Learning { until, .. } if now < until)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const WINDOW: Duration = Duration::from_secs(10);

    fn rules() -> LatchRules {
        LatchRules {
            window: WINDOW,
            probation: 3,
        }
    }

    fn phone() -> SocketAddr {
        "198.51.100.7:40002".parse().unwrap()
    }

    fn attacker() -> SocketAddr {
        "203.0.113.66:5004".parse().unwrap()
    }

    /// A virtual clock: the start, and 20 ms per packet after it.
    struct Clock(Instant);

    impl Clock {
        fn at(&self, packets: u32) -> Instant {
            self.0 + Duration::from_millis(20) * packets
        }
    }

    fn learning() -> (Latch, Clock) {
        let clock = Clock(Instant::now());
        let mut latch = Latch::new(rules());
        latch.open_window(clock.at(0), None);
        (latch, clock)
    }

    const FWD: Verdict = Verdict::Forward;
    const PROBATION: Verdict = Verdict::Drop(Refused::Probation);
    const FOREIGN: Verdict = Verdict::Drop(Refused::Foreign);
    const NOT_LEARNING: Verdict = Verdict::Drop(Refused::NotLearning);

    #[test]
    fn idle_learns_nothing() {
        let clock = Clock(Instant::now());
        let mut latch = Latch::new(rules());
        for i in 0..10 {
            assert_eq!(latch.on_rtp(clock.at(i), phone(), i as u16), NOT_LEARNING);
        }
        assert_eq!(latch.state(), LatchState::Idle);
        assert_eq!(latch.on_rtcp(clock.at(11), phone()), NOT_LEARNING);
        assert_eq!(latch.rtp_destination(), None);
        assert_eq!(latch.rtcp_destination(), None);
    }

    #[test]
    fn latches_after_three_consecutive_and_forwards_the_third() {
        let (mut latch, clock) = learning();
        assert_eq!(latch.on_rtp(clock.at(1), phone(), 100), PROBATION);
        assert_eq!(latch.on_rtp(clock.at(2), phone(), 101), PROBATION);
        assert!(latch.is_learning(clock.at(2)));
        assert_eq!(latch.on_rtp(clock.at(3), phone(), 102), FWD);
        assert_eq!(
            latch.state(),
            LatchState::Latched {
                source: phone(),
                rtcp: None
            }
        );
        assert_eq!(latch.on_rtp(clock.at(4), phone(), 103), FWD);
        assert_eq!(latch.rtp_destination(), Some(phone()));
        assert!(!latch.is_learning(clock.at(4)));
    }

    #[test]
    fn a_gap_a_repeat_or_a_step_back_restarts_probation() {
        let (mut latch, clock) = learning();
        for (i, seq) in [10u16, 11, 13, 14, 14, 15, 14, 15].into_iter().enumerate() {
            assert_eq!(
                latch.on_rtp(clock.at(i as u32), phone(), seq),
                PROBATION,
                "seq {seq}"
            );
        }
        assert_eq!(
            latch.on_rtp(clock.at(9), phone(), 16),
            FWD,
            "14, 15, 16 in a row"
        );
    }

    #[test]
    fn a_wrap_counts_as_consecutive() {
        let (mut latch, clock) = learning();
        assert_eq!(latch.on_rtp(clock.at(1), phone(), 65534), PROBATION);
        assert_eq!(latch.on_rtp(clock.at(2), phone(), 65535), PROBATION);
        assert_eq!(latch.on_rtp(clock.at(3), phone(), 0), FWD);
        let (mut latch, clock) = learning();
        assert_eq!(latch.on_rtp(clock.at(1), phone(), 65535), PROBATION);
        assert_eq!(latch.on_rtp(clock.at(2), phone(), 0), PROBATION);
        assert_eq!(latch.on_rtp(clock.at(3), phone(), 1), FWD);
    }

    #[test]
    fn the_same_address_at_another_port_is_another_source() {
        let (mut latch, clock) = learning();
        let other_port = SocketAddr::new(phone().ip(), phone().port() + 2);
        assert_eq!(latch.on_rtp(clock.at(1), phone(), 1), PROBATION);
        assert_eq!(latch.on_rtp(clock.at(2), phone(), 2), PROBATION);
        assert_eq!(latch.on_rtp(clock.at(3), other_port, 3), PROBATION);
        assert_eq!(latch.on_rtp(clock.at(4), phone(), 3), PROBATION);
    }

    #[test]
    fn an_attacker_sending_first_loses_to_the_device() {
        let (mut latch, clock) = learning();
        // Two plausible packets before the device starts...
        assert_eq!(latch.on_rtp(clock.at(1), attacker(), 5000), PROBATION);
        assert_eq!(latch.on_rtp(clock.at(2), attacker(), 5001), PROBATION);
        // ...are replaced by the device's run.
        assert_eq!(latch.on_rtp(clock.at(3), phone(), 7), PROBATION);
        assert_eq!(latch.on_rtp(clock.at(4), phone(), 8), PROBATION);
        assert_eq!(latch.on_rtp(clock.at(5), phone(), 9), FWD);
        // And the attacker's continuation of its run is foreign.
        assert_eq!(latch.on_rtp(clock.at(6), attacker(), 5002), FOREIGN);
        assert_eq!(latch.source(), Some(phone()));
    }

    #[test]
    fn an_interleaving_attacker_never_latches() {
        let (mut latch, clock) = learning();
        let mut t = 0;
        let mut step = || {
            t += 1;
            clock.at(t)
        };
        // Attacker and device alternate, each with consecutive numbers:
        // every packet breaks the other's run, so neither completes one.
        for i in 0..100u16 {
            assert_eq!(latch.on_rtp(step(), attacker(), 9000 + i), PROBATION);
            assert_eq!(latch.on_rtp(step(), phone(), 10 + i), PROBATION);
        }
        // Two attacker packets between device packets: still nothing.
        for i in 0..50u16 {
            assert_eq!(latch.on_rtp(step(), attacker(), 9100 + 2 * i), PROBATION);
            assert_eq!(latch.on_rtp(step(), attacker(), 9101 + 2 * i), PROBATION);
            assert_eq!(latch.on_rtp(step(), phone(), 110 + i), PROBATION);
        }
        assert!(matches!(latch.state(), LatchState::Learning { .. }));
        // Once the attacker pauses, the device's own run (from its last
        // packet above, 159) latches it.
        assert_eq!(latch.on_rtp(step(), phone(), 160), PROBATION);
        assert_eq!(latch.on_rtp(step(), phone(), 161), FWD);
        assert_eq!(latch.source(), Some(phone()));
    }

    #[test]
    fn with_an_expected_address_others_are_foreign_and_cannot_interfere() {
        let clock = Clock(Instant::now());
        let mut latch = Latch::new(rules());
        latch.open_window(clock.at(0), Some(phone().ip()));
        assert_eq!(latch.expected(), Some(phone().ip()));
        // The attacker sends first and in between, with a clean run.
        assert_eq!(latch.on_rtp(clock.at(1), attacker(), 1), FOREIGN);
        assert_eq!(latch.on_rtp(clock.at(2), attacker(), 2), FOREIGN);
        assert_eq!(latch.on_rtp(clock.at(3), attacker(), 3), FOREIGN);
        assert_eq!(latch.on_rtp(clock.at(4), phone(), 50), PROBATION);
        assert_eq!(latch.on_rtp(clock.at(5), attacker(), 4), FOREIGN);
        assert_eq!(latch.on_rtp(clock.at(6), phone(), 51), PROBATION);
        assert_eq!(latch.on_rtcp(clock.at(6), attacker()), FOREIGN);
        assert_eq!(latch.on_rtp(clock.at(7), attacker(), 5), FOREIGN);
        // A NAT-changed port of the expected address is fine.
        assert_eq!(latch.on_rtp(clock.at(8), phone(), 52), FWD);
        assert_eq!(latch.source(), Some(phone()));
    }

    #[test]
    fn strict_source_after_the_latch() {
        let (mut latch, clock) = learning();
        for seq in 0..3 {
            latch.on_rtp(clock.at(u32::from(seq)), phone(), seq);
        }
        let same_ip = SocketAddr::new(phone().ip(), 40010);
        for i in 0..1000u16 {
            let now = clock.at(u32::from(i) + 3);
            assert_eq!(latch.on_rtp(now, attacker(), 3 + i), FOREIGN);
            assert_eq!(latch.on_rtp(now, same_ip, 3 + i), FOREIGN);
            // Any sequence number from the latched source is forwarded
            // (loss, reordering and restarts are the receiver's business).
            assert_eq!(latch.on_rtp(now, phone(), i.wrapping_mul(7919)), FWD);
        }
        // Long after the window: still latched.
        assert_eq!(latch.on_rtp(clock.0 + WINDOW * 100, phone(), 5), FWD);
    }

    #[test]
    fn the_window_closes_without_a_latch() {
        let (mut latch, clock) = learning();
        assert_eq!(latch.on_rtp(clock.at(1), phone(), 1), PROBATION);
        assert_eq!(latch.on_rtp(clock.at(2), phone(), 2), PROBATION);
        // The third packet comes just as the window closes.
        assert!(latch.is_learning(clock.0 + WINDOW - Duration::from_nanos(1)));
        assert!(!latch.is_learning(clock.0 + WINDOW));
        assert_eq!(latch.on_rtp(clock.0 + WINDOW, phone(), 3), NOT_LEARNING);
        assert_eq!(latch.state(), LatchState::Idle);
        for seq in 4..20 {
            assert_eq!(
                latch.on_rtp(clock.0 + WINDOW * 2, phone(), seq),
                NOT_LEARNING
            );
        }
        // The next signalling event opens a new window.
        latch.open_window(clock.0 + WINDOW * 3, None);
        let later = clock.0 + WINDOW * 3;
        assert_eq!(latch.on_rtp(later, phone(), 20), PROBATION);
        assert_eq!(latch.on_rtp(later, phone(), 21), PROBATION);
        assert_eq!(latch.on_rtp(later, phone(), 22), FWD);
    }

    #[test]
    fn a_late_window_closes_on_rtcp_too() {
        let (mut latch, clock) = learning();
        assert_eq!(latch.on_rtcp(clock.at(1), phone()), PROBATION);
        assert_eq!(latch.on_rtcp(clock.0 + WINDOW, phone()), NOT_LEARNING);
        assert_eq!(latch.state(), LatchState::Idle);
    }

    #[test]
    fn relearn_forgets_the_old_source_and_latches_a_new_one() {
        let (mut latch, clock) = learning();
        for seq in 0..3 {
            latch.on_rtp(clock.at(u32::from(seq)), phone(), seq);
        }
        assert_eq!(latch.source(), Some(phone()));
        // The device re-registered from a new address.
        let moved: SocketAddr = "192.0.2.9:61000".parse().unwrap();
        latch.open_window(clock.at(10), None);
        assert_eq!(latch.source(), None);
        assert_eq!(
            latch.rtp_destination(),
            None,
            "nothing goes to the old source"
        );
        assert_eq!(latch.on_rtp(clock.at(11), moved, 500), PROBATION);
        assert_eq!(latch.on_rtp(clock.at(12), moved, 501), PROBATION);
        assert_eq!(latch.on_rtp(clock.at(13), moved, 502), FWD);
        assert_eq!(latch.on_rtp(clock.at(14), phone(), 3), FOREIGN);
        assert_eq!(latch.source(), Some(moved));
        // A relearn whose window closes unused leaves nothing latched.
        latch.open_window(clock.at(20), None);
        assert_eq!(
            latch.on_rtp(clock.at(20) + WINDOW, moved, 503),
            NOT_LEARNING
        );
        assert_eq!(latch.source(), None);
    }

    #[test]
    fn rtcp_follows_the_latched_address_then_its_first_port() {
        let (mut latch, clock) = learning();
        assert_eq!(latch.on_rtcp(clock.at(0), phone()), PROBATION);
        for seq in 0..3 {
            latch.on_rtp(clock.at(u32::from(seq)), phone(), seq);
        }
        let conventional = SocketAddr::new(phone().ip(), phone().port() + 1);
        assert_eq!(latch.rtcp_destination(), Some(conventional));
        // The NAT mapped RTCP elsewhere: any port of the latched address.
        let mapped = SocketAddr::new(phone().ip(), 50123);
        assert_eq!(latch.on_rtcp(clock.at(4), attacker()), FOREIGN);
        assert_eq!(latch.on_rtcp(clock.at(4), mapped), FWD);
        assert_eq!(latch.rtcp_destination(), Some(mapped));
        // Then that port only.
        assert_eq!(latch.on_rtcp(clock.at(5), mapped), FWD);
        assert_eq!(latch.on_rtcp(clock.at(5), conventional), FOREIGN);
        assert_eq!(
            latch.state(),
            LatchState::Latched {
                source: phone(),
                rtcp: Some(mapped)
            }
        );
    }

    #[test]
    fn rtcp_to_the_device_at_the_top_port_has_no_conventional_port() {
        let (mut latch, clock) = learning();
        let top: SocketAddr = "198.51.100.7:65535".parse().unwrap();
        for seq in 0..3 {
            latch.on_rtp(clock.at(u32::from(seq)), top, seq);
        }
        assert_eq!(latch.rtp_destination(), Some(top));
        assert_eq!(latch.rtcp_destination(), None);
    }

    #[test]
    fn reset_returns_to_idle_and_forgets_the_expected_address() {
        let (mut latch, clock) = learning();
        latch.open_window(clock.at(0), Some(phone().ip()));
        for seq in 0..3 {
            latch.on_rtp(clock.at(u32::from(seq)), phone(), seq);
        }
        latch.reset();
        assert_eq!(latch.state(), LatchState::Idle);
        assert_eq!(latch.expected(), None);
        assert_eq!(latch.on_rtp(clock.at(5), phone(), 3), NOT_LEARNING);
    }

    #[test]
    fn probation_of_one_latches_on_the_first_packet() {
        let clock = Clock(Instant::now());
        for probation in [0, 1] {
            let mut latch = Latch::new(LatchRules {
                window: WINDOW,
                probation,
            });
            latch.open_window(clock.at(0), None);
            assert_eq!(latch.on_rtp(clock.at(1), phone(), 9), FWD);
        }
    }
}
