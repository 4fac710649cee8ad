//! Counters the workers keep and the control plane reads, and the
//! snapshot `Sbc::stats` returns.
//!
//! Each channel has lifetime counters that only its worker adds to (one
//! `fetch_add` per counter and receive batch, never per packet) and a
//! baseline the worker copies them into when the channel is anchored or
//! released: a call's counters are the difference, and the totals are the
//! lifetime sums, so nothing is lost or counted twice when calls end.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};

use super::ChannelId;
use super::channel::{ChannelView, Dropped, Kind};
use super::latch::{DeviceSource, LatchView};

/// The counters of a channel, as indexes into its arrays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Counter {
    FromDevicePackets,
    FromDeviceBytes,
    ToDevicePackets,
    ToDeviceBytes,
    RtcpFromDevicePackets,
    RtcpFromDeviceBytes,
    RtcpToDevicePackets,
    RtcpToDeviceBytes,
    Foreign,
    Probation,
    NotLearning,
    Malformed,
    InnerForeign,
    NoDestination,
    SendFailed,
}

/// How many counters a channel has.
pub(crate) const COUNTERS: usize = Counter::SendFailed as usize + 1;

impl Counter {
    /// The packet counter of relayed traffic.
    pub(crate) fn relayed(from_device: bool, kind: Kind) -> Self {
        match (from_device, kind) {
            (true, Kind::Rtp) => Self::FromDevicePackets,
            (false, Kind::Rtp) => Self::ToDevicePackets,
            (true, Kind::Rtcp) => Self::RtcpFromDevicePackets,
            (false, Kind::Rtcp) => Self::RtcpToDevicePackets,
        }
    }

    /// The byte counter that goes with a packet counter of relayed traffic.
    pub(crate) fn bytes(self) -> Self {
        match self {
            Self::FromDevicePackets => Self::FromDeviceBytes,
            Self::ToDevicePackets => Self::ToDeviceBytes,
            Self::RtcpFromDevicePackets => Self::RtcpFromDeviceBytes,
            Self::RtcpToDevicePackets => Self::RtcpToDeviceBytes,
            other => other,
        }
    }

    /// The counter of a drop reason.
    pub(crate) fn dropped(reason: Dropped) -> Self {
        match reason {
            Dropped::Foreign => Self::Foreign,
            Dropped::Probation => Self::Probation,
            Dropped::NotLearning => Self::NotLearning,
            Dropped::Malformed => Self::Malformed,
            Dropped::InnerForeign => Self::InnerForeign,
            Dropped::NoDestination => Self::NoDestination,
        }
    }
}

/// Counts accumulated over one receive batch, then added at once.
#[derive(Debug, Default)]
pub(crate) struct Tally([u64; COUNTERS]);

impl Tally {
    pub(crate) fn add(&mut self, counter: Counter, by: u64) {
        if let Some(slot) = self.0.get_mut(counter as usize) {
            *slot += by;
        }
    }

    /// Adds the tally to `counters` and clears it.
    pub(crate) fn flush(&mut self, counters: &ChannelCounters) {
        for (slot, counter) in self.0.iter_mut().zip(&counters.lifetime) {
            if *slot != 0 {
                counter.fetch_add(std::mem::take(slot), Ordering::Relaxed);
            }
        }
    }
}

/// One channel's counters, on a cache line of its own so that the two
/// workers never write the same line.
#[derive(Debug, Default)]
#[repr(align(128))]
pub(crate) struct ChannelCounters {
    lifetime: [AtomicU64; COUNTERS],
    baseline: [AtomicU64; COUNTERS],
}

impl ChannelCounters {
    /// A new call starts (or the last one ended): its counters start from
    /// zero. Called by the owning worker only.
    pub(crate) fn start_call(&self) {
        for (base, counter) in self.baseline.iter().zip(&self.lifetime) {
            base.store(counter.load(Ordering::Relaxed), Ordering::Relaxed);
        }
    }

    /// Takes back `packets` and `bytes` counted as relayed under `relayed`
    /// that could not be sent, and counts them as failed sends.
    pub(crate) fn unsent(&self, relayed: Counter, packets: u64, bytes: u64) {
        let at = |counter: Counter| self.lifetime.get(counter as usize);
        if let Some(counter) = at(relayed) {
            counter.fetch_sub(packets, Ordering::Relaxed);
        }
        if let Some(counter) = at(relayed.bytes()) {
            counter.fetch_sub(bytes, Ordering::Relaxed);
        }
        if let Some(counter) = at(Counter::SendFailed) {
            counter.fetch_add(packets, Ordering::Relaxed);
        }
    }

    fn read(&self, baseline: bool) -> [u64; COUNTERS] {
        let mut out = [0; COUNTERS];
        for ((out, counter), base) in out.iter_mut().zip(&self.lifetime).zip(&self.baseline) {
            let total = counter.load(Ordering::Relaxed);
            *out = if baseline {
                total.saturating_sub(base.load(Ordering::Relaxed))
            } else {
                total
            };
        }
        out
    }

    /// The current call's counters.
    pub(crate) fn call(&self) -> Counters {
        Counters::from_array(self.read(true))
    }

    /// Everything since the start.
    pub(crate) fn lifetime(&self) -> Counters {
        Counters::from_array(self.read(false))
    }
}

/// Packets and bytes of one flow.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Flow {
    /// Packets relayed.
    pub packets: u64,
    /// Their UDP payload bytes.
    pub bytes: u64,
}

/// Packets not relayed, by reason.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Drops {
    /// Public side, not from the latched source (RTP Bleed attempts among
    /// them), or from another address than the device's while learning.
    pub foreign: u64,
    /// Public side, while the source was on probation.
    pub probation: u64,
    /// Public side, with no learning window open and nothing latched.
    pub not_learning: u64,
    /// Public side, not RTP/RTCP.
    pub malformed: u64,
    /// Inner side, not from the inner peer's address.
    pub inner_foreign: u64,
    /// Accepted, but the other side was not known yet.
    pub no_destination: u64,
    /// The send failed (socket buffer full, network error).
    pub send_failed: u64,
}

/// A channel's (or all channels') counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counters {
    /// RTP from the device to the inner side.
    pub from_device: Flow,
    /// RTP from the inner side to the device.
    pub to_device: Flow,
    /// RTCP from the device to the inner side.
    pub rtcp_from_device: Flow,
    /// RTCP from the inner side to the device.
    pub rtcp_to_device: Flow,
    /// What was dropped.
    pub dropped: Drops,
}

impl Counters {
    fn from_array(c: [u64; COUNTERS]) -> Self {
        let at = |counter: Counter| c.get(counter as usize).copied().unwrap_or(0);
        let flow = |packets: Counter| Flow {
            packets: at(packets),
            bytes: at(packets.bytes()),
        };
        Self {
            from_device: flow(Counter::FromDevicePackets),
            to_device: flow(Counter::ToDevicePackets),
            rtcp_from_device: flow(Counter::RtcpFromDevicePackets),
            rtcp_to_device: flow(Counter::RtcpToDevicePackets),
            dropped: Drops {
                foreign: at(Counter::Foreign),
                probation: at(Counter::Probation),
                not_learning: at(Counter::NotLearning),
                malformed: at(Counter::Malformed),
                inner_foreign: at(Counter::InnerForeign),
                no_destination: at(Counter::NoDestination),
                send_failed: at(Counter::SendFailed),
            },
        }
    }

    /// Adds `other` to these.
    pub fn add(&mut self, other: &Self) {
        fn flow(a: &mut Flow, b: Flow) {
            a.packets += b.packets;
            a.bytes += b.bytes;
        }
        flow(&mut self.from_device, other.from_device);
        flow(&mut self.to_device, other.to_device);
        flow(&mut self.rtcp_from_device, other.rtcp_from_device);
        flow(&mut self.rtcp_to_device, other.rtcp_to_device);
        let (a, b) = (&mut self.dropped, other.dropped);
        a.foreign += b.foreign;
        a.probation += b.probation;
        a.not_learning += b.not_learning;
        a.malformed += b.malformed;
        a.inner_foreign += b.inner_foreign;
        a.no_destination += b.no_destination;
        a.send_failed += b.send_failed;
    }
}

/// Where a channel's latch is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LatchStatus {
    /// Free, or anchored with no window open and nothing latched.
    Idle,
    /// A learning window is open.
    Learning,
    /// The device's source is latched.
    Latched {
        /// Its RTP source.
        source: SocketAddr,
        /// Its RTCP source, once one arrived.
        rtcp: Option<SocketAddr>,
    },
}

impl LatchStatus {
    /// The status at `now` (a window that has closed is idle).
    pub(crate) fn at(view: LatchView, now: std::time::Instant) -> Self {
        match view {
            LatchView::Learning { until } if now < until => Self::Learning,
            LatchView::Latched { source, rtcp } => Self::Latched { source, rtcp },
            _ => Self::Idle,
        }
    }
}

/// One channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChannelStats {
    /// Which.
    pub id: ChannelId,
    /// Whether it carries a call.
    pub anchored: bool,
    /// Its latch.
    pub latch: LatchStatus,
    /// Where signalling says the device is (learning is restricted to its
    /// address), while the channel carries a call.
    pub device: Option<DeviceSource>,
    /// Where the inner side sends (RTP, RTCP).
    pub inner_peer: Option<(SocketAddr, SocketAddr)>,
    /// The current call's counters: since the last anchoring, or since the
    /// release on a free channel (where only strays are counted).
    pub call: Counters,
    /// Everything since the start, calls and strays on the free channel.
    pub lifetime: Counters,
}

impl ChannelStats {
    pub(crate) fn new(
        id: ChannelId,
        view: ChannelView,
        counters: &ChannelCounters,
        now: std::time::Instant,
    ) -> Self {
        Self {
            id,
            anchored: view.anchored,
            latch: LatchStatus::at(view.latch, now),
            device: view.device,
            inner_peer: view.inner_peer,
            call: counters.call(),
            lifetime: counters.lifetime(),
        }
    }
}

/// The whole pool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SbcStats {
    /// Every channel, by index.
    pub channels: Vec<ChannelStats>,
    /// Channels anchored now.
    pub in_use: usize,
    /// The most channels anchored at once.
    pub peak_in_use: usize,
    /// Sum of all channels' lifetime counters.
    pub totals: Counters,
}
