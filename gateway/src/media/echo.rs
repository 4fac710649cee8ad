//! The echo test's media end: every RTP packet from a phone in an echo-test
//! call goes straight back to where it came from, so the caller hears
//! themself after one round trip. Its RTCP reports like any peer's
//! (`echo_report`): the phone sees its round trip and its loss.
//!
//! Only phones in an echo call are answered (by address: the one call
//! control announced, else any port of its IP, since a phone behind NAT
//! sends from a port it does not know): the socket must not become a
//! reflector that anyone on the internet can aim at a third party.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use bytes::BytesMut;
use shared::media::Ssrc;
use tokio::net::UdpSocket;
use tokio::sync::Notify;
use tracing::debug;

use super::announcement;
use super::echo_report::EchoReports;
use crate::calls::CallId;
use crate::calls::media::RemoteMedia;

/// The SSRC the echo sends with: the phone must not take its own stream
/// coming back for a loop or an SSRC collision (RFC 3550, 8.2).
const ECHO_SSRC: [u8; 4] = *b"ECHO";

/// Minimum RTP header length.
const RTP_HEADER: usize = 12;

/// One echo call: where the phone is, and its reports.
#[derive(Debug)]
struct EchoCall {
    rtp: SocketAddr,
    reports: EchoReports,
}

/// The echo calls now, and what is waiting to be sent.
#[derive(Debug, Default)]
struct Calls {
    calls: HashMap<CallId, EchoCall>,
    /// Last reports (with BYE) of calls that ended, to send.
    goodbyes: Vec<(SocketAddr, BytesMut)>,
}

impl Calls {
    /// The call `source` belongs to: the one whose phone is at that
    /// address (RTP or RTCP), else one at that IP.
    fn of(&mut self, source: SocketAddr, rtcp: bool) -> Option<&mut EchoCall> {
        let at = |call: &EchoCall| {
            if rtcp {
                call.reports.rtcp_to()
            } else {
                call.rtp
            }
        };
        let id = self
            .calls
            .iter()
            .find(|(_, call)| at(call) == source)
            .or_else(|| {
                self.calls
                    .iter()
                    .find(|(_, call)| call.rtp.ip() == source.ip())
            })
            .map(|(id, _)| *id)?;
        self.calls.get_mut(&id)
    }
}

/// Which phones may use the echo now, by call.
#[derive(Debug, Clone, Default)]
pub struct EchoCalls {
    calls: Arc<Mutex<Calls>>,
    /// Wakes the echo task: a call started (its report timer) or ended
    /// (its BYE).
    changed: Arc<Notify>,
}

impl EchoCalls {
    /// `call` echoes to the phone at `to` (again, when it moved).
    pub fn start(&self, call: CallId, to: RemoteMedia) {
        let rtcp_to = SocketAddr::new(to.rtp.ip(), to.rtcp_port);
        let mut calls = self.lock();
        match calls.calls.get_mut(&call) {
            Some(known) => {
                known.rtp = to.rtp;
                known.reports.move_to(rtcp_to);
            }
            None => {
                // The echo offers G.722, PCMA and PCMU: 8 kHz RTP clocks.
                let clock_rate = announcement::codec(to.payload_type)
                    .map_or(8000, |codec| codec.rtp_clock_rate());
                let reports = EchoReports::new(
                    Instant::now(),
                    Ssrc(u32::from_be_bytes(ECHO_SSRC)),
                    clock_rate,
                    rtcp_to,
                    rand::random(),
                    0xE000_0000 | (rand::random::<u32>() & 0x0fff_ffff),
                );
                calls.calls.insert(
                    call,
                    EchoCall {
                        rtp: to.rtp,
                        reports,
                    },
                );
            }
        }
        drop(calls);
        self.changed.notify_one();
    }

    /// `call` ended: its last report says BYE.
    pub fn stop(&self, call: CallId) {
        let mut calls = self.lock();
        if let Some(mut ended) = calls.calls.remove(&call)
            && let Some(bye) = ended.reports.bye(Instant::now())
        {
            calls.goodbyes.push((ended.reports.rtcp_to(), bye));
        }
        drop(calls);
        self.changed.notify_one();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Calls> {
        self.calls.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Counts an RTP packet from `source` into its call: false when
    /// `source` is in no echo call.
    fn on_rtp(&self, now: Instant, source: SocketAddr, packet: &[u8]) -> bool {
        let Ok(parsed) = shared::media::rtp::parse(packet) else {
            return false;
        };
        let mut calls = self.lock();
        let Some(call) = calls.of(source, false) else {
            return false;
        };
        call.reports.on_rtp(now, &parsed);
        true
    }

    fn on_rtcp(&self, now: Instant, source: SocketAddr, datagram: &[u8]) {
        if let Some(call) = self.lock().of(source, true) {
            call.reports.on_rtcp(now, datagram);
        }
    }

    /// The reports due at `now` (and the goodbyes) into `out`; when the
    /// next one is due.
    fn due(&self, now: Instant, out: &mut Vec<(SocketAddr, BytesMut)>) -> Option<Instant> {
        let mut calls = self.lock();
        out.append(&mut calls.goodbyes);
        let mut next: Option<Instant> = None;
        for call in calls.calls.values_mut() {
            if now >= call.reports.poll_timeout()
                && let Some(report) = call.reports.handle_timeout(now, rand::random())
            {
                out.push((call.reports.rtcp_to(), report));
            }
            let at = call.reports.poll_timeout();
            next = Some(next.map_or(at, |next| next.min(at)));
        }
        next
    }
}

/// Reflects RTP on `socket`, and reports on `rtcp`, until the task is
/// aborted.
pub async fn run(socket: Arc<UdpSocket>, rtcp: Arc<UdpSocket>, calls: EchoCalls) {
    let mut buffer = vec![0u8; 2048];
    let mut reports = vec![0u8; 2048];
    let mut outgoing = Vec::new();
    loop {
        let next = calls.due(Instant::now(), &mut outgoing);
        for (to, report) in outgoing.drain(..) {
            let _ = rtcp.send_to(&report, to).await;
        }
        tokio::select! {
            received = socket.recv_from(&mut buffer) => {
                let Ok((len, source)) = received else {
                    continue;
                };
                let Some(packet) = buffer.get_mut(..len) else {
                    continue;
                };
                if !is_rtp(packet) || !calls.on_rtp(Instant::now(), source, packet) {
                    debug!(%source, len, "echo test: packet dropped");
                    continue;
                }
                if let Some(ssrc) = packet.get_mut(8..RTP_HEADER) {
                    ssrc.copy_from_slice(&ECHO_SSRC);
                }
                let _ = socket.send_to(packet, source).await;
            }
            received = rtcp.recv_from(&mut reports) => {
                if let Ok((len, source)) = received
                    && let Some(datagram) = reports.get(..len)
                {
                    calls.on_rtcp(Instant::now(), source, datagram);
                }
            }
            () = report_due(next) => {}
            () = calls.changed.notified() => {}
        }
    }
}

/// Until `deadline`, or forever without one.
async fn report_due(deadline: Option<Instant>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(tokio::time::Instant::from_std(at)).await,
        None => std::future::pending().await,
    }
}

/// RTP version 2 with at least a fixed header.
fn is_rtp(packet: &[u8]) -> bool {
    packet.len() >= RTP_HEADER && packet.first().is_some_and(|first| first >> 6 == 2)
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::hfa::PayloadType;

    #[tokio::test]
    async fn reflects_only_for_phones_in_an_echo_call() {
        let echo = Arc::new(UdpSocket::bind("127.0.0.1:0").await.unwrap());
        let echo_rtcp = Arc::new(UdpSocket::bind("127.0.0.1:0").await.unwrap());
        let echo_addr = echo.local_addr().unwrap();
        let calls = EchoCalls::default();
        let task = tokio::spawn(run(echo, echo_rtcp, calls.clone()));
        let phone = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let mut packet = vec![0x80, 8, 0, 1, 0, 0, 0, 160, 1, 2, 3, 4];
        packet.extend_from_slice(&[0x55; 160]);

        // Announced at another port of its address (behind a NAT).
        let announced = RemoteMedia {
            rtp: "127.0.0.1:4000".parse().unwrap(),
            rtcp_port: 4001,
            payload_type: PayloadType::PCMA,
            packet_ms: 20,
        };
        calls.start(CallId(1), announced);
        phone.send_to(&packet, echo_addr).await.unwrap();
        let mut back = [0u8; 2048];
        let (len, from) = phone.recv_from(&mut back).await.unwrap();
        assert_eq!(from, echo_addr);
        assert_eq!(&back[..8], &packet[..8], "header kept");
        assert_eq!(&back[8..12], b"ECHO", "its own SSRC");
        assert_eq!(&back[12..len], &packet[12..], "payload unchanged");

        // A stranger's packet is dropped. The echo handles datagrams in
        // order and loopback delivers on send, so once the phone has its
        // second reflection, any reflection of the stranger's earlier packet
        // would already be waiting on the stranger's socket.
        let stranger = UdpSocket::bind("127.0.0.2:0").await.unwrap();
        stranger.send_to(&packet, echo_addr).await.unwrap();
        packet[3] = 2;
        phone.send_to(&packet, echo_addr).await.unwrap();
        phone.recv_from(&mut back).await.unwrap();
        assert_eq!(back[3], 2);
        assert!(
            stranger.try_recv_from(&mut back).is_err(),
            "nothing reflected to a stranger"
        );
        // After the call, the phone is a stranger too.
        calls.stop(CallId(1));
        let now = Instant::now();
        assert!(!calls.on_rtp(now, phone.local_addr().unwrap(), &packet));
        task.abort();
    }

    #[tokio::test]
    async fn an_echo_call_reports_and_says_bye() {
        let echo = Arc::new(UdpSocket::bind("127.0.0.1:0").await.unwrap());
        let echo_rtcp = Arc::new(UdpSocket::bind("127.0.0.1:0").await.unwrap());
        let (echo_addr, echo_rtcp_addr) =
            (echo.local_addr().unwrap(), echo_rtcp.local_addr().unwrap());
        let calls = EchoCalls::default();
        let task = tokio::spawn(run(echo, echo_rtcp, calls.clone()));
        let phone = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let phone_rtcp = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        calls.start(
            CallId(7),
            RemoteMedia {
                rtp: phone.local_addr().unwrap(),
                rtcp_port: phone_rtcp.local_addr().unwrap().port(),
                payload_type: PayloadType::PCMA,
                packet_ms: 20,
            },
        );
        let mut packet = vec![0x80, 8, 0, 1, 0, 0, 0, 160, 0, 0, 0, 9];
        packet.extend_from_slice(&[0x55; 160]);
        phone.send_to(&packet, echo_addr).await.unwrap();
        let mut buffer = [0u8; 2048];
        phone.recv_from(&mut buffer).await.unwrap();
        // The first report within the first interval's spread (≤ 3.75 s).
        let (len, from) = phone_rtcp.recv_from(&mut buffer).await.unwrap();
        assert_eq!(from, echo_rtcp_addr);
        let packets = shared::media::rtcp::parse_compound(&buffer[..len]).unwrap();
        let Some(shared::media::rtcp::RtcpPacket::SenderReport { ssrc, info, blocks }) =
            packets.first()
        else {
            panic!("an SR first: {packets:?}")
        };
        assert_eq!(ssrc.0.to_be_bytes(), ECHO_SSRC);
        assert_eq!((info.packet_count, info.octet_count), (1, 160));
        assert_eq!(blocks.len(), 1);
        assert_eq!((blocks[0].ssrc.0, blocks[0].cumulative_lost), (9, 0));
        calls.stop(CallId(7));
        let (len, _) = phone_rtcp.recv_from(&mut buffer).await.unwrap();
        let packets = shared::media::rtcp::parse_compound(&buffer[..len]).unwrap();
        assert!(
            packets
                .iter()
                .any(|p| matches!(p, shared::media::rtcp::RtcpPacket::Bye { .. })),
            "{packets:?}"
        );
        task.abort();
    }
}
