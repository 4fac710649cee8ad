//! One channel's relay decisions, sans-IO: for each packet, where it goes
//! (or why it is dropped), given the latch, the inner peer and the call's
//! life. The workers own these and move the bytes.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use super::latch::{DeviceSource, Latch, LatchRules, LatchView, Refused, Verdict};

/// RTP or RTCP: which of a side's two sockets a packet came in on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The even port.
    Rtp,
    /// The odd port.
    Rtcp,
}

/// Why a packet is not relayed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dropped {
    /// Public side: not from the latched source (or not from the device's
    /// address while learning).
    Foreign,
    /// Public side: learning, the source is on probation.
    Probation,
    /// Public side: no learning window is open and nothing is latched
    /// (no call, or the window closed without a latch).
    NotLearning,
    /// Public side: not an RTP (or RTCP) packet, or truncated.
    Malformed,
    /// Inner side: not from the inner peer's address (or none is set).
    InnerForeign,
    /// Accepted, but the other side is not known yet: no inner peer, or
    /// no latched device.
    NoDestination,
}

/// What to do with one packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Send it out of the other side's socket of the same kind, to this
    /// address.
    Relay(SocketAddr),
    /// Drop it.
    Drop(Dropped),
}

/// What the control plane sees of a channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChannelView {
    /// Whether the channel carries a call.
    pub anchored: bool,
    /// The latch.
    pub latch: LatchView,
    /// Where signalling says the device is (learning is restricted to
    /// its address), while the channel carries a call.
    pub device: Option<DeviceSource>,
    /// Where the inner side sends (RTP, RTCP).
    pub inner_peer: Option<(SocketAddr, SocketAddr)>,
}

impl ChannelView {
    /// A free channel.
    pub const FREE: Self = Self {
        anchored: false,
        latch: LatchView::Idle,
        device: None,
        inner_peer: None,
    };
}

/// One channel's state.
#[derive(Debug, Clone)]
pub struct Channel {
    latch: Latch,
    inner_peer: Option<(SocketAddr, SocketAddr)>,
    anchored: bool,
    /// The last packet from the call's own parties (the latched device or
    /// the inner peer), or the anchoring.
    last_media: Instant,
    idle_reported: bool,
    /// The view changed since it was last taken.
    changed: bool,
}

impl Channel {
    /// A free channel.
    pub fn new(rules: LatchRules, now: Instant) -> Self {
        Self {
            latch: Latch::new(rules),
            inner_peer: None,
            anchored: false,
            last_media: now,
            idle_reported: false,
            changed: false,
        }
    }

    /// The channel carries a call from `now`: learning opens for `device`.
    pub fn anchor(
        &mut self,
        now: Instant,
        inner_peer: Option<(SocketAddr, SocketAddr)>,
        device: DeviceSource,
    ) {
        self.anchored = true;
        self.inner_peer = inner_peer;
        self.latch.open_window(now, device);
        self.last_media = now;
        self.idle_reported = false;
        self.changed = true;
    }

    /// The inner side sends somewhere else from now on.
    pub fn set_inner_peer(&mut self, inner_peer: Option<(SocketAddr, SocketAddr)>) {
        self.inner_peer = inner_peer;
        self.changed = true;
    }

    /// A signalling change: learn the device's source again. Ignored on a
    /// free channel (nothing is learned without a call).
    pub fn relearn(&mut self, now: Instant, device: DeviceSource) {
        if self.anchored {
            self.latch.open_window(now, device);
            self.changed = true;
        }
    }

    /// The call ended: forward nothing more.
    pub fn release(&mut self) {
        self.anchored = false;
        self.inner_peer = None;
        self.latch.reset();
        self.idle_reported = false;
        self.changed = true;
    }

    /// Whether the channel carries a call.
    pub fn is_anchored(&self) -> bool {
        self.anchored
    }

    /// A packet that came in on the public side from `source`.
    pub fn from_device(
        &mut self,
        now: Instant,
        kind: Kind,
        source: SocketAddr,
        packet: &[u8],
    ) -> Decision {
        let before = self.latch.view();
        let verdict = match kind {
            Kind::Rtp => match rtp_sequence(packet) {
                Some(seq) => self.latch.on_rtp(now, source, seq),
                None => return Decision::Drop(Dropped::Malformed),
            },
            Kind::Rtcp if is_rtcp(packet) => self.latch.on_rtcp(now, source),
            Kind::Rtcp => return Decision::Drop(Dropped::Malformed),
        };
        self.changed |= self.latch.view() != before;
        match verdict {
            Verdict::Forward => {
                self.last_media = now;
                let peer = self.inner_peer.map(|(rtp, rtcp)| match kind {
                    Kind::Rtp => rtp,
                    Kind::Rtcp => rtcp,
                });
                peer.map_or(Decision::Drop(Dropped::NoDestination), Decision::Relay)
            }
            Verdict::Drop(Refused::Foreign) => Decision::Drop(Dropped::Foreign),
            Verdict::Drop(Refused::Probation) => Decision::Drop(Dropped::Probation),
            Verdict::Drop(Refused::NotLearning) => Decision::Drop(Dropped::NotLearning),
        }
    }

    /// A packet that came in on the inner side from `source`: accepted from
    /// the inner peer's IP address at any port (a LAN phone may send from
    /// another port than it receives on), relayed to the latched device.
    pub fn from_inner(&mut self, now: Instant, kind: Kind, source: SocketAddr) -> Decision {
        let expected = self.inner_peer.map(|(rtp, rtcp)| match kind {
            Kind::Rtp => rtp.ip(),
            Kind::Rtcp => rtcp.ip(),
        });
        if !self.anchored || expected != Some(source.ip()) {
            return Decision::Drop(Dropped::InnerForeign);
        }
        self.last_media = now;
        let device = match kind {
            Kind::Rtp => self.latch.rtp_destination(),
            Kind::Rtcp => self.latch.rtcp_destination(),
        };
        device.map_or(Decision::Drop(Dropped::NoDestination), Decision::Relay)
    }

    /// When the media goes idle unless a packet comes: `None` when free or
    /// already reported for this anchoring.
    pub fn idle_deadline(&self, timeout: Duration) -> Option<Instant> {
        (self.anchored && !self.idle_reported).then(|| self.last_media + timeout)
    }

    /// Whether the media has been idle for `timeout` at `now`: true once
    /// per anchoring.
    pub fn poll_idle(&mut self, now: Instant, timeout: Duration) -> bool {
        let idle = self.idle_deadline(timeout).is_some_and(|at| now >= at);
        self.idle_reported |= idle;
        idle
    }

    /// The view, if it changed since the last call.
    pub fn take_changed(&mut self) -> Option<ChannelView> {
        std::mem::take(&mut self.changed).then(|| self.view())
    }

    /// What the control plane sees.
    pub fn view(&self) -> ChannelView {
        ChannelView {
            anchored: self.anchored,
            latch: self.latch.view(),
            device: self.latch.device(),
            inner_peer: self.inner_peer,
        }
    }
}

/// The sequence number of an RTP packet (RFC 3550, 5.1), or `None` when it
/// is not one.
fn rtp_sequence(packet: &[u8]) -> Option<u16> {
    shared::media::rtp::parse(packet)
        .ok()
        .map(|packet| packet.header.sequence)
}

/// An RTCP compound packet starts with a version 2 header of 8 bytes or
/// more (RFC 3550, 6.4); the rest is the receivers' business.
fn is_rtcp(packet: &[u8]) -> bool {
    packet.len() >= 8 && packet.first().is_some_and(|first| first >> 6 == 2)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TIMEOUT: Duration = Duration::from_secs(30);

    fn rules() -> LatchRules {
        LatchRules {
            window: Duration::from_secs(10),
            probation: 3,
            announced_preference: Duration::from_secs(1),
        }
    }

    fn phone() -> SocketAddr {
        "198.51.100.7:40002".parse().unwrap()
    }

    /// The phone registered from its address and announced its port.
    fn device() -> DeviceSource {
        DeviceSource {
            ip: phone().ip(),
            announced: Some(crate::sbc::AnnouncedPorts {
                rtp: phone().port(),
                rtcp: phone().port() + 1,
            }),
        }
    }

    fn lan_phone() -> (SocketAddr, SocketAddr) {
        (
            "10.0.0.20:5004".parse().unwrap(),
            "10.0.0.20:5005".parse().unwrap(),
        )
    }

    fn rtp(seq: u16) -> Vec<u8> {
        let mut packet = vec![0x80, 8, 0, 0, 0, 0, 0, 160, 1, 2, 3, 4];
        packet[2..4].copy_from_slice(&seq.to_be_bytes());
        packet.extend_from_slice(&[0xd5; 160]);
        packet
    }

    const RTCP: [u8; 8] = [0x80, 201, 0, 1, 1, 2, 3, 4];

    fn latched(now: Instant) -> Channel {
        let mut channel = Channel::new(rules(), now);
        channel.anchor(now, Some(lan_phone()), device());
        for seq in 0..2 {
            assert_eq!(
                channel.from_device(now, Kind::Rtp, phone(), &rtp(seq)),
                Decision::Drop(Dropped::Probation)
            );
        }
        assert_eq!(
            channel.from_device(now, Kind::Rtp, phone(), &rtp(2)),
            Decision::Relay(lan_phone().0)
        );
        channel
    }

    #[test]
    fn a_free_channel_relays_nothing() {
        let now = Instant::now();
        let mut channel = Channel::new(rules(), now);
        assert_eq!(
            channel.from_device(now, Kind::Rtp, phone(), &rtp(1)),
            Decision::Drop(Dropped::NotLearning)
        );
        assert_eq!(
            channel.from_inner(now, Kind::Rtp, lan_phone().0),
            Decision::Drop(Dropped::InnerForeign)
        );
        assert_eq!(channel.idle_deadline(TIMEOUT), None);
        assert!(!channel.poll_idle(now + TIMEOUT * 10, TIMEOUT));
    }

    #[test]
    fn relays_both_ways_once_latched() {
        let now = Instant::now();
        let mut channel = latched(now);
        assert_eq!(
            channel.from_inner(now, Kind::Rtp, lan_phone().0),
            Decision::Relay(phone())
        );
        // The LAN side may send from another port of its address.
        let other_port = SocketAddr::new(lan_phone().0.ip(), 7078);
        assert_eq!(
            channel.from_inner(now, Kind::Rtp, other_port),
            Decision::Relay(phone())
        );
        let stranger: SocketAddr = "10.0.0.99:5004".parse().unwrap();
        assert_eq!(
            channel.from_inner(now, Kind::Rtp, stranger),
            Decision::Drop(Dropped::InnerForeign)
        );
        // RTCP: the phone's NAT keeps ports (it was latched at the port
        // it announced), so its RTCP is at the announced RTCP port, and
        // only there.
        let announced_rtcp = SocketAddr::new(phone().ip(), phone().port() + 1);
        assert_eq!(
            channel.from_inner(now, Kind::Rtcp, lan_phone().1),
            Decision::Relay(announced_rtcp)
        );
        let other_port = SocketAddr::new(phone().ip(), 3333);
        assert_eq!(
            channel.from_device(now, Kind::Rtcp, other_port, &RTCP),
            Decision::Drop(Dropped::Foreign)
        );
        assert_eq!(
            channel.from_device(now, Kind::Rtcp, announced_rtcp, &RTCP),
            Decision::Relay(lan_phone().1)
        );
        assert_eq!(
            channel.from_inner(now, Kind::Rtcp, lan_phone().1),
            Decision::Relay(announced_rtcp)
        );
    }

    #[test]
    fn malformed_packets_are_dropped() {
        let now = Instant::now();
        let mut channel = latched(now);
        for junk in [&[][..], &[0x80; 11][..], &[0x40; 20][..]] {
            assert_eq!(
                channel.from_device(now, Kind::Rtp, phone(), junk),
                Decision::Drop(Dropped::Malformed)
            );
        }
        assert_eq!(
            channel.from_device(now, Kind::Rtcp, phone(), &RTCP[..7]),
            Decision::Drop(Dropped::Malformed)
        );
    }

    #[test]
    fn without_the_other_side_accepted_packets_have_no_destination() {
        let now = Instant::now();
        let mut channel = Channel::new(rules(), now);
        channel.anchor(now, None, device());
        channel.from_device(now, Kind::Rtp, phone(), &rtp(0));
        channel.from_device(now, Kind::Rtp, phone(), &rtp(1));
        assert_eq!(
            channel.from_device(now, Kind::Rtp, phone(), &rtp(2)),
            Decision::Drop(Dropped::NoDestination)
        );
        channel.set_inner_peer(Some(lan_phone()));
        assert_eq!(
            channel.from_device(now, Kind::Rtp, phone(), &rtp(3)),
            Decision::Relay(lan_phone().0)
        );
        // Relearn: the LAN side has nowhere to send until a new latch.
        channel.relearn(now, device());
        assert_eq!(
            channel.from_inner(now, Kind::Rtp, lan_phone().0),
            Decision::Drop(Dropped::NoDestination)
        );
    }

    #[test]
    fn idle_is_reported_once_per_anchoring_and_media_postpones_it() {
        let start = Instant::now();
        let mut channel = latched(start);
        assert_eq!(channel.idle_deadline(TIMEOUT), Some(start + TIMEOUT));
        // Media from the LAN side alone keeps it alive.
        let later = start + TIMEOUT / 2;
        channel.from_inner(later, Kind::Rtp, lan_phone().0);
        assert!(!channel.poll_idle(start + TIMEOUT, TIMEOUT));
        // Foreign packets do not.
        let attacker: SocketAddr = "203.0.113.66:5004".parse().unwrap();
        channel.from_device(later + TIMEOUT / 2, Kind::Rtp, attacker, &rtp(9));
        assert!(channel.poll_idle(later + TIMEOUT, TIMEOUT));
        assert!(!channel.poll_idle(later + TIMEOUT * 3, TIMEOUT), "once");
        assert_eq!(channel.idle_deadline(TIMEOUT), None);
        // A new anchoring arms it again.
        let again = later + TIMEOUT * 4;
        channel.anchor(again, Some(lan_phone()), device());
        assert!(channel.poll_idle(again + TIMEOUT, TIMEOUT));
        channel.release();
        assert_eq!(channel.idle_deadline(TIMEOUT), None);
    }

    #[test]
    fn release_stops_everything_and_a_free_channel_does_not_relearn() {
        let now = Instant::now();
        let mut channel = latched(now);
        channel.release();
        assert!(!channel.is_anchored());
        assert_eq!(channel.view(), ChannelView::FREE);
        assert_eq!(
            channel.from_device(now, Kind::Rtp, phone(), &rtp(3)),
            Decision::Drop(Dropped::NotLearning)
        );
        assert_eq!(
            channel.from_inner(now, Kind::Rtp, lan_phone().0),
            Decision::Drop(Dropped::InnerForeign)
        );
        channel.relearn(now, device());
        assert_eq!(channel.view(), ChannelView::FREE);
    }

    #[test]
    fn the_view_changes_on_transitions_only() {
        let now = Instant::now();
        let mut channel = Channel::new(rules(), now);
        assert_eq!(channel.take_changed(), None);
        channel.anchor(now, Some(lan_phone()), device());
        let view = channel.take_changed().unwrap();
        assert!(view.anchored);
        assert_eq!(view.device, Some(device()));
        assert_eq!(view.inner_peer, Some(lan_phone()));
        channel.from_device(now, Kind::Rtp, phone(), &rtp(0));
        assert_eq!(channel.take_changed(), None, "probation is not a change");
        channel.from_device(now, Kind::Rtp, phone(), &rtp(1));
        channel.from_device(now, Kind::Rtp, phone(), &rtp(2));
        assert_eq!(
            channel.take_changed().unwrap().latch,
            LatchView::Latched {
                source: phone(),
                rtcp: None
            }
        );
        channel.from_device(now, Kind::Rtp, phone(), &rtp(3));
        assert_eq!(channel.take_changed(), None);
    }
}
