//! An attacker on the internet spraying forged media at the RTP proxy's
//! public ports (the model's forwarded range is public knowledge): every
//! few milliseconds one in-sequence G.711 A-law packet to each port, and
//! an RTCP receiver report to each RTCP port, from one socket; it counts
//! what comes back to it (media the SBC would bleed to it).

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::BytesMut;
use shared::media::rtcp::{Report, write_compound};
use shared::media::rtp::{RtpHeader, write};
use shared::media::{PayloadType, Ssrc};
use tokio::net::UdpSocket;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// The forged stream's source.
pub const FORGED_SSRC: Ssrc = Ssrc(0x0bad_c0de);

/// Rounds a spray sends at most (a bound on the loop: 60 s at the pace).
const MAX_ROUNDS: u32 = 12_000;

/// The pace of the rounds.
const PACE: Duration = Duration::from_millis(5);

/// What a spray did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SprayReport {
    /// Rounds sent (each: one packet to every target).
    pub rounds: u32,
    /// Datagrams that came back to the attacker's socket.
    pub received: u64,
}

/// A running spray.
pub struct Sprayer {
    local: SocketAddr,
    rounds: Arc<AtomicU64>,
    received: Arc<AtomicU64>,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

impl Sprayer {
    /// Sprays from `ip` (any port) at every RTP port of `rtp_ports` and
    /// the RTCP port above each: RTP (payload type 8, sequence numbers
    /// counting up per round) to both, and an RTCP receiver report to the
    /// RTCP port.
    pub async fn start(ip: IpAddr, rtp_ports: Vec<SocketAddr>) -> Self {
        let socket = match UdpSocket::bind((ip, 0)).await {
            Ok(socket) => socket,
            Err(error) => panic!("cannot bind the attacker's socket on {ip}: {error}"),
        };
        let local = socket.local_addr().expect("bound");
        let rounds = Arc::new(AtomicU64::new(0));
        let received = Arc::new(AtomicU64::new(0));
        let (stop, mut stopped) = oneshot::channel();
        let task = tokio::spawn({
            let (rounds, received) = (rounds.clone(), received.clone());
            async move {
                let mut pace = tokio::time::interval(PACE);
                let mut buffer = [0u8; 2048];
                let mut round = 0u32;
                while round < MAX_ROUNDS {
                    tokio::select! {
                        _ = &mut stopped => break,
                        got = socket.recv_from(&mut buffer) => {
                            if got.is_ok() {
                                received.fetch_add(1, Ordering::SeqCst);
                            }
                        }
                        _ = pace.tick() => {
                            send_round(&socket, &rtp_ports, round).await;
                            round += 1;
                            rounds.store(u64::from(round), Ordering::SeqCst);
                        }
                    }
                }
            }
        });
        Self {
            local,
            rounds,
            received,
            stop: Some(stop),
            task,
        }
    }

    /// Where the forged packets come from.
    pub fn local(&self) -> SocketAddr {
        self.local
    }

    /// Rounds sent so far.
    pub fn rounds(&self) -> u64 {
        self.rounds.load(Ordering::SeqCst)
    }

    /// Stops spraying; what it did.
    pub async fn stop(mut self) -> SprayReport {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let task = std::mem::replace(&mut self.task, tokio::spawn(async {}));
        let _ = task.await;
        SprayReport {
            rounds: u32::try_from(self.rounds()).unwrap_or(u32::MAX),
            received: self.received.load(Ordering::SeqCst),
        }
    }
}

impl Drop for Sprayer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// One round: the `round`-th packet of the forged stream to every port.
async fn send_round(socket: &UdpSocket, rtp_ports: &[SocketAddr], round: u32) {
    let mut rtp = BytesMut::new();
    let header = RtpHeader {
        marker: round == 0,
        payload_type: PayloadType::PCMA,
        sequence: round as u16,
        timestamp: round.wrapping_mul(160),
        ssrc: FORGED_SSRC,
    };
    write(&header, &[0xd5; 160], &mut rtp).expect("a forged packet encodes");
    let mut rtcp = BytesMut::new();
    let report = Report {
        ssrc: FORGED_SSRC,
        sender: None,
        blocks: &[],
        cname: "attacker",
        bye: None,
    };
    write_compound(&report, &mut rtcp).expect("a forged report encodes");
    for rtp_port in rtp_ports {
        let rtcp_port = SocketAddr::new(rtp_port.ip(), rtp_port.port().saturating_add(1));
        // A full socket buffer drops a packet, as the internet would.
        let _ = socket.send_to(&rtp, rtp_port).await;
        let _ = socket.send_to(&rtp, rtcp_port).await;
        let _ = socket.send_to(&rtcp, rtcp_port).await;
    }
}
