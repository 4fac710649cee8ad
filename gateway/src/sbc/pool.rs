//! The control plane's handle on the pool: binds the sockets, starts the
//! workers, tells them what each channel does, reads their counters.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Instant;

use tokio::sync::mpsc::{UnboundedReceiver, unbounded_channel};
use tracing::{debug, info};

use super::ChannelId;
use super::channel::ChannelView;
use super::config::{SbcConfig, SbcError};
use super::latch::{DeviceSource, LatchRules};
use super::link::{Command, Shared, WorkerLink};
use super::sockets::{ChannelAddrs, ChannelSockets};
use super::stats::{ChannelCounters, ChannelStats, Counters, SbcStats};
use super::worker::Setup;

/// The RTP proxy channel pool and its data plane.
#[derive(Debug)]
pub struct Sbc {
    addrs: Box<[ChannelAddrs]>,
    links: Box<[WorkerLink]>,
    threads: Mutex<Vec<JoinHandle<()>>>,
    shared: Arc<Shared>,
    anchored: Box<[AtomicBool]>,
    in_use: AtomicUsize,
    peak: AtomicUsize,
    /// The idle receiver made at start, until someone takes it.
    idle: Mutex<Option<UnboundedReceiver<ChannelId>>>,
}

impl Sbc {
    /// Binds every channel's four sockets (the error names a port that is
    /// taken) and starts one worker thread per core.
    pub async fn start(config: SbcConfig) -> Result<Arc<Self>, SbcError> {
        let cores = std::thread::available_parallelism().map_or(1, NonZeroUsize::get);
        Self::start_with_workers(config, cores)
    }

    /// [`Sbc::start`] with `workers` threads (at least one, at most one
    /// per channel).
    pub fn start_with_workers(config: SbcConfig, workers: usize) -> Result<Arc<Self>, SbcError> {
        if config.rtp_range.len() < 2 * u32::from(config.channels) {
            return Err(SbcError::RangeTooSmall {
                range: config.rtp_range,
                channels: config.channels,
            });
        }
        let mut sockets = Vec::with_capacity(usize::from(config.channels));
        let mut addrs = Vec::with_capacity(usize::from(config.channels));
        for index in 0..config.channels {
            let channel = ChannelSockets::bind(&config, index)?;
            addrs.push(channel.addrs()?);
            sockets.push(channel);
        }
        let (idle_sender, idle_receiver) = unbounded_channel();
        let shared = Arc::new(Shared {
            counters: (0..config.channels)
                .map(|_| ChannelCounters::default())
                .collect(),
            views: (0..config.channels)
                .map(|_| Mutex::new(ChannelView::FREE))
                .collect(),
            idle: Mutex::new(idle_sender),
            idle_timeout: config.idle_timeout,
            capture: std::sync::OnceLock::new(),
        });
        let rules = LatchRules {
            window: config.learning_window,
            probation: config.probation,
            announced_preference: config.announced_preference,
        };
        let workers = workers.clamp(1, usize::from(config.channels).max(1));
        let mut shares: Vec<Vec<(ChannelId, ChannelSockets)>> =
            (0..workers).map(|_| Vec::new()).collect();
        // Channel i to worker i % workers: call control takes the lowest
        // free channels, so this spreads the calls.
        for (index, channel) in (0..config.channels).zip(sockets) {
            if let Some(share) = shares.get_mut(usize::from(index) % workers) {
                share.push((ChannelId(index), channel));
            }
        }
        let mut links = Vec::with_capacity(workers);
        let mut threads = Vec::with_capacity(workers);
        for (number, share) in shares.into_iter().enumerate() {
            let (worker, link) =
                Setup::new(share, rules, shared.clone()).map_err(SbcError::Runtime)?;
            let thread = std::thread::Builder::new()
                .name(format!("sbc-worker-{number}"))
                .spawn(move || worker.run());
            links.push(link);
            match thread {
                Ok(thread) => threads.push(thread),
                Err(error) => {
                    for link in &links {
                        link.send(Command::Stop);
                    }
                    return Err(SbcError::Runtime(error));
                }
            }
        }
        info!(
            channels = config.channels,
            workers,
            range = %config.rtp_range,
            public = %config.public_bind,
            "sbc: channel pool bound"
        );
        Ok(Arc::new(Self {
            addrs: addrs.into_boxed_slice(),
            links: links.into_boxed_slice(),
            threads: Mutex::new(threads),
            shared,
            anchored: (0..config.channels)
                .map(|_| AtomicBool::new(false))
                .collect(),
            in_use: AtomicUsize::new(0),
            peak: AtomicUsize::new(0),
            idle: Mutex::new(Some(idle_receiver)),
        }))
    }

    /// How many channels the pool has.
    pub fn channels(&self) -> u16 {
        u16::try_from(self.addrs.len()).unwrap_or(u16::MAX)
    }

    /// The bound public RTP address of the channel (RTCP is one port up).
    /// A channel outside the pool gives the unspecified address, port 0.
    pub fn public_rtp(&self, id: ChannelId) -> SocketAddr {
        self.addrs
            .get(usize::from(id.0))
            .map_or(UNSPECIFIED, |a| a.public_rtp)
    }

    /// The inner RTP and RTCP addresses of the channel (unspecified, port
    /// 0, outside the pool).
    pub fn inner(&self, id: ChannelId) -> (SocketAddr, SocketAddr) {
        self.addrs
            .get(usize::from(id.0))
            .map_or((UNSPECIFIED, UNSPECIFIED), |a| (a.inner_rtp, a.inner_rtcp))
    }

    /// The channel now carries a call: the inner side sends to
    /// `inner_peer` (RTP, RTCP), `None` while not known, and a learning
    /// window opens for the device side, learning only from `device`: the
    /// IP address its signalling comes from (its NAT's public address),
    /// preferring the RTP port it announced. Packets from other addresses
    /// are foreign even while learning, so an attacker can neither latch
    /// first nor disturb the device's probation (`docs/sbc.md`, rule 6).
    pub fn anchor(
        &self,
        id: ChannelId,
        inner_peer: Option<(SocketAddr, SocketAddr)>,
        device: DeviceSource,
    ) {
        let Some(flag) = self.anchored.get(usize::from(id.0)) else {
            debug!(channel = id.0, "sbc: anchor of a channel outside the pool");
            return;
        };
        if !flag.swap(true, Ordering::AcqRel) {
            let in_use = self.in_use.fetch_add(1, Ordering::AcqRel) + 1;
            self.peak.fetch_max(in_use, Ordering::AcqRel);
        }
        debug!(
            channel = id.0,
            ?inner_peer,
            ?device,
            "sbc: channel anchored, learning"
        );
        self.command(id, |slot| Command::Anchor {
            slot,
            at: Instant::now(),
            inner_peer,
            device,
        });
    }

    /// The rest of the call moved: the inner side sends to `inner_peer`
    /// from now on (and accepts only from its address).
    pub fn set_inner_peer(&self, id: ChannelId, inner_peer: Option<(SocketAddr, SocketAddr)>) {
        self.command(id, |slot| Command::SetInnerPeer { slot, inner_peer });
    }

    /// A signalling change (the device re-registered from a new address,
    /// announced new ports): forget the latched source, open a new learning
    /// window for `device` (see [`Sbc::anchor`]).
    pub fn relearn(&self, id: ChannelId, device: DeviceSource) {
        self.command(id, |slot| Command::Relearn {
            slot,
            at: Instant::now(),
            device,
        });
    }

    /// The call ended: stop forwarding, clear the call's state and
    /// counters (the totals keep them).
    pub fn release(&self, id: ChannelId) {
        debug!(channel = id.0, "sbc: channel released");
        if let Some(flag) = self.anchored.get(usize::from(id.0))
            && flag.swap(false, Ordering::AcqRel)
        {
            self.in_use.fetch_sub(1, Ordering::AcqRel);
        }
        self.command(id, |slot| Command::Release { slot });
    }

    /// Per channel: packets and bytes each way, drops by reason, latch;
    /// channels in use now and at peak; totals.
    /// Records every datagram the channels receive and relay into
    /// `capture` from now on (once; a second capture is ignored).
    pub fn capture_into(&self, capture: shared::capture::Capture) {
        let _ = self.shared.capture.set(capture);
    }

    pub fn stats(&self) -> SbcStats {
        let now = Instant::now();
        let mut totals = Counters::default();
        let channels = (0..self.channels())
            .zip(self.shared.views.iter().zip(self.shared.counters.iter()))
            .map(|(index, (view, counters))| {
                let view = *view.lock().unwrap_or_else(PoisonError::into_inner);
                let stats = ChannelStats::new(ChannelId(index), view, counters, now);
                totals.add(&stats.lifetime);
                stats
            })
            .collect();
        SbcStats {
            channels,
            in_use: self.in_use.load(Ordering::Acquire),
            peak_in_use: self.peak.load(Ordering::Acquire),
            totals,
        }
    }

    /// Channels whose media went idle past the idle timeout, each once per
    /// anchoring, so that call control can end their calls. Reports wait
    /// in the receiver from the start until the first call takes it; a
    /// later call gets a new receiver and the earlier one closes.
    pub fn idle(&self) -> UnboundedReceiver<ChannelId> {
        if let Some(receiver) = self
            .idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
        {
            return receiver;
        }
        let (sender, receiver) = unbounded_channel();
        *self
            .shared
            .idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = sender;
        receiver
    }

    /// Stops the workers (closing every socket) and releases every
    /// channel: the gateway's shutdown.
    pub async fn shutdown(&self) {
        for link in &self.links {
            link.send(Command::Stop);
        }
        let threads =
            std::mem::take(&mut *self.threads.lock().unwrap_or_else(PoisonError::into_inner));
        if !threads.is_empty() {
            let joined = tokio::task::spawn_blocking(move || {
                for thread in threads {
                    if thread.join().is_err() {
                        debug!("sbc: a worker panicked");
                    }
                }
            })
            .await;
            if let Err(error) = joined {
                debug!(%error, "sbc: joining the workers failed");
            }
        }
        // The workers are gone: release what they held.
        for (index, flag) in self.anchored.iter().enumerate() {
            if flag.swap(false, Ordering::AcqRel) {
                self.in_use.fetch_sub(1, Ordering::AcqRel);
            }
            if let (Ok(id), Some(counters)) =
                (u16::try_from(index), self.shared.counters.get(index))
            {
                counters.start_call();
                self.shared.publish(ChannelId(id), ChannelView::FREE);
            }
        }
        info!("sbc: stopped");
    }

    /// Whether the workers have all stopped (after [`Sbc::shutdown`]).
    pub fn is_stopped(&self) -> bool {
        self.threads
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .all(JoinHandle::is_finished)
    }

    fn command(&self, id: ChannelId, command: impl FnOnce(usize) -> Command) {
        let index = usize::from(id.0);
        if index >= self.addrs.len() || self.links.is_empty() {
            debug!(
                channel = id.0,
                "sbc: command for a channel outside the pool"
            );
            return;
        }
        let workers = self.links.len();
        if let Some(link) = self.links.get(index % workers) {
            link.send(command(index / workers));
        }
    }
}

impl Drop for Sbc {
    /// Dropped without [`Sbc::shutdown`]: the workers still stop.
    fn drop(&mut self) {
        for link in &self.links {
            link.send(Command::Stop);
        }
    }
}

const UNSPECIFIED: SocketAddr = SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0);
