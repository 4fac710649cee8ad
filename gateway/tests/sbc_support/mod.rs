//! Shared by the `sbc_*` scenarios: a pool on free loopback ports, RTP
//! packets that say who sent them, and receiving with a timeout (never a
//! sleep as synchronisation).
#![allow(dead_code)]
// Test support: a failure here is a failed test.
#![allow(clippy::unwrap_used)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use gateway::config::system::RtpRange;
use gateway::sbc::{
    AnnouncedPorts, ChannelId, ChannelStats, DeviceSource, Sbc, SbcConfig, SbcError,
};
use tokio::net::UdpSocket;

/// How long anything may take before a test gives up.
pub const PATIENCE: Duration = Duration::from_secs(5);

/// The default shape of a test pool: 4 channels, 10 s window, probation 3,
/// the announced port preferred for 1 s.
pub fn config(first: u16) -> SbcConfig {
    SbcConfig {
        public_bind: "127.0.0.1".parse().unwrap(),
        rtp_range: RtpRange {
            first,
            last: first + 7,
        },
        channels: 4,
        inner_bind: "127.0.0.1".parse().unwrap(),
        learning_window: Duration::from_secs(10),
        probation: 3,
        announced_preference: Duration::from_secs(1),
        idle_timeout: Duration::from_secs(30),
    }
}

/// Starts a pool on a free block of ports below the ephemeral range,
/// trying other blocks while ports are taken (parallel tests, other users
/// of the machine).
pub async fn start(tweak: impl Fn(&mut SbcConfig)) -> Arc<Sbc> {
    start_with(tweak, None).await
}

/// [`start`] with a number of workers.
pub async fn start_with(tweak: impl Fn(&mut SbcConfig), workers: Option<usize>) -> Arc<Sbc> {
    for _ in 0..100 {
        let first = 2 * rand::random_range(10_000u16..16_000);
        let mut config = config(first);
        tweak(&mut config);
        config.rtp_range = RtpRange {
            first,
            last: first + 2 * config.channels - 1,
        };
        let started = match workers {
            Some(workers) => Sbc::start_with_workers(config, workers),
            None => Sbc::start(config).await,
        };
        match started {
            Ok(sbc) => return sbc,
            Err(SbcError::PortTaken { .. }) => continue,
            Err(error) => panic!("cannot start the SBC: {error}"),
        }
    }
    panic!("no free port block found");
}

/// A socket on `ip`, any port.
/// A channel anchored for a call with a phone on the LAN.
pub struct LanCall {
    /// Where the phone at home sends.
    pub public_rtp: SocketAddr,
    /// Where the LAN phone sends.
    pub inner_rtp: SocketAddr,
    /// The LAN phone.
    pub lan: UdpSocket,
}

/// Anchors `id` for a call of `device` with a new LAN phone on 127.0.0.1.
pub async fn anchor_lan_call(sbc: &Sbc, id: ChannelId, device: DeviceSource) -> LanCall {
    let lan = socket("127.0.0.1").await;
    let lan_addr = lan.local_addr().expect("bound");
    sbc.anchor(id, Some((lan_addr, lan_addr)), device);
    LanCall {
        public_rtp: sbc.public_rtp(id),
        inner_rtp: sbc.inner(id).0,
        lan,
    }
}

/// A device that registered from `ip` and announced no media ports.
pub fn device(ip: &str) -> DeviceSource {
    DeviceSource {
        ip: ip.parse().unwrap(),
        announced: None,
    }
}

/// A device that registered from `at`'s address and announced `at`'s port
/// (RTCP one above): its NAT keeps ports.
pub fn device_at(at: SocketAddr) -> DeviceSource {
    DeviceSource {
        ip: at.ip(),
        announced: Some(AnnouncedPorts {
            rtp: at.port(),
            rtcp: at.port() + 1,
        }),
    }
}

pub async fn socket(ip: &str) -> UdpSocket {
    UdpSocket::bind((ip, 0)).await.unwrap()
}

/// An RTP packet (G.711 A-law, 20 ms) whose payload starts with `tag`, so
/// the receiver can tell who sent it.
pub fn rtp(seq: u16, tag: u8) -> Vec<u8> {
    let mut packet = vec![0x80, 8, 0, 0, 0, 0, 0, 0, 0xca, 0xfe, 0, tag];
    packet[2..4].copy_from_slice(&seq.to_be_bytes());
    packet[4..8].copy_from_slice(&(u32::from(seq) * 160).to_be_bytes());
    packet.push(tag);
    packet.extend_from_slice(&[0xd5; 159]);
    packet
}

/// An RTCP receiver report (no report blocks) from `tag`.
pub fn rtcp(tag: u8) -> Vec<u8> {
    vec![0x80, 201, 0, 1, 0, 0, 0, tag]
}

/// The tag of a packet made by [`rtp`] or [`rtcp`].
pub fn tag(packet: &[u8]) -> u8 {
    if packet.get(1) == Some(&201) {
        packet[7]
    } else {
        packet[12]
    }
}

/// The sequence number of an RTP packet.
pub fn seq(packet: &[u8]) -> u16 {
    u16::from_be_bytes([packet[2], packet[3]])
}

/// The next datagram on `socket`, waiting at most [`PATIENCE`].
pub async fn recv(socket: &UdpSocket) -> (Vec<u8>, SocketAddr) {
    let mut buf = vec![0u8; 2048];
    let (len, from) = tokio::time::timeout(PATIENCE, socket.recv_from(&mut buf))
        .await
        .expect("a datagram in time")
        .unwrap();
    buf.truncate(len);
    (buf, from)
}

/// Whatever is already queued on `socket`, without waiting. Loopback
/// delivers on send, so once a later datagram of the same sender has
/// arrived elsewhere, everything relayed before it is here.
pub fn queued(socket: &UdpSocket) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut buf = vec![0u8; 2048];
    while let Ok((len, _)) = socket.try_recv_from(&mut buf) {
        out.push(buf[..len].to_vec());
    }
    out
}

/// A channel's stats.
pub fn stats(sbc: &Sbc, id: ChannelId) -> ChannelStats {
    sbc.stats().channels[usize::from(id.0)]
}

/// Waits until `condition` holds on the pool's stats (the data plane
/// counts a dropped packet a moment after it arrives), at most
/// [`PATIENCE`].
pub async fn until(sbc: &Sbc, mut condition: impl FnMut(&gateway::sbc::SbcStats) -> bool) {
    let waited = tokio::time::timeout(PATIENCE, async {
        while !condition(&sbc.stats()) {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    })
    .await;
    assert!(
        waited.is_ok(),
        "condition not met in time: {:?}",
        sbc.stats()
    );
}
