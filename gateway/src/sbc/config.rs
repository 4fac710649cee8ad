//! What the SBC is started with, and what can go wrong starting it.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use crate::config::system::RtpRange;

/// The pool's shape and the latching rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SbcConfig {
    /// Where the public-side sockets bind: the LAN2 address the company
    /// router forwards the RTP range to.
    pub public_bind: IpAddr,
    /// Channel `i`: RTP on `first + 2i`, RTCP on `first + 2i + 1`.
    pub rtp_range: RtpRange,
    /// How many channels (60 on X models, 180 on S).
    pub channels: u16,
    /// Where the inner-side sockets bind (ports chosen by the system).
    pub inner_bind: IpAddr,
    /// How long a signalling event lets the device's source be learned
    /// (10 s).
    pub learning_window: Duration,
    /// Consecutive sequence numbers from one source that latch it (3).
    pub probation: u16,
    /// For how long after a window opens only the device's announced RTP
    /// port may latch (1 s); another port of its address after that.
    pub announced_preference: Duration,
    /// A channel whose media stopped in both directions for this long is
    /// reported idle (e.g. 30 s).
    pub idle_timeout: Duration,
}

/// Why the SBC could not start. Local problems only: what peers send is
/// counted, never an error.
#[derive(Debug, thiserror::Error)]
pub enum SbcError {
    /// Another socket holds a port of the pool's range.
    #[error("port {addr} is taken by another socket")]
    PortTaken {
        /// The address and port that could not be bound.
        addr: SocketAddr,
    },
    /// A port could not be bound for another reason (the address is not
    /// on this host, permissions).
    #[error("cannot bind {addr}: {source}")]
    Bind {
        /// The address and port that could not be bound.
        addr: SocketAddr,
        /// What the system said.
        source: io::Error,
    },
    /// The range does not hold two ports per channel.
    #[error("the RTP range {range} holds {} ports, {channels} channels need {}", range.len(), 2 * u32::from(*channels))]
    RangeTooSmall {
        /// The configured range.
        range: RtpRange,
        /// The channels asked for.
        channels: u16,
    },
    /// No pair of adjacent free ports (even RTP, odd RTCP) was found on
    /// the inner side.
    #[error("no free even/odd port pair on {ip} for a channel's inner side")]
    NoInnerPair {
        /// The inner address.
        ip: IpAddr,
    },
    /// The event loop or a worker thread could not be set up.
    #[error("cannot start the data plane: {0}")]
    Runtime(#[source] io::Error),
}

impl SbcError {
    /// A bind failure at `addr`.
    pub(crate) fn bind(addr: SocketAddr, source: io::Error) -> Self {
        if source.kind() == io::ErrorKind::AddrInUse {
            Self::PortTaken { addr }
        } else {
            Self::Bind { addr, source }
        }
    }
}
