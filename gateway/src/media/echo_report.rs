//! The echo test's RTCP (RFC 3550 §6), sans-IO: the echo is the phone's
//! peer in the call like any other, so it reports like our media session
//! does. It receives the phone's stream (loss, jitter, the phone's last SR)
//! and sends a stream back (the reflected packets, under its own SSRC): its
//! reports are an SR with one reception block about the phone's stream, its
//! SDES CNAME, and a BYE when the call ends. With them the phone sees its
//! round trip (its SR's time, echoed in our block's LSR and DLSR) and the
//! loss of its stream on the way in.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::BytesMut;
use shared::media::Ssrc;
use shared::media::clock::MediaClock;
use shared::media::reception::Reception;
use shared::media::rtcp::{self, Report, RtcpPacket, SenderInfo};
use shared::media::rtp::RtpPacket;

/// RFC 3550 §6.2's minimum report interval, as our media session uses;
/// the first report comes after half of it (§6.3.1, randomised).
const REPORT_INTERVAL: Duration = Duration::from_secs(5);

/// One echo call's reports.
#[derive(Debug)]
pub struct EchoReports {
    ssrc: Ssrc,
    cname: String,
    clock: MediaClock,
    /// The RTP clock rate of the call's codec.
    clock_rate: u32,
    /// Where the phone receives RTCP.
    rtcp_to: SocketAddr,
    /// What came from the phone's source (restarted when it changes).
    reception: Option<Reception>,
    /// Packets and payload octets reflected so far.
    sent: (u64, u64),
    /// The RTP timestamp of the last packet reflected, and when.
    last_sent: Option<(u32, Instant)>,
    sent_since_report: bool,
    next_report: Instant,
}

impl EchoReports {
    /// Reports of a call starting at `now` under `ssrc`, to `rtcp_to`;
    /// `unit` and `ntp_seconds` are random (the first report's spread, the
    /// NTP time of `now`: only intervals of it matter to the phone).
    pub fn new(
        now: Instant,
        ssrc: Ssrc,
        clock_rate: u32,
        rtcp_to: SocketAddr,
        unit: f64,
        ntp_seconds: u32,
    ) -> Self {
        Self {
            ssrc,
            cname: format!("echo-{:08x}", ssrc.0),
            clock: MediaClock::new(now, ntp_seconds),
            clock_rate,
            rtcp_to,
            reception: None,
            sent: (0, 0),
            last_sent: None,
            sent_since_report: false,
            next_report: now + randomise(REPORT_INTERVAL / 2, unit),
        }
    }

    /// Where the phone receives RTCP.
    pub fn rtcp_to(&self) -> SocketAddr {
        self.rtcp_to
    }

    /// The phone receives RTCP somewhere else from now on.
    pub fn move_to(&mut self, rtcp_to: SocketAddr) {
        self.rtcp_to = rtcp_to;
    }

    /// An RTP packet from the phone at `now`, reflected at once.
    pub fn on_rtp(&mut self, now: Instant, packet: &RtpPacket<'_>) {
        let header = packet.header;
        let reception = match &mut self.reception {
            Some(reception) if reception.ssrc() == header.ssrc => reception,
            other => other.insert(Reception::new(
                header.ssrc,
                self.clock_rate,
                header.sequence,
            )),
        };
        reception.on_packet(&self.clock, now, header.sequence, header.timestamp, true);
        self.sent.0 += 1;
        self.sent.1 += packet.payload.len() as u64;
        self.last_sent = Some((header.timestamp, now));
        self.sent_since_report = true;
    }

    /// An RTCP datagram from the phone: its SR's time is kept for the
    /// next report block (the phone's round trip). Malformed reports are
    /// ignored, as the phone's peer would.
    pub fn on_rtcp(&mut self, now: Instant, datagram: &[u8]) {
        let Ok(packets) = rtcp::parse_compound(datagram) else {
            return;
        };
        for packet in packets {
            if let RtcpPacket::SenderReport { ssrc, info, .. } = packet
                && let Some(reception) = &mut self.reception
                && reception.ssrc() == ssrc
            {
                reception.on_sender_report(info.ntp.middle32(), now);
            }
        }
    }

    /// When the next report is due.
    pub fn poll_timeout(&self) -> Instant {
        self.next_report
    }

    /// The report due at `now`, if one is; `unit` (random, 0 to 1) spreads
    /// the next one.
    pub fn handle_timeout(&mut self, now: Instant, unit: f64) -> Option<BytesMut> {
        if now < self.next_report {
            return None;
        }
        self.next_report = now + randomise(REPORT_INTERVAL, unit);
        self.report(now, None)
    }

    /// The last report, with BYE: the call ended.
    pub fn bye(&mut self, now: Instant) -> Option<BytesMut> {
        self.report(now, Some(""))
    }

    fn report(&mut self, now: Instant, bye: Option<&str>) -> Option<BytesMut> {
        let sender = self.sender_info(now);
        let block = self.reception.as_mut().map(|r| r.report_block(now));
        let report = Report {
            ssrc: self.ssrc,
            sender,
            blocks: block.as_slice(),
            cname: &self.cname,
            bye,
        };
        let mut out = BytesMut::new();
        rtcp::write_compound(&report, &mut out).ok()?;
        Some(out)
    }

    /// The sender information while the echo reflects: its counts, and
    /// the RTP time of `now` extrapolated from the last packet reflected.
    fn sender_info(&mut self, now: Instant) -> Option<SenderInfo> {
        let (timestamp, at) = self.last_sent?;
        if !std::mem::take(&mut self.sent_since_report) {
            return None;
        }
        let elapsed =
            now.saturating_duration_since(at).as_micros() * u128::from(self.clock_rate) / 1_000_000;
        // Truncation intended: RTP time and the counters wrap at 32 bits.
        Some(SenderInfo {
            ntp: self.clock.ntp(now),
            rtp_timestamp: timestamp.wrapping_add(elapsed as u32),
            packet_count: self.sent.0 as u32,
            octet_count: self.sent.1 as u32,
        })
    }
}

/// `interval` scaled by a factor in [0.5, 1.5) (RFC 3550 §6.3.1).
fn randomise(interval: Duration, unit: f64) -> Duration {
    interval.mul_f64(0.5 + unit.clamp(0.0, 1.0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::media::clock::NtpTime;
    use shared::media::rtcp::ReportBlock;

    const ECHO: Ssrc = Ssrc(0x4543_484f);
    const PHONE: Ssrc = Ssrc(77);

    fn rtp(seq: u16) -> Vec<u8> {
        let mut packet = vec![0x80, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 77];
        packet[2..4].copy_from_slice(&seq.to_be_bytes());
        packet[4..8].copy_from_slice(&(u32::from(seq) * 160).to_be_bytes());
        packet.extend_from_slice(&[0xd5; 160]);
        packet
    }

    fn reports(start: Instant) -> EchoReports {
        let to = "10.0.0.20:5005".parse().unwrap();
        EchoReports::new(start, ECHO, 8000, to, 0.5, 0xE000_0000)
    }

    fn phone_sr(ntp: NtpTime) -> BytesMut {
        let mut out = BytesMut::new();
        let info = SenderInfo {
            ntp,
            rtp_timestamp: 0,
            packet_count: 1,
            octet_count: 160,
        };
        let report = Report {
            ssrc: PHONE,
            sender: Some(info),
            blocks: &[],
            cname: "phone",
            bye: None,
        };
        rtcp::write_compound(&report, &mut out).unwrap();
        out
    }

    fn parse(bytes: &[u8]) -> (Option<SenderInfo>, Vec<ReportBlock>, bool) {
        let mut sender = None;
        let mut blocks = Vec::new();
        let mut bye = false;
        for packet in rtcp::parse_compound(bytes).unwrap() {
            match packet {
                RtcpPacket::SenderReport {
                    ssrc,
                    info,
                    blocks: b,
                } => {
                    assert_eq!(ssrc, ECHO);
                    sender = Some(info);
                    blocks = b;
                }
                RtcpPacket::ReceiverReport { ssrc, blocks: b } => {
                    assert_eq!(ssrc, ECHO);
                    blocks = b;
                }
                RtcpPacket::Bye { ssrcs, .. } => bye = ssrcs == [ECHO],
                _ => {}
            }
        }
        (sender, blocks, bye)
    }

    #[test]
    fn reports_the_phones_loss_and_echoes_its_sender_report_time() {
        let start = Instant::now();
        let mut echo = reports(start);
        assert_eq!(echo.poll_timeout(), start + REPORT_INTERVAL / 2);
        let mut at = start;
        // 50 packets, every tenth lost on the way in.
        for seq in (0..50u16).filter(|seq| seq % 10 != 5) {
            at = start + Duration::from_millis(20) * u32::from(seq);
            let packet = rtp(seq);
            echo.on_rtp(at, &shared::media::rtp::parse(&packet).unwrap());
        }
        let ntp = NtpTime(0xE100_0002_8000_0000);
        echo.on_rtcp(at, &phone_sr(ntp));
        assert!(echo.handle_timeout(at, 0.5).is_none(), "not due yet");
        let due = echo.poll_timeout() + Duration::from_millis(250);
        let report = echo.handle_timeout(due, 0.0).expect("due");
        assert_eq!(echo.poll_timeout(), due + REPORT_INTERVAL / 2);
        let (sender, blocks, bye) = parse(&report);
        let sender = sender.expect("an SR: the echo sends");
        assert_eq!((sender.packet_count, sender.octet_count), (45, 45 * 160));
        assert_eq!(sender.rtp_timestamp, 49 * 160 + 8 * 1770, "extrapolated");
        let [block] = blocks[..] else {
            panic!("one block: {blocks:?}")
        };
        assert_eq!(block.ssrc, PHONE);
        assert_eq!(block.cumulative_lost, 5);
        assert_eq!(block.fraction_lost, (5 * 256 / 50) as u8);
        assert_eq!(block.extended_highest_seq, 49);
        assert_eq!(block.last_sr, ntp.middle32());
        let delay = due - at;
        let dlsr = shared::media::clock::short_ntp_to_duration(block.delay_since_last_sr);
        assert!(delay.abs_diff(dlsr) < Duration::from_millis(1), "{dlsr:?}");
        assert!(!bye);
    }

    #[test]
    fn a_silent_echo_sends_a_receiver_report_and_a_bye_at_the_end() {
        let start = Instant::now();
        let mut echo = reports(start);
        let report = echo.handle_timeout(start + REPORT_INTERVAL, 0.5).unwrap();
        assert_eq!(parse(&report), (None, Vec::new(), false));
        let (_, _, bye) = parse(&echo.bye(start + REPORT_INTERVAL).unwrap());
        assert!(bye);
    }

    #[test]
    fn hostile_rtcp_is_ignored() {
        let start = Instant::now();
        let mut echo = reports(start);
        echo.on_rtp(start, &shared::media::rtp::parse(&rtp(1)).unwrap());
        for junk in [&[][..], &[0x80, 200, 0, 40][..], &[0xff; 64][..]] {
            echo.on_rtcp(start, junk);
        }
        let report = echo.handle_timeout(start + REPORT_INTERVAL, 0.5).unwrap();
        let (_, blocks, _) = parse(&report);
        assert_eq!(blocks[0].last_sr, 0, "no SR from the phone yet");
    }
}
