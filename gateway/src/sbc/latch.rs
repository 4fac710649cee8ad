//! Latching the device's real (post-NAT) source, with the protection
//! against RTP hijacking ("RTP Bleed": CVE-2017-14099, CVE-2017-14114,
//! CVE-2025-53399) of `docs/sbc.md`. Sans-IO: time is an input.
//!
//! ```text
//!  Idle ──open_window(now, device)──► Learning { opened, until } ──probation──► Latched(source)
//!   ▲                                      │ window closes                         │
//!   └──────────────────────────────────────┘                                       │
//!   open_window(now, device) (a signalling event: relearn) forgets the source ◄────┘
//! ```
//!
//! - Signalling says where the device is ([`DeviceSource`]): the IP address
//!   its registration comes from, and the ports it announced for its media.
//!   Packets from any other IP address are foreign, even while learning:
//!   they are never candidates and touch no candidate's probation.
//! - Each source (address *and* port) of the device's IP address runs its
//!   own probation: it qualifies after `probation` packets in a row with
//!   consecutive sequence numbers (a wrap counts as consecutive); an out of
//!   sequence packet restarts its own run only. So no sender, whatever its
//!   address, can reset or delay the device's run by interleaving.
//! - Among several candidates the source at the announced RTP port wins:
//!   it latches as soon as it qualifies. Another port (a NAT that does not
//!   keep ports) latches only once `announced_preference` has passed since
//!   the window opened and nothing came from the announced port: a sender
//!   at another port of the device's address that starts before the device
//!   does not take the channel. With no port announced, the first source to
//!   qualify latches.
//! - Nothing is learned outside a window; nothing from the device is
//!   forwarded before the latch.
//! - RTCP is accepted only once RTP is latched, from the latched IP address:
//!   at the announced RTCP port when the latched RTP port is the announced
//!   one (the NAT keeps ports), else at *any* port (a NAT that does not
//!   keep ports maps the device's RTCP socket to a port unrelated to its
//!   RTP mapping). The first accepted RTCP source is then kept (strict
//!   source for RTCP too), and RTCP to the device goes to it; before any
//!   arrives, to the announced RTCP port (NAT keeping ports) or the latched
//!   RTP port + 1 (RFC 3550, 11).

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

/// How many sources of the device's address are on probation at once: a
/// few ports more than the device's own stream are legitimate (a stale NAT
/// mapping, a restarted phone), the rest replaces the shortest runs.
const CANDIDATES: usize = 4;

/// The latching rules of one deployment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LatchRules {
    /// How long a signalling event lets the device's source be learned.
    pub window: Duration,
    /// Packets in a row with consecutive sequence numbers that latch a
    /// source (at least 1).
    pub probation: u16,
    /// For how long after a window opens only the announced RTP port may
    /// latch when a port was announced: long enough for the device's first
    /// packets to arrive after its call connects.
    pub announced_preference: Duration,
}

/// The ports a device announced for its media (where it receives, and so,
/// behind a NAT that keeps ports, where it sends from).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AnnouncedPorts {
    /// Its RTP port.
    pub rtp: u16,
    /// Its RTCP port.
    pub rtcp: u16,
}

/// What signalling says about where a device's media comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeviceSource {
    /// The IP address its registration comes from: for a device at home,
    /// its NAT's public address. Learning accepts this address only.
    pub ip: IpAddr,
    /// The ports it announced (an HFA phone's Codec Capabilities, a
    /// myPortal to go app's registration), if known.
    pub announced: Option<AnnouncedPorts>,
}

impl DeviceSource {
    /// Whether `source` is at the announced RTP port (`None`: nothing
    /// announced).
    fn at_announced_rtp(&self, source: SocketAddr) -> Option<bool> {
        self.announced.map(|ports| ports.rtp == source.port())
    }
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
    /// A learning window opened at `opened` and is open until `until`.
    Learning {
        /// When the window opened.
        opened: Instant,
        /// When the window closes.
        until: Instant,
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
    /// From somewhere other than the latched source (or, while learning,
    /// from another IP address than the device's).
    Foreign,
    /// Learning: the source is on probation (or waits for its turn).
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
    /// Where signalling says the device is; set by every window.
    device: Option<DeviceSource>,
    /// The sources on probation while learning.
    candidates: [Option<Candidate>; CANDIDATES],
}

impl Latch {
    /// An idle latch.
    pub fn new(rules: LatchRules) -> Self {
        Self {
            rules,
            state: LatchState::Idle,
            device: None,
            candidates: [None; CANDIDATES],
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

    /// Where signalling says the device is (`None` on an idle latch that
    /// never had a window, or after a reset).
    pub fn device(&self) -> Option<DeviceSource> {
        self.device
    }

    /// The sources on probation.
    pub fn candidates(&self) -> impl Iterator<Item = &Candidate> {
        self.candidates.iter().flatten()
    }

    /// The latched RTP source.
    pub fn source(&self) -> Option<SocketAddr> {
        match self.state {
            LatchState::Latched { source, .. } => Some(source),
            _ => None,
        }
    }

    /// A signalling event: forget any latched source and candidate, and
    /// learn from `device` for a window from `now`.
    pub fn open_window(&mut self, now: Instant, device: DeviceSource) {
        self.device = Some(device);
        self.candidates = [None; CANDIDATES];
        self.state = LatchState::Learning {
            opened: now,
            until: now + self.rules.window,
        };
    }

    /// Back to idle: the call ended.
    pub fn reset(&mut self) {
        self.state = LatchState::Idle;
        self.device = None;
        self.candidates = [None; CANDIDATES];
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
                self.close_window();
                Verdict::Drop(Refused::NotLearning)
            }
            LatchState::Learning { opened, .. } => {
                let Some(device) = self.device.filter(|device| device.ip == source.ip()) else {
                    return Verdict::Drop(Refused::Foreign);
                };
                let run = self.advance(device, source, seq);
                let qualified = run.count >= self.rules.probation.max(1);
                if qualified && self.may_latch(now, opened, device, source) {
                    self.state = LatchState::Latched { source, rtcp: None };
                    self.candidates = [None; CANDIDATES];
                    // The packet that completes probation is the first one
                    // forwarded.
                    return Verdict::Forward;
                }
                Verdict::Drop(Refused::Probation)
            }
        }
    }

    /// Counts the packet `seq` into `source`'s run, making it a candidate
    /// if it is not one (replacing the shortest run of another port than
    /// the announced one when every place is taken); returns the run.
    fn advance(&mut self, device: DeviceSource, source: SocketAddr, seq: u16) -> Candidate {
        if let Some(run) = self
            .candidates
            .iter_mut()
            .flatten()
            .find(|run| run.source == source)
        {
            run.count = if seq == run.last_seq.wrapping_add(1) {
                run.count.saturating_add(1)
            } else {
                1
            };
            run.last_seq = seq;
            return *run;
        }
        let run = Candidate {
            source,
            last_seq: seq,
            count: 1,
        };
        // A free place first (a run of 0), else the shortest run; the
        // announced port's last: only one source can be at it, so there
        // is always another to replace.
        let place = self.candidates.iter_mut().min_by_key(|slot| match slot {
            None => (false, 0),
            Some(other) => (
                device.at_announced_rtp(other.source) == Some(true),
                other.count,
            ),
        });
        if let Some(place) = place {
            *place = Some(run);
        }
        run
    }

    /// Whether a qualified `source` of the device's address may latch now:
    /// at the announced port at once; at another one only after the
    /// preference time, and only while nothing came from the announced
    /// port.
    fn may_latch(
        &self,
        now: Instant,
        opened: Instant,
        device: DeviceSource,
        source: SocketAddr,
    ) -> bool {
        match device.at_announced_rtp(source) {
            None | Some(true) => true,
            Some(false) => {
                now >= opened + self.rules.announced_preference
                    && !self
                        .candidates()
                        .any(|run| device.at_announced_rtp(run.source) == Some(true))
            }
        }
    }

    fn close_window(&mut self) {
        self.state = LatchState::Idle;
        self.candidates = [None; CANDIDATES];
    }

    /// Decides about an RTCP packet from `source`: accepted from the
    /// latched IP address (at the announced RTCP port when the NAT keeps
    /// ports, else at any port), then from that source only.
    pub fn on_rtcp(&mut self, now: Instant, source: SocketAddr) -> Verdict {
        let rtcp_port = self.expected_rtcp_port();
        match &mut self.state {
            LatchState::Latched {
                source: latched,
                rtcp,
            } => match rtcp {
                Some(known) if *known == source => Verdict::Forward,
                Some(_) => Verdict::Drop(Refused::Foreign),
                None if source.ip() == latched.ip()
                    && rtcp_port.is_none_or(|port| port == source.port()) =>
                {
                    *rtcp = Some(source);
                    Verdict::Forward
                }
                None => Verdict::Drop(Refused::Foreign),
            },
            LatchState::Idle => Verdict::Drop(Refused::NotLearning),
            LatchState::Learning { until, .. } if now >= *until => {
                self.close_window();
                Verdict::Drop(Refused::NotLearning)
            }
            LatchState::Learning { .. } => {
                if self.device.is_some_and(|device| device.ip == source.ip()) {
                    Verdict::Drop(Refused::Probation)
                } else {
                    Verdict::Drop(Refused::Foreign)
                }
            }
        }
    }

    /// The port the device's RTCP comes from when the latched RTP source
    /// is at the announced RTP port (its NAT keeps ports): the announced
    /// RTCP port. `None`: not latched, nothing announced, or another port.
    fn expected_rtcp_port(&self) -> Option<u16> {
        let source = self.source()?;
        let announced = self.device?.announced?;
        (announced.rtp == source.port()).then_some(announced.rtcp)
    }

    /// Where RTP for the device goes: the latched source.
    pub fn rtp_destination(&self) -> Option<SocketAddr> {
        self.source()
    }

    /// Where RTCP for the device goes: its RTCP source once known, else
    /// the announced RTCP port (NAT keeping ports) or the latched RTP
    /// port + 1.
    pub fn rtcp_destination(&self) -> Option<SocketAddr> {
        match self.state {
            LatchState::Latched {
                rtcp: Some(rtcp), ..
            } => Some(rtcp),
            LatchState::Latched { source, rtcp: None } => self
                .expected_rtcp_port()
                .or_else(|| source.port().checked_add(1))
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
    const PREFERENCE: Duration = Duration::from_secs(1);

    fn rules() -> LatchRules {
        LatchRules {
            window: WINDOW,
            probation: 3,
            announced_preference: PREFERENCE,
        }
    }

    /// The phone at home, sending from the port it announced (its NAT
    /// keeps ports).
    fn phone() -> SocketAddr {
        "198.51.100.7:40002".parse().unwrap()
    }

    /// The phone's registration: its address, the ports it announced.
    fn announced() -> DeviceSource {
        DeviceSource {
            ip: phone().ip(),
            announced: Some(AnnouncedPorts {
                rtp: 40002,
                rtcp: 40003,
            }),
        }
    }

    /// The same, with no ports announced.
    fn unannounced() -> DeviceSource {
        DeviceSource {
            announced: None,
            ..announced()
        }
    }

    fn attacker() -> SocketAddr {
        "203.0.113.66:5004".parse().unwrap()
    }

    /// Another sender at the phone's address: another device behind its
    /// NAT, or a spoofed source.
    fn neighbour() -> SocketAddr {
        SocketAddr::new(phone().ip(), 5004)
    }

    /// A virtual clock: the start, and 20 ms per packet after it.
    struct Clock(Instant);

    impl Clock {
        fn at(&self, packets: u32) -> Instant {
            self.0 + Duration::from_millis(20) * packets
        }
    }

    fn learning_from(device: DeviceSource) -> (Latch, Clock) {
        let clock = Clock(Instant::now());
        let mut latch = Latch::new(rules());
        latch.open_window(clock.at(0), device);
        (latch, clock)
    }

    fn learning() -> (Latch, Clock) {
        learning_from(announced())
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
        assert_eq!(latch.candidates().count(), 0, "probation is over");
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
    fn other_addresses_are_foreign_and_neither_reset_nor_delay_the_device() {
        let (mut latch, clock) = learning();
        // The attacker sends first and in between, with a clean run.
        assert_eq!(latch.on_rtp(clock.at(1), attacker(), 1), FOREIGN);
        assert_eq!(latch.on_rtp(clock.at(2), attacker(), 2), FOREIGN);
        assert_eq!(latch.on_rtp(clock.at(3), attacker(), 3), FOREIGN);
        assert_eq!(latch.on_rtp(clock.at(4), phone(), 50), PROBATION);
        assert_eq!(latch.on_rtp(clock.at(5), attacker(), 4), FOREIGN);
        assert_eq!(latch.on_rtp(clock.at(6), phone(), 51), PROBATION);
        assert_eq!(latch.on_rtcp(clock.at(6), attacker()), FOREIGN);
        assert_eq!(latch.on_rtp(clock.at(7), attacker(), 5), FOREIGN);
        assert_eq!(
            latch.candidates().count(),
            1,
            "the attacker is no candidate"
        );
        // The device's third packet latches it, as without the attacker.
        assert_eq!(latch.on_rtp(clock.at(8), phone(), 52), FWD);
        assert_eq!(latch.source(), Some(phone()));
        assert_eq!(latch.on_rtp(clock.at(9), attacker(), 6), FOREIGN);
    }

    #[test]
    fn other_ports_of_the_address_run_their_own_probation() {
        let (mut latch, clock) = learning();
        // The device's run goes on through a neighbour's packets, and the
        // neighbour's through the device's: nobody resets anybody.
        assert_eq!(latch.on_rtp(clock.at(1), phone(), 1), PROBATION);
        assert_eq!(latch.on_rtp(clock.at(1), neighbour(), 700), PROBATION);
        assert_eq!(latch.on_rtp(clock.at(2), phone(), 2), PROBATION);
        assert_eq!(latch.on_rtp(clock.at(2), neighbour(), 701), PROBATION);
        let runs: Vec<_> = latch
            .candidates()
            .map(|run| (run.source, run.count))
            .collect();
        assert_eq!(runs, [(phone(), 2), (neighbour(), 2)]);
        assert_eq!(latch.on_rtp(clock.at(3), phone(), 3), FWD);
        assert_eq!(latch.on_rtp(clock.at(3), neighbour(), 702), FOREIGN);
        assert_eq!(latch.source(), Some(phone()));
    }

    #[test]
    fn the_announced_port_wins_over_a_run_that_started_first() {
        let (mut latch, clock) = learning();
        // A neighbour sprays a clean run from another port before the
        // device sends anything, and goes on between its packets.
        for i in 0..10u16 {
            assert_eq!(
                latch.on_rtp(clock.at(0), neighbour(), 9000 + i),
                PROBATION,
                "a qualified run at another port waits"
            );
        }
        assert_eq!(latch.on_rtp(clock.at(1), phone(), 7), PROBATION);
        assert_eq!(latch.on_rtp(clock.at(1), neighbour(), 9010), PROBATION);
        assert_eq!(latch.on_rtp(clock.at(2), phone(), 8), PROBATION);
        assert_eq!(latch.on_rtp(clock.at(2), neighbour(), 9011), PROBATION);
        assert_eq!(latch.on_rtp(clock.at(3), phone(), 9), FWD);
        assert_eq!(latch.on_rtp(clock.at(3), neighbour(), 9012), FOREIGN);
        assert_eq!(latch.source(), Some(phone()));
    }

    #[test]
    fn while_the_announced_port_is_on_probation_another_port_waits_after_the_preference() {
        let (mut latch, clock) = learning();
        let late = clock.0 + PREFERENCE;
        // The device's first packet, then its next only after the
        // preference time (lost or late packets).
        assert_eq!(latch.on_rtp(clock.at(1), phone(), 7), PROBATION);
        for i in 0..5u16 {
            assert_eq!(latch.on_rtp(late, neighbour(), 9000 + i), PROBATION);
        }
        assert_eq!(latch.on_rtp(late, phone(), 8), PROBATION);
        assert_eq!(latch.on_rtp(late, phone(), 9), FWD);
        assert_eq!(latch.source(), Some(phone()));
    }

    #[test]
    fn behind_a_nat_changing_ports_the_first_qualified_run_latches_after_the_preference() {
        let (mut latch, clock) = learning();
        // The NAT mapped the announced 40002 to 61000.
        let mapped = SocketAddr::new(phone().ip(), 61000);
        let mut seq = 500;
        let mut packet = |latch: &mut Latch, at| {
            seq += 1;
            latch.on_rtp(at, mapped, seq)
        };
        // Qualified after 3 packets, but another port: it waits for the
        // announced port to have its chance.
        for i in 1..50 {
            assert_eq!(packet(&mut latch, clock.at(i)), PROBATION, "packet {i}");
        }
        assert_eq!(packet(&mut latch, clock.0 + PREFERENCE), FWD);
        assert_eq!(latch.source(), Some(mapped));
        // RTCP from its NAT's mapping: any port of its address.
        let rtcp = SocketAddr::new(phone().ip(), 61001);
        assert_eq!(latch.rtcp_destination(), Some(rtcp), "latched port + 1");
        let mapped_rtcp = SocketAddr::new(phone().ip(), 3333);
        assert_eq!(latch.on_rtcp(clock.at(60), mapped_rtcp), FWD);
        assert_eq!(latch.rtcp_destination(), Some(mapped_rtcp));
    }

    #[test]
    fn after_the_preference_the_first_of_several_qualified_runs_latches() {
        let (mut latch, clock) = learning();
        let late = clock.0 + PREFERENCE;
        let mapped = SocketAddr::new(phone().ip(), 61000);
        for i in 0..3u16 {
            assert_eq!(latch.on_rtp(clock.at(1), neighbour(), 9000 + i), PROBATION);
            assert_eq!(latch.on_rtp(clock.at(1), mapped, 500 + i), PROBATION);
        }
        // Neither the address nor the ports tell the device from the
        // neighbour: the first to send after the preference latches (the
        // limit `docs/sbc.md` names).
        assert_eq!(latch.on_rtp(late, mapped, 503), FWD);
        assert_eq!(latch.on_rtp(late, neighbour(), 9003), FOREIGN);
    }

    #[test]
    fn with_no_port_announced_the_first_qualified_run_latches_at_once() {
        let (mut latch, clock) = learning_from(unannounced());
        let mapped = SocketAddr::new(phone().ip(), 61000);
        assert_eq!(latch.on_rtp(clock.at(1), mapped, 1), PROBATION);
        assert_eq!(latch.on_rtp(clock.at(1), neighbour(), 70), PROBATION);
        assert_eq!(latch.on_rtp(clock.at(2), mapped, 2), PROBATION);
        assert_eq!(latch.on_rtp(clock.at(2), neighbour(), 71), PROBATION);
        assert_eq!(latch.on_rtp(clock.at(3), mapped, 3), FWD);
        assert_eq!(latch.on_rtp(clock.at(3), attacker(), 4), FOREIGN);
        assert_eq!(latch.source(), Some(mapped));
    }

    #[test]
    fn a_spray_from_many_ports_cannot_push_the_announced_port_out() {
        let (mut latch, clock) = learning();
        // Between each of the device's packets, a run from each of 100
        // ports of its address: the candidates stay bounded, the device's
        // run stays.
        for (i, seq) in (40u16..42).enumerate() {
            for port in 1000..1100u16 {
                let other = SocketAddr::new(phone().ip(), port);
                for k in 0..3 {
                    assert_eq!(latch.on_rtp(clock.at(1), other, port + k), PROBATION);
                }
            }
            assert_eq!(
                latch.on_rtp(clock.at(i as u32 + 1), phone(), seq),
                PROBATION
            );
        }
        assert!(latch.candidates().count() <= CANDIDATES);
        assert!(
            latch
                .candidates()
                .any(|run| run.source == phone() && run.count == 2)
        );
        assert_eq!(latch.on_rtp(clock.at(3), phone(), 42), FWD);
        assert_eq!(latch.source(), Some(phone()));
    }

    #[test]
    fn strict_source_after_the_latch() {
        let (mut latch, clock) = learning();
        for seq in 0..3 {
            latch.on_rtp(clock.at(u32::from(seq)), phone(), seq);
        }
        for i in 0..1000u16 {
            let now = clock.at(u32::from(i) + 3);
            assert_eq!(latch.on_rtp(now, attacker(), 3 + i), FOREIGN);
            assert_eq!(latch.on_rtp(now, neighbour(), 3 + i), FOREIGN);
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
        assert_eq!(latch.candidates().count(), 0);
        for seq in 4..20 {
            assert_eq!(
                latch.on_rtp(clock.0 + WINDOW * 2, phone(), seq),
                NOT_LEARNING
            );
        }
        // The next signalling event opens a new window.
        latch.open_window(clock.0 + WINDOW * 3, announced());
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
        let device = DeviceSource {
            ip: moved.ip(),
            announced: Some(AnnouncedPorts {
                rtp: 61000,
                rtcp: 61001,
            }),
        };
        latch.open_window(clock.at(10), device);
        assert_eq!(latch.device(), Some(device));
        assert_eq!(latch.source(), None);
        assert_eq!(
            latch.rtp_destination(),
            None,
            "nothing goes to the old source"
        );
        assert_eq!(latch.on_rtp(clock.at(11), phone(), 3), FOREIGN);
        assert_eq!(latch.on_rtp(clock.at(11), moved, 500), PROBATION);
        assert_eq!(latch.on_rtp(clock.at(12), moved, 501), PROBATION);
        assert_eq!(latch.on_rtp(clock.at(13), moved, 502), FWD);
        assert_eq!(latch.on_rtp(clock.at(14), phone(), 4), FOREIGN);
        assert_eq!(latch.source(), Some(moved));
        // A relearn whose window closes unused leaves nothing latched.
        latch.open_window(clock.at(20), device);
        assert_eq!(
            latch.on_rtp(clock.at(20) + WINDOW, moved, 503),
            NOT_LEARNING
        );
        assert_eq!(latch.source(), None);
    }

    #[test]
    fn rtcp_comes_from_the_announced_port_when_the_nat_keeps_ports() {
        let (mut latch, clock) = learning();
        assert_eq!(latch.on_rtcp(clock.at(0), phone()), PROBATION);
        assert_eq!(latch.on_rtcp(clock.at(0), attacker()), FOREIGN);
        for seq in 0..3 {
            latch.on_rtp(clock.at(u32::from(seq)), phone(), seq);
        }
        let announced_rtcp = SocketAddr::new(phone().ip(), 40003);
        assert_eq!(latch.rtcp_destination(), Some(announced_rtcp));
        // A neighbour's reports from another port do not take RTCP.
        assert_eq!(latch.on_rtcp(clock.at(4), attacker()), FOREIGN);
        assert_eq!(latch.on_rtcp(clock.at(4), neighbour()), FOREIGN);
        assert_eq!(latch.rtcp_destination(), Some(announced_rtcp));
        assert_eq!(latch.on_rtcp(clock.at(5), announced_rtcp), FWD);
        assert_eq!(latch.on_rtcp(clock.at(5), neighbour()), FOREIGN);
        assert_eq!(
            latch.state(),
            LatchState::Latched {
                source: phone(),
                rtcp: Some(announced_rtcp)
            }
        );
    }

    #[test]
    fn rtcp_follows_the_latched_address_then_its_first_port_behind_a_nat_changing_ports() {
        let (mut latch, clock) = learning_from(unannounced());
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
    }

    #[test]
    fn rtcp_to_the_device_at_the_top_port_has_no_conventional_port() {
        let (mut latch, clock) = learning_from(unannounced());
        let top: SocketAddr = "198.51.100.7:65535".parse().unwrap();
        for seq in 0..3 {
            latch.on_rtp(clock.at(u32::from(seq)), top, seq);
        }
        assert_eq!(latch.rtp_destination(), Some(top));
        assert_eq!(latch.rtcp_destination(), None);
    }

    #[test]
    fn reset_returns_to_idle_and_forgets_the_device() {
        let (mut latch, clock) = learning();
        assert_eq!(latch.device(), Some(announced()));
        for seq in 0..3 {
            latch.on_rtp(clock.at(u32::from(seq)), phone(), seq);
        }
        latch.reset();
        assert_eq!(latch.state(), LatchState::Idle);
        assert_eq!(latch.device(), None);
        assert_eq!(latch.on_rtp(clock.at(5), phone(), 3), NOT_LEARNING);
    }

    #[test]
    fn probation_of_one_latches_on_the_first_packet() {
        let clock = Clock(Instant::now());
        for probation in [0, 1] {
            let mut latch = Latch::new(LatchRules {
                probation,
                ..rules()
            });
            latch.open_window(clock.at(0), announced());
            assert_eq!(latch.on_rtp(clock.at(1), phone(), 9), FWD);
        }
    }
}
