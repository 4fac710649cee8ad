//! The load generator: G.711 calls, both ways, on a precise 20 ms schedule.
//!
//! Two sockets play every call's two ends: the "home" socket (the device at
//! home, sending to each call's public port) and the "LAN" socket (the LAN
//! phone, sending to each call's inner port). One socket per side lets the
//! generator batch with `sendmmsg`/`recvmmsg` across calls, so it costs
//! little next to the proxy under test, which still sees one socket per
//! channel side. Stream `2i` is call `i` home → LAN, stream `2i + 1` LAN →
//! home; each sends 172-byte packets (12-byte RTP header, PT 8, 160 bytes of
//! payload) with consecutive sequence numbers and its own SSRC (the stream
//! number), stamped in the payload with the send time in nanoseconds since
//! the run's epoch. The `2N` streams' phases are spread evenly over 20 ms.
//!
//! One sender thread, one receiver thread per socket (named `gen-*`).

use std::io::{IoSlice, IoSliceMut};
use std::net::{SocketAddr, UdpSocket};
use std::os::fd::AsRawFd as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use nix::errno::Errno;
use nix::sys::socket::{
    ControlMessage, MsgFlags, MultiHeaders, SockaddrStorage, recvmmsg, sendmmsg, setsockopt,
    sockopt,
};

/// RTP header + 20 ms of G.711.
pub const PACKET: usize = 172;
/// 50 packets/s per stream.
pub const PERIOD: Duration = Duration::from_millis(20);
const BATCH: usize = 32;
/// The sender's clock: streams due within a tick go out together (the
/// 20 ms period holds 20 ticks, so the phases stay spread evenly).
const TICK: Duration = Duration::from_millis(1);
/// Socket buffers of the generator: a scheduling hiccup must not drop.
const BUFFER: usize = 8 << 20;

/// The generator's two sockets, bound before the proxy learns their
/// addresses.
#[derive(Debug)]
pub struct Ends {
    pub home: UdpSocket,
    pub lan: UdpSocket,
}

impl Ends {
    pub fn bind() -> anyhow::Result<Self> {
        let bind = || -> anyhow::Result<UdpSocket> {
            let socket = UdpSocket::bind("127.0.0.1:0")?;
            // Forced sizes need CAP_NET_ADMIN; else the capped ones.
            if setsockopt(&socket, sockopt::RcvBufForce, &BUFFER).is_err() {
                let _ = setsockopt(&socket, sockopt::RcvBuf, &BUFFER);
            }
            if setsockopt(&socket, sockopt::SndBufForce, &BUFFER).is_err() {
                let _ = setsockopt(&socket, sockopt::SndBuf, &BUFFER);
            }
            socket.set_read_timeout(Some(Duration::from_millis(100)))?;
            Ok(socket)
        };
        Ok(Self {
            home: bind().context("cannot bind the home socket")?,
            lan: bind().context("cannot bind the LAN socket")?,
        })
    }

    pub fn home_addr(&self) -> SocketAddr {
        self.home
            .local_addr()
            .expect("a bound socket has an address")
    }

    pub fn lan_addr(&self) -> SocketAddr {
        self.lan
            .local_addr()
            .expect("a bound socket has an address")
    }
}

/// Where each call's two ends send: `home_to[i]` is the address the home
/// end of call `i` sends to (the proxy's public side), `lan_to[i]` the LAN
/// end's (the proxy's inner side).
#[derive(Debug, Clone)]
pub struct Targets {
    pub home_to: Vec<SocketAddr>,
    pub lan_to: Vec<SocketAddr>,
}

/// What one run of the load measured (after the warm-up only).
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    /// Packets each stream sent in the measured period, all streams.
    pub sent: u64,
    pub received: u64,
    /// One-way latencies through the path, nanoseconds, both directions.
    pub latencies_ns: Vec<u32>,
    /// Streams that lost at least one packet.
    pub lossy_streams: usize,
    /// Largest lag of the sender behind its schedule.
    pub max_send_lag: Duration,
    /// Measured period (first to last measured send round).
    pub wall: Duration,
}

impl Outcome {
    pub fn lost(&self) -> u64 {
        self.sent.saturating_sub(self.received)
    }
}

/// Runs `calls` calls for `warmup` + `measure`; `on_measure` is called
/// (from this thread) when the measured period starts and when it ends
/// (for CPU samples).
pub fn run(
    ends: &Ends,
    targets: &Targets,
    warmup: Duration,
    measure: Duration,
    mut on_measure: impl FnMut(bool),
) -> anyhow::Result<Outcome> {
    let calls = targets.home_to.len();
    let streams = 2 * calls;
    let warm_rounds = (warmup.as_millis() / PERIOD.as_millis()) as u16;
    let rounds = warm_rounds as u32 + (measure.as_millis() / PERIOD.as_millis()) as u32;
    let epoch = Instant::now();
    let stop = Arc::new(AtomicBool::new(false));
    let (home, lan) = (ends.home.try_clone()?, ends.lan.try_clone()?);
    let receive = |socket: UdpSocket, name: &str| {
        let stop = stop.clone();
        std::thread::Builder::new()
            .name(name.to_owned())
            .spawn(move || receiver(&socket, streams, warm_rounds, epoch, &stop))
    };
    // Home receives the LAN → home streams, LAN the home → LAN ones.
    let home_rx = receive(home, "gen-recv-home")?;
    let lan_rx = receive(lan, "gen-recv-lan")?;
    let (home, lan) = (ends.home.try_clone()?, ends.lan.try_clone()?);
    let targets_owned = targets.clone();
    let sender = std::thread::Builder::new()
        .name("gen-send".to_owned())
        .spawn(move || sender(&home, &lan, &targets_owned, rounds, epoch))?;
    let start_measure = epoch + PERIOD * u32::from(warm_rounds);
    std::thread::sleep(start_measure.saturating_duration_since(Instant::now()));
    on_measure(true);
    let end_measure = epoch + PERIOD * rounds;
    std::thread::sleep(end_measure.saturating_duration_since(Instant::now()));
    on_measure(false);
    let wall = end_measure.saturating_duration_since(start_measure);
    let max_send_lag = sender
        .join()
        .map_err(|_| anyhow::anyhow!("the sender panicked"))??;
    // Late packets: half a second after the last send.
    std::thread::sleep(Duration::from_millis(500));
    stop.store(true, Ordering::Relaxed);
    let mut outcome = Outcome {
        max_send_lag,
        wall,
        ..Outcome::default()
    };
    let per_stream = u64::from(rounds - u32::from(warm_rounds));
    // The home end receives the odd (LAN → home) streams.
    for (handle, parity) in [(home_rx, 1), (lan_rx, 0)] {
        let (counts, latencies) = handle
            .join()
            .map_err(|_| anyhow::anyhow!("a receiver panicked"))??;
        outcome.latencies_ns.extend(latencies);
        for (stream, &count) in counts.iter().enumerate() {
            outcome.received += count;
            if stream % 2 == parity && count < per_stream {
                outcome.lossy_streams += 1;
            }
        }
    }
    outcome.sent = per_stream * streams as u64;
    Ok(outcome)
}

/// The packet of `stream`, sequence `seq`, stamped `stamp_ns`.
fn packet(buf: &mut [u8; PACKET], stream: usize, seq: u16, stamp_ns: u64) {
    buf[0] = 0x80;
    buf[1] = 8; // PCMA
    buf[2..4].copy_from_slice(&seq.to_be_bytes());
    buf[4..8].copy_from_slice(&(u32::from(seq) * 160).to_be_bytes());
    buf[8..12].copy_from_slice(&(stream as u32).to_be_bytes());
    buf[12..20].copy_from_slice(&stamp_ns.to_be_bytes());
}

/// Sends `rounds` packets per stream on the schedule (stream `s` of round
/// `r` due at `(r * streams + s) * 20 ms / streams`, sent at the first tick
/// at or after that); returns its largest lag behind the schedule (at most
/// a tick when the sender keeps up).
fn sender(
    home: &UdpSocket,
    lan: &UdpSocket,
    targets: &Targets,
    rounds: u32,
    epoch: Instant,
) -> anyhow::Result<Duration> {
    let streams = 2 * targets.home_to.len();
    let total = u64::from(rounds) * streams as u64;
    let step_ns = PERIOD.as_nanos() as u64 / streams as u64;
    let dest = |stream: usize| {
        let call = stream / 2;
        if stream.is_multiple_of(2) {
            targets.home_to[call]
        } else {
            targets.lan_to[call]
        }
    };
    let dests: Vec<SockaddrStorage> = (0..streams)
        .map(|s| SockaddrStorage::from(dest(s)))
        .collect();
    let mut home_batch = SendBatch::new();
    let mut lan_batch = SendBatch::new();
    let mut next: u64 = 0;
    let mut max_lag = Duration::ZERO;
    let mut tick = epoch;
    while next < total {
        // Wake once per tick and send what is due: spinning for each
        // stream's phase would take a core from the proxy under test.
        tick += TICK;
        std::thread::sleep(tick.saturating_duration_since(Instant::now()));
        let now = Instant::now();
        let first_due = epoch + Duration::from_nanos(next * step_ns);
        if first_due <= now {
            max_lag = max_lag.max(now - first_due);
        }
        let stamp = now.duration_since(epoch).as_nanos() as u64;
        while next < total && epoch + Duration::from_nanos(next * step_ns) <= now {
            let stream = (next % streams as u64) as usize;
            let seq = (next / streams as u64) as u16;
            let batch = if stream.is_multiple_of(2) {
                &mut home_batch
            } else {
                &mut lan_batch
            };
            batch.push(stream, seq, stamp, dests[stream]);
            if batch.full() {
                batch.flush(if stream.is_multiple_of(2) { home } else { lan })?;
            }
            next += 1;
        }
        home_batch.flush(home)?;
        lan_batch.flush(lan)?;
    }
    Ok(max_lag)
}

struct SendBatch {
    bufs: Vec<[u8; PACKET]>,
    dests: Vec<Option<SockaddrStorage>>,
    headers: MultiHeaders<SockaddrStorage>,
    len: usize,
}

impl SendBatch {
    fn new() -> Self {
        Self {
            bufs: vec![[0; PACKET]; BATCH],
            dests: vec![None; BATCH],
            headers: MultiHeaders::preallocate(BATCH, None),
            len: 0,
        }
    }

    fn full(&self) -> bool {
        self.len == BATCH
    }

    fn push(&mut self, stream: usize, seq: u16, stamp: u64, dest: SockaddrStorage) {
        packet(&mut self.bufs[self.len], stream, seq, stamp);
        self.dests[self.len] = Some(dest);
        self.len += 1;
    }

    /// Sends the batch (blocking: the generator never drops).
    fn flush(&mut self, socket: &UdpSocket) -> anyhow::Result<()> {
        let mut start = 0;
        while start < self.len {
            let slices: Vec<[IoSlice<'_>; 1]> = self.bufs[start..self.len]
                .iter()
                .map(|buf| [IoSlice::new(buf)])
                .collect();
            let no_control: [ControlMessage<'_>; 0] = [];
            match sendmmsg(
                socket.as_raw_fd(),
                &mut self.headers,
                &slices,
                &self.dests[start..self.len],
                no_control,
                MsgFlags::empty(),
            ) {
                Ok(sent) => start += sent.count(),
                Err(Errno::EINTR) => {}
                Err(errno) => return Err(errno).context("sendmmsg"),
            }
        }
        self.len = 0;
        Ok(())
    }
}

/// Counts the measured packets (sequence from `warm_rounds`) per stream and
/// their latencies until `stop`.
fn receiver(
    socket: &UdpSocket,
    streams: usize,
    warm_rounds: u16,
    epoch: Instant,
    stop: &AtomicBool,
) -> anyhow::Result<(Vec<u64>, Vec<u32>)> {
    let mut counts = vec![0u64; streams];
    let mut latencies = Vec::with_capacity(1 << 20);
    let mut slots = vec![[0u8; 256]; BATCH];
    let mut headers = MultiHeaders::<SockaddrStorage>::preallocate(BATCH, None);
    while !stop.load(Ordering::Relaxed) {
        let mut iovs: Vec<[IoSliceMut<'_>; 1]> = slots
            .iter_mut()
            .map(|slot| [IoSliceMut::new(slot)])
            .collect();
        let lens: Vec<usize> = match recvmmsg(
            socket.as_raw_fd(),
            &mut headers,
            iovs.iter_mut(),
            MsgFlags::MSG_WAITFORONE,
            None,
        ) {
            Ok(results) => results.map(|message| message.bytes).collect(),
            Err(Errno::EINTR | Errno::EAGAIN) => continue,
            Err(errno) => return Err(errno).context("recvmmsg"),
        };
        let now = Instant::now().duration_since(epoch).as_nanos() as u64;
        for (slot, &len) in slots.iter().zip(&lens) {
            if len < 20 {
                continue;
            }
            let seq = u16::from_be_bytes([slot[2], slot[3]]);
            let stream = u32::from_be_bytes([slot[8], slot[9], slot[10], slot[11]]) as usize;
            let mut stamp = [0u8; 8];
            stamp.copy_from_slice(&slot[12..20]);
            let stamp = u64::from_be_bytes(stamp);
            if seq < warm_rounds || stream >= streams {
                continue;
            }
            counts[stream] += 1;
            latencies.push(now.saturating_sub(stamp).min(u64::from(u32::MAX)) as u32);
        }
    }
    Ok((counts, latencies))
}
