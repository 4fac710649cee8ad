//! Binding a channel's four sockets: the public pair at fixed ports of the
//! forwarded range, the inner pair at adjacent system-chosen ports (even
//! RTP, odd RTCP, as LAN phones derive RTCP from the RTP port).

use std::net::{IpAddr, SocketAddr, UdpSocket};

use super::config::{SbcConfig, SbcError};

/// How often to try for an adjacent inner pair before giving up.
const INNER_PAIR_TRIES: usize = 64;

/// A channel's sockets, non-blocking.
#[derive(Debug)]
pub(crate) struct ChannelSockets {
    pub public_rtp: UdpSocket,
    pub public_rtcp: UdpSocket,
    pub inner_rtp: UdpSocket,
    pub inner_rtcp: UdpSocket,
}

/// A channel's bound addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ChannelAddrs {
    pub public_rtp: SocketAddr,
    pub inner_rtp: SocketAddr,
    pub inner_rtcp: SocketAddr,
}

impl ChannelSockets {
    /// Binds channel `index` of `config`'s pool.
    pub(crate) fn bind(config: &SbcConfig, index: u16) -> Result<Self, SbcError> {
        let rtp_port = u32::from(config.rtp_range.first) + 2 * u32::from(index);
        let port = |offset: u32| {
            u16::try_from(rtp_port + offset).map_err(|_| SbcError::RangeTooSmall {
                range: config.rtp_range,
                channels: config.channels,
            })
        };
        let public_rtp = bind(SocketAddr::new(config.public_bind, port(0)?))?;
        let public_rtcp = bind(SocketAddr::new(config.public_bind, port(1)?))?;
        let (inner_rtp, inner_rtcp) = bind_pair(config.inner_bind)?;
        Ok(Self {
            public_rtp,
            public_rtcp,
            inner_rtp,
            inner_rtcp,
        })
    }

    /// The bound addresses.
    pub(crate) fn addrs(&self) -> Result<ChannelAddrs, SbcError> {
        let local = |socket: &UdpSocket| socket.local_addr().map_err(SbcError::Runtime);
        Ok(ChannelAddrs {
            public_rtp: local(&self.public_rtp)?,
            inner_rtp: local(&self.inner_rtp)?,
            inner_rtcp: local(&self.inner_rtcp)?,
        })
    }
}

fn bind(addr: SocketAddr) -> Result<UdpSocket, SbcError> {
    let socket = UdpSocket::bind(addr).map_err(|e| SbcError::bind(addr, e))?;
    socket.set_nonblocking(true).map_err(SbcError::Runtime)?;
    Ok(socket)
}

/// An even port and the odd one above it, chosen by the system.
fn bind_pair(ip: IpAddr) -> Result<(UdpSocket, UdpSocket), SbcError> {
    for _ in 0..INNER_PAIR_TRIES {
        let first = bind(SocketAddr::new(ip, 0))?;
        let port = first.local_addr().map_err(SbcError::Runtime)?.port();
        // Linux hands out odd ports to bind(0) by preference: try the even
        // one below; else the odd one above an even port.
        let pair = if port % 2 == 1 {
            bind(SocketAddr::new(ip, port - 1))
                .ok()
                .map(|rtp| (rtp, first))
        } else {
            port.checked_add(1)
                .and_then(|odd| bind(SocketAddr::new(ip, odd)).ok())
                .map(|rtcp| (first, rtcp))
        };
        if let Some(pair) = pair {
            return Ok(pair);
        }
    }
    Err(SbcError::NoInnerPair { ip })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inner_pairs_are_even_and_odd_neighbours() {
        for _ in 0..20 {
            let (rtp, rtcp) = bind_pair("127.0.0.1".parse().unwrap()).unwrap();
            let rtp = rtp.local_addr().unwrap().port();
            assert_eq!(rtp % 2, 0);
            assert_eq!(rtcp.local_addr().unwrap().port(), rtp + 1);
        }
    }
}
