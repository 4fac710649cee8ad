//! A data-plane worker: one OS thread with its own epoll (`mio::Poll`)
//! over its share of the channels' sockets. Per readiness event it drains
//! the socket in `recvmmsg` batches, asks the channel where each datagram
//! goes and sends the batch on with `sendmmsg`. Control commands come over
//! a queue with a waker and are applied between batches; counters are
//! added once per batch; nothing is allocated per packet.

use shared::capture::Capture;
use std::net::{SocketAddr, UdpSocket};
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, TryRecvError};
use std::sync::{Arc, PoisonError};
use std::time::{Duration, Instant};

use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Token, Waker};
use tracing::{debug, trace};

use super::ChannelId;
use super::channel::{Channel, Decision, Kind};
use super::io::{BATCH, Batch};
use super::latch::LatchRules;
use super::link::{Command, Shared, WorkerLink};
use super::sockets::ChannelSockets;
use super::stats::{Counter, Tally};

/// The waker's token; sockets use `slot * 4 + socket`.
const WAKER: Token = Token(usize::MAX);

/// Readiness events per `epoll_wait`.
const EVENTS: usize = 256;

/// Batches one socket may relay per round before the others get their
/// turn (a flood on one port must not starve the other channels).
const BATCHES_PER_ROUND: usize = 8;

/// A channel a worker owns.
#[derive(Debug)]
struct Owned {
    id: ChannelId,
    sockets: ChannelSockets,
    channel: Channel,
}

impl Owned {
    /// The socket a token names, and the one its datagrams go out of.
    fn route(&self, socket: usize) -> Option<(&UdpSocket, &UdpSocket, bool, Kind)> {
        let s = &self.sockets;
        match socket {
            0 => Some((&s.public_rtp, &s.inner_rtp, true, Kind::Rtp)),
            1 => Some((&s.public_rtcp, &s.inner_rtcp, true, Kind::Rtcp)),
            2 => Some((&s.inner_rtp, &s.public_rtp, false, Kind::Rtp)),
            3 => Some((&s.inner_rtcp, &s.public_rtcp, false, Kind::Rtcp)),
            _ => None,
        }
    }
}

/// A worker before it runs: what can move to its thread.
#[derive(Debug)]
pub(crate) struct Setup {
    poll: Poll,
    waker: Arc<Waker>,
    owned: Vec<Owned>,
    commands: Receiver<Command>,
    pending: Arc<AtomicBool>,
    shared: Arc<Shared>,
}

impl Setup {
    /// A worker for `channels` (id and sockets), registered with a new
    /// epoll, and the control plane's link to it. The worker is built on
    /// its own thread ([`Setup::build`]): its batch buffers stay there.
    pub(crate) fn new(
        channels: Vec<(ChannelId, ChannelSockets)>,
        rules: LatchRules,
        shared: Arc<Shared>,
    ) -> std::io::Result<(Self, WorkerLink)> {
        let poll = Poll::new()?;
        let now = Instant::now();
        let mut owned = Vec::with_capacity(channels.len());
        for (slot, (id, sockets)) in channels.into_iter().enumerate() {
            for (index, socket) in [
                &sockets.public_rtp,
                &sockets.public_rtcp,
                &sockets.inner_rtp,
                &sockets.inner_rtcp,
            ]
            .into_iter()
            .enumerate()
            {
                let fd = socket.as_raw_fd();
                poll.registry().register(
                    &mut SourceFd(&fd),
                    Token(slot * 4 + index),
                    Interest::READABLE,
                )?;
            }
            owned.push(Owned {
                id,
                sockets,
                channel: Channel::new(rules, now),
            });
        }
        let waker = Arc::new(Waker::new(poll.registry(), WAKER)?);
        let (commands, receiver) = std::sync::mpsc::channel();
        let pending = Arc::new(AtomicBool::new(false));
        let setup = Setup {
            poll,
            waker: waker.clone(),
            owned,
            commands: receiver,
            pending: pending.clone(),
            shared,
        };
        let link = WorkerLink {
            commands,
            pending,
            waker,
        };
        Ok((setup, link))
    }

    /// The worker, with its buffers (which stay on this thread).
    pub(crate) fn build(self) -> Worker {
        let sockets = self.owned.len() * 4;
        Worker {
            poll: self.poll,
            _waker: self.waker,
            events: Events::with_capacity(EVENTS),
            state: State {
                owned: self.owned,
                commands: self.commands,
                pending: self.pending,
                shared: self.shared,
                batch: Batch::new(),
                sends: Vec::with_capacity(BATCH),
                tally: Tally::default(),
                again: Vec::with_capacity(sockets),
                carry: Vec::with_capacity(sockets),
                next_sweep: None,
                stopped: false,
            },
        }
    }

    /// Builds the worker and runs it until told to stop.
    pub(crate) fn run(self) {
        let mut worker = self.build();
        while worker.turn(None) {}
        debug!("sbc: worker stopped");
    }
}

/// One worker: its epoll, its channels, its buffers.
#[derive(Debug)]
pub(crate) struct Worker {
    poll: Poll,
    _waker: Arc<Waker>,
    events: Events,
    state: State,
}

/// Everything but the poller, so that events can be walked while the
/// channels change.
#[derive(Debug)]
struct State {
    owned: Vec<Owned>,
    commands: Receiver<Command>,
    pending: Arc<AtomicBool>,
    shared: Arc<Shared>,
    batch: Batch,
    sends: Vec<(usize, SocketAddr)>,
    tally: Tally,
    /// Sockets left with datagrams when their round's budget ran out, to
    /// drain next round (edge-triggered epoll will not report them again
    /// until another datagram arrives), and the list being worked off.
    again: Vec<usize>,
    carry: Vec<usize>,
    next_sweep: Option<Instant>,
    stopped: bool,
}

impl Worker {
    /// One round: waits for readiness (at most `max_wait`, or until the
    /// next idle check), applies commands, drains the ready sockets,
    /// checks for idle media. False once stopped.
    pub(crate) fn turn(&mut self, max_wait: Option<Duration>) -> bool {
        let state = &mut self.state;
        let until_sweep = state
            .next_sweep
            .map(|at| at.saturating_duration_since(Instant::now()));
        let timeout = match (until_sweep, max_wait) {
            _ if !state.again.is_empty() => Some(Duration::ZERO),
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        if let Err(error) = self.poll.poll(&mut self.events, timeout)
            && error.kind() != std::io::ErrorKind::Interrupted
        {
            debug!(%error, "sbc: epoll failed");
        }
        state.apply_commands();
        std::mem::swap(&mut state.again, &mut state.carry);
        let mut carry = std::mem::take(&mut state.carry);
        for token in carry.drain(..) {
            if !state.stopped {
                state.drain(token);
            }
        }
        state.carry = carry;
        for event in self.events.iter() {
            if state.stopped {
                break;
            }
            if event.token() != WAKER {
                state.drain(event.token().0);
            }
        }
        if !state.stopped {
            state.sweep(Instant::now());
        }
        !state.stopped
    }
}

impl State {
    /// Applies every queued command.
    fn apply_commands(&mut self) {
        // A swap, not a store: it acquires the control plane's flag, so
        // every command queued before it is seen by the drain below.
        self.pending.swap(false, Ordering::AcqRel);
        loop {
            let command = match self.commands.try_recv() {
                Ok(command) => command,
                Err(TryRecvError::Empty) => return,
                Err(TryRecvError::Disconnected) => Command::Stop,
            };
            self.apply(command);
            if self.stopped {
                return;
            }
        }
    }

    fn apply(&mut self, command: Command) {
        let slot = match command {
            Command::Stop => {
                self.stopped = true;
                return;
            }
            Command::Anchor { slot, .. }
            | Command::SetInnerPeer { slot, .. }
            | Command::Relearn { slot, .. }
            | Command::Release { slot } => slot,
        };
        let Some(owned) = self.owned.get_mut(slot) else {
            return;
        };
        let channel = &mut owned.channel;
        match command {
            Command::Anchor {
                at,
                inner_peer,
                device,
                ..
            } => {
                channel.anchor(at, inner_peer, device);
                let deadline = at + self.shared.idle_timeout;
                self.next_sweep = Some(self.next_sweep.map_or(deadline, |n| n.min(deadline)));
            }
            Command::SetInnerPeer { inner_peer, .. } => channel.set_inner_peer(inner_peer),
            Command::Relearn { at, device, .. } => channel.relearn(at, device),
            Command::Release { .. } => channel.release(),
            Command::Stop => {}
        }
        if matches!(command, Command::Anchor { .. } | Command::Release { .. })
            && let Some(counters) = self.shared.counters(owned.id)
        {
            counters.start_call();
        }
        if let Some(view) = owned.channel.take_changed() {
            self.shared.publish(owned.id, view);
        }
        trace!(?command, "sbc: applied");
    }

    /// Reads socket `token` until it is empty, relaying as the channel
    /// decides.
    fn drain(&mut self, token: usize) {
        let (slot, socket) = (token / 4, token % 4);
        let mut errors = 0;
        for _ in 0..BATCHES_PER_ROUND {
            let Some(owned) = self.owned.get(slot) else {
                return;
            };
            let Some((from, _, _, _)) = owned.route(socket) else {
                return;
            };
            let received = match self.batch.recv(from) {
                Ok(received) => received,
                Err(error) => {
                    // A queued ICMP error, say: the next read gets data.
                    trace!(%error, "sbc: receive failed");
                    errors += 1;
                    if errors > 2 {
                        return;
                    }
                    continue;
                }
            };
            if received == 0 {
                return;
            }
            // A command queued before these datagrams arrived applies to
            // them (a release stops forwarding at once).
            if self.pending.load(Ordering::Acquire) {
                self.apply_commands();
                if self.stopped {
                    return;
                }
            }
            self.relay(slot, socket, Instant::now());
            if received < BATCH {
                // The socket was empty when the call returned; the edge
                // trigger reports anything that arrived since.
                return;
            }
        }
        if self.again.len() < self.again.capacity() {
            self.again.push(token);
        }
    }

    /// Relays the received batch of `socket` of channel `slot`.
    fn relay(&mut self, slot: usize, socket: usize, now: Instant) {
        let Some(owned) = self.owned.get_mut(slot) else {
            return;
        };
        let Some((_, _, from_device, kind)) = owned.route(socket) else {
            return;
        };
        self.sends.clear();
        let relayed = Counter::relayed(from_device, kind);
        for index in 0..self.batch.len() {
            let Some((source, bytes)) = self.batch.datagram(index) else {
                self.tally.add(Counter::Malformed, 1);
                continue;
            };
            let decision = if from_device {
                owned.channel.from_device(now, kind, source, bytes)
            } else {
                owned.channel.from_inner(now, kind, source)
            };
            match decision {
                Decision::Relay(to) => self.sends.push((index, to)),
                Decision::Drop(reason) => self.tally.add(Counter::dropped(reason), 1),
            }
        }
        // Count and publish before sending, so that whoever receives a
        // relayed packet finds it counted; failures are taken back below.
        let attempted_bytes = self
            .sends
            .iter()
            .filter_map(|(index, _)| self.batch.datagram(*index))
            .map(|(_, bytes)| bytes.len() as u64)
            .sum::<u64>();
        self.tally.add(relayed, self.sends.len() as u64);
        self.tally.add(relayed.bytes(), attempted_bytes);
        let counters = self.shared.counters(owned.id);
        if let Some(counters) = counters {
            self.tally.flush(counters);
        }
        if let Some(view) = owned.channel.take_changed() {
            self.shared.publish(owned.id, view);
        }
        if let Some(capture) = self.shared.capture.get() {
            capture_batch(capture, &self.batch, &self.sends, owned.route(socket));
        }
        if !self.sends.is_empty()
            && let Some((_, out, _, _)) = owned.route(socket)
        {
            let sent = self.batch.send(out, &self.sends);
            if sent.failed > 0
                && let Some(counters) = counters
            {
                let unsent_bytes = attempted_bytes.saturating_sub(sent.bytes as u64);
                counters.unsent(relayed, sent.failed as u64, unsent_bytes);
            }
        }
    }

    /// Reports channels whose media went idle, and plans the next check.
    fn sweep(&mut self, now: Instant) {
        if self.next_sweep.is_none_or(|at| now < at) {
            return;
        }
        let timeout = self.shared.idle_timeout;
        let mut next: Option<Instant> = None;
        for owned in &mut self.owned {
            if owned.channel.poll_idle(now, timeout) {
                debug!(channel = owned.id.0, "sbc: media idle");
                let idle = self
                    .shared
                    .idle
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner);
                if idle.send(owned.id).is_err() {
                    trace!("sbc: nobody listens for idle channels");
                }
            }
            if let Some(at) = owned.channel.idle_deadline(timeout) {
                next = Some(next.map_or(at, |n| n.min(at)));
            }
        }
        self.next_sweep = next;
    }
}

/// `gateway run --capture`: the batch as received on `from` and the
/// datagrams relayed out of `out`.
fn capture_batch(
    capture: &Capture,
    batch: &Batch,
    sends: &[(usize, SocketAddr)],
    route: Option<(&UdpSocket, &UdpSocket, bool, Kind)>,
) {
    let Some((from, out, _, _)) = route else {
        return;
    };
    let (Ok(received_on), Ok(sent_from)) = (from.local_addr(), out.local_addr()) else {
        return;
    };
    for index in 0..batch.len() {
        if let Some((source, bytes)) = batch.datagram(index) {
            capture.udp(source, received_on, bytes);
        }
    }
    for (index, to) in sends {
        if let Some((_, bytes)) = batch.datagram(*index) {
            capture.udp(sent_from, *to, bytes);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sbc::channel::ChannelView;
    use crate::sbc::latch::DeviceSource;
    use crate::sbc::stats::{ChannelCounters, Counters};
    use std::sync::Mutex;

    fn socket() -> UdpSocket {
        let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
        socket.set_nonblocking(true).unwrap();
        socket
    }

    fn rtp(seq: u16) -> [u8; 172] {
        let mut packet = [0xd5; 172];
        packet[..12].copy_from_slice(&[0x80, 8, 0, 0, 0, 0, 0, 160, 1, 2, 3, 4]);
        packet[2..4].copy_from_slice(&seq.to_be_bytes());
        packet
    }

    /// `phone` registered from its address and announced its port.
    fn device(phone: &UdpSocket) -> DeviceSource {
        let at = phone.local_addr().unwrap();
        DeviceSource {
            ip: at.ip(),
            announced: Some(crate::sbc::AnnouncedPorts {
                rtp: at.port(),
                rtcp: at.port() + 1,
            }),
        }
    }

    struct Rig {
        worker: Worker,
        link: WorkerLink,
        shared: Arc<Shared>,
        public_rtp: SocketAddr,
        inner_rtp: SocketAddr,
        phone: UdpSocket,
        lan: UdpSocket,
    }

    impl Rig {
        fn new() -> Self {
            let sockets = ChannelSockets {
                public_rtp: socket(),
                public_rtcp: socket(),
                inner_rtp: socket(),
                inner_rtcp: socket(),
            };
            let public_rtp = sockets.public_rtp.local_addr().unwrap();
            let inner_rtp = sockets.inner_rtp.local_addr().unwrap();
            let (idle, _) = tokio::sync::mpsc::unbounded_channel();
            let shared = Arc::new(Shared {
                counters: vec![ChannelCounters::default()].into_boxed_slice(),
                views: vec![Mutex::new(ChannelView::FREE)].into_boxed_slice(),
                idle: Mutex::new(idle),
                idle_timeout: Duration::from_secs(30),
                capture: std::sync::OnceLock::new(),
            });
            let rules = LatchRules {
                window: Duration::from_secs(10),
                probation: 3,
                announced_preference: Duration::from_secs(1),
            };
            let (setup, link) =
                Setup::new(vec![(ChannelId(0), sockets)], rules, shared.clone()).unwrap();
            let phone = UdpSocket::bind("127.0.0.1:0").unwrap();
            let lan = UdpSocket::bind("127.0.0.1:0").unwrap();
            for s in [&phone, &lan] {
                s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            }
            Self {
                worker: setup.build(),
                link,
                shared,
                public_rtp,
                inner_rtp,
                phone,
                lan,
            }
        }

        /// Turns the worker until `socket` has a datagram, and reads it.
        fn turn_until(&mut self, which: bool, buf: &mut [u8]) -> usize {
            for _ in 0..100 {
                let socket = if which { &self.lan } else { &self.phone };
                socket.set_nonblocking(true).unwrap();
                let got = socket.recv(buf);
                socket.set_nonblocking(false).unwrap();
                if let Ok(len) = got {
                    return len;
                }
                self.worker.turn(Some(Duration::from_millis(50)));
            }
            panic!("nothing relayed");
        }

        /// Channel 0 anchored towards the LAN socket, and the phone's
        /// first three packets (enough to latch) on their way.
        fn anchored_with_three_packets_sent() -> (Self, [u8; 2048]) {
            let rig = Self::new();
            let lan = rig.lan.local_addr().unwrap();
            rig.link.send(Command::Anchor {
                slot: 0,
                at: Instant::now(),
                inner_peer: Some((lan, lan)),
                device: device(&rig.phone),
            });
            for seq in 0..3 {
                rig.phone.send_to(&rtp(seq), rig.public_rtp).unwrap();
            }
            (rig, [0u8; 2048])
        }

        fn counters(&self) -> Counters {
            self.shared.counters[0].call()
        }
    }

    #[test]
    fn relays_a_call_without_allocating_per_packet() {
        let (mut rig, mut buf) = Rig::anchored_with_three_packets_sent();
        assert_eq!(rig.turn_until(true, &mut buf), 172);
        assert_eq!(&buf[2..4], &2u16.to_be_bytes(), "the third packet latched");
        // Warm up the reverse path too.
        rig.lan.send_to(&rtp(0), rig.inner_rtp).unwrap();
        rig.turn_until(false, &mut buf);

        let rounds = 500u16;
        let counted = allocation_counter::measure(|| {
            for seq in 0..rounds {
                rig.phone.send_to(&rtp(3 + seq), rig.public_rtp).unwrap();
                rig.lan.send_to(&rtp(seq), rig.inner_rtp).unwrap();
                rig.turn_until(true, &mut buf);
                rig.turn_until(false, &mut buf);
            }
        });
        assert_eq!(counted.count_total, 0, "{counted:?}");
        let counters = rig.counters();
        assert_eq!(counters.from_device.packets, u64::from(rounds) + 1);
        assert_eq!(counters.to_device.packets, u64::from(rounds) + 1);
        assert_eq!(counters.from_device.bytes, 172 * (u64::from(rounds) + 1));
        assert_eq!(counters.dropped.probation, 2);
    }

    #[test]
    fn a_release_queued_before_a_packet_applies_to_it() {
        let (mut rig, mut buf) = Rig::anchored_with_three_packets_sent();
        rig.turn_until(true, &mut buf);
        rig.link.send(Command::Release { slot: 0 });
        rig.phone.send_to(&rtp(3), rig.public_rtp).unwrap();
        rig.worker.turn(Some(Duration::ZERO));
        rig.worker.turn(Some(Duration::ZERO));
        rig.lan.set_nonblocking(true).unwrap();
        assert!(rig.lan.recv(&mut buf).is_err(), "nothing after the release");
        let view = *rig.shared.views[0].lock().unwrap();
        assert_eq!(view, ChannelView::FREE);
        let call = rig.counters();
        assert_eq!(
            call.from_device,
            Default::default(),
            "the call's counters cleared"
        );
        assert_eq!(call.dropped.not_learning, 1, "the stray since the release");
        let lifetime = rig.shared.counters[0].lifetime();
        assert_eq!(lifetime.from_device.packets, 1);
        assert_eq!(lifetime.dropped.not_learning, 1);
    }

    #[test]
    fn a_flooded_socket_yields_after_its_budget_and_is_drained_next_round() {
        use nix::sys::socket::{setsockopt, sockopt::RcvBuf};
        let mut rig = Rig::new();
        let lan = rig.lan.local_addr().unwrap();
        let public = &rig.worker.state.owned[0].sockets.public_rtp;
        setsockopt(public, RcvBuf, &(1 << 20)).unwrap();
        setsockopt(&rig.lan, RcvBuf, &(1 << 20)).unwrap();
        rig.link.send(Command::Anchor {
            slot: 0,
            at: Instant::now(),
            inner_peer: Some((lan, lan)),
            device: device(&rig.phone),
        });
        let total = BATCHES_PER_ROUND * BATCH + 100;
        for seq in 0..total {
            rig.phone.send_to(&rtp(seq as u16), rig.public_rtp).unwrap();
        }
        let relayed = |rig: &Rig| rig.counters().from_device.packets as usize;
        rig.worker.turn(Some(Duration::from_secs(5)));
        assert_eq!(
            relayed(&rig),
            BATCHES_PER_ROUND * BATCH - 2,
            "one round's budget"
        );
        assert_eq!(
            rig.worker.state.again,
            [0],
            "the socket is owed another round"
        );
        // The next round does not wait for a new datagram.
        rig.worker.turn(None);
        assert_eq!(relayed(&rig), total - 2);
        assert!(rig.worker.state.again.is_empty());
    }

    #[test]
    fn a_dropped_link_ends_the_worker() {
        let Rig {
            mut worker, link, ..
        } = Rig::new();
        drop(link);
        assert!(!worker.turn(Some(Duration::from_secs(5))));
    }

    #[test]
    fn stop_ends_the_worker() {
        let mut rig = Rig::new();
        assert!(rig.worker.turn(Some(Duration::ZERO)));
        rig.link.send(Command::Stop);
        assert!(!rig.worker.turn(Some(Duration::from_secs(5))));
    }
}
