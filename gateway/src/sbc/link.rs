//! What the control plane and the workers share: the command queue with
//! its waker, the per-channel counters and views, the idle reports.

use shared::capture::Capture;
use std::net::SocketAddr;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Sender;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use mio::Waker;
use tokio::sync::mpsc::UnboundedSender;
use tracing::debug;

use super::ChannelId;
use super::channel::ChannelView;
use super::latch::DeviceSource;
use super::stats::ChannelCounters;

/// What the control plane tells a worker.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Command {
    Anchor {
        slot: usize,
        at: Instant,
        inner_peer: Option<(SocketAddr, SocketAddr)>,
        device: DeviceSource,
    },
    SetInnerPeer {
        slot: usize,
        inner_peer: Option<(SocketAddr, SocketAddr)>,
    },
    Relearn {
        slot: usize,
        at: Instant,
        device: DeviceSource,
    },
    Release {
        slot: usize,
    },
    Stop,
}

/// State the workers and the control plane share.
#[derive(Debug)]
pub(crate) struct Shared {
    /// By channel index.
    pub counters: Box<[ChannelCounters]>,
    /// By channel index, updated on changes only.
    pub views: Box<[Mutex<ChannelView>]>,
    /// Where idle channels are reported.
    pub idle: Mutex<UnboundedSender<ChannelId>>,
    pub idle_timeout: Duration,
    /// `gateway run --capture`: every datagram received and relayed.
    pub capture: OnceLock<Capture>,
}

impl Shared {
    pub(crate) fn publish(&self, id: ChannelId, view: ChannelView) {
        if let Some(slot) = self.views.get(usize::from(id.0)) {
            *slot.lock().unwrap_or_else(PoisonError::into_inner) = view;
        }
    }

    pub(crate) fn counters(&self, id: ChannelId) -> Option<&ChannelCounters> {
        self.counters.get(usize::from(id.0))
    }
}

/// The control plane's end of a worker (built by `Setup::new`).
#[derive(Debug)]
pub(crate) struct WorkerLink {
    pub(crate) commands: Sender<Command>,
    pub(crate) pending: Arc<AtomicBool>,
    /// Shared with the worker: the eventfd must outlive the link, or a
    /// last wake could vanish with it from the epoll set.
    pub(crate) waker: Arc<Waker>,
}

impl WorkerLink {
    /// Queues `command` and wakes the worker. A worker that is gone
    /// (shut down) ignores it.
    pub(crate) fn send(&self, command: Command) {
        if self.commands.send(command).is_err() {
            debug!(?command, "sbc: worker gone, command ignored");
            return;
        }
        self.pending.store(true, Ordering::Release);
        if let Err(error) = self.waker.wake() {
            debug!(%error, "sbc: cannot wake a worker");
        }
    }
}

impl Drop for WorkerLink {
    /// The control plane is gone: wake the worker, which finds its queue
    /// closed and stops.
    fn drop(&mut self) {
        let _ = self.waker.wake();
    }
}
