//! The echo test's media end: every RTP packet from a phone in an echo-test
//! call goes straight back to where it came from, so the caller hears
//! themself after one round trip.
//!
//! Only phones in an echo call are answered (by IP address, since a phone
//! behind NAT sends from a port it does not know): the socket must not
//! become a reflector that anyone on the internet can aim at a third party.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::net::UdpSocket;
use tracing::debug;

use crate::calls::CallId;

/// The SSRC the echo sends with: the phone must not take its own stream
/// coming back for a loop or an SSRC collision (RFC 3550, 8.2).
const ECHO_SSRC: [u8; 4] = *b"ECHO";

/// Minimum RTP header length.
const RTP_HEADER: usize = 12;

/// Which phones may use the echo now, by call.
#[derive(Debug, Clone, Default)]
pub struct EchoCalls(Arc<Mutex<HashMap<CallId, IpAddr>>>);

impl EchoCalls {
    pub fn start(&self, call: CallId, phone: IpAddr) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(call, phone);
    }

    pub fn stop(&self, call: CallId) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&call);
    }

    fn admits(&self, source: IpAddr) -> bool {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .values()
            .any(|ip| *ip == source)
    }
}

/// Reflects RTP on `socket` until the task is aborted.
pub async fn run(socket: Arc<UdpSocket>, calls: EchoCalls) {
    let mut buffer = vec![0u8; 2048];
    loop {
        let Ok((len, source)) = socket.recv_from(&mut buffer).await else {
            continue;
        };
        let Some(packet) = buffer.get_mut(..len) else {
            continue;
        };
        if !is_rtp(packet) || !calls.admits(source.ip()) {
            debug!(%source, len, "echo test: packet dropped");
            continue;
        }
        if let Some(ssrc) = packet.get_mut(8..RTP_HEADER) {
            ssrc.copy_from_slice(&ECHO_SSRC);
        }
        let _ = socket.send_to(packet, source).await;
    }
}

/// RTP version 2 with at least a fixed header.
fn is_rtp(packet: &[u8]) -> bool {
    packet.len() >= RTP_HEADER && packet.first().is_some_and(|first| first >> 6 == 2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn reflects_only_for_phones_in_an_echo_call() {
        let echo = Arc::new(UdpSocket::bind("127.0.0.1:0").await.unwrap());
        let echo_addr = echo.local_addr().unwrap();
        let calls = EchoCalls::default();
        let task = tokio::spawn(run(echo, calls.clone()));
        let phone = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let mut packet = vec![0x80, 8, 0, 1, 0, 0, 0, 160, 1, 2, 3, 4];
        packet.extend_from_slice(&[0x55; 160]);

        calls.start(CallId(1), "127.0.0.1".parse().unwrap());
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
        assert!(!calls.admits("127.0.0.1".parse().unwrap()));
        task.abort();
    }
}
