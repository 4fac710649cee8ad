//! The integrated SBC's data plane: the RTP proxy channel pool of
//! `docs/sbc.md`. Each channel relays one anchored leg between the
//! internet-facing public side (fixed ports of the forwarded RTP range) and
//! the inner side (the rest of the call, on the LAN), latching the device's
//! post-NAT source with the protection against RTP hijacking.
//!
//! ```text
//!  call control ── Sbc::anchor / set_inner_peer / relearn / release ──┐
//!       ▲                                                  (queue + waker)
//!       │ idle channels, stats                                        ▼
//!  ┌────┴──────────── worker thread × cores ──────────────────────────────┐
//!  │ loop {                                                               │
//!  │   epoll_wait(timeout = next idle check)                              │
//!  │   apply queued commands            (Channel::anchor, release, ...)   │
//!  │   for each ready socket: recvmmsg a batch                            │
//!  │       Channel::from_device / from_inner → Relay(to) | Drop(reason)   │
//!  │       sendmmsg the batch out of the paired socket; add the counters  │
//!  │   report channels idle past idle_timeout                             │
//!  │ }                                                                    │
//!  └──────────────────────────────────────────────────────────────────────┘
//! ```
//!
//! The decisions are sans-IO ([`latch`], [`channel`]) and tested on a
//! virtual clock; the workers only move bytes and read the clock once per
//! batch. Worker threads with their own epoll beat tokio tasks here (see
//! `docs/sbc.md`, "Data plane").

pub mod channel;
mod config;
mod io;
pub mod latch;
mod link;
mod pool;
mod sockets;
mod stats;
mod worker;

pub use config::{SbcConfig, SbcError};
pub use latch::{AnnouncedPorts, DeviceSource};
pub use pool::Sbc;
pub use stats::{ChannelStats, Counters, Drops, Flow, LatchStatus, SbcStats};

/// A channel of the pool: index 0..channels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ChannelId(pub u16);
