//! The RTCP side of a [`MediaSession`]: reports out on a randomised 5 s
//! interval (RFC 3550 §6.2, §6.3.1), SR while we send and RR otherwise,
//! each with its SDES CNAME; reports in, for the loss and jitter the peer
//! sees and the round-trip time; and BYE, both ways.

use std::time::Instant;

use super::super::clock::short_ntp_to_duration;
use super::super::coder::INITIAL_EXPECTED_LOSS;
use super::super::ids::Ssrc;
use super::super::rtcp::{self, Report, ReportBlock, RtcpPacket};
use super::{Channel, MediaEvent, MediaSession, REPORT_INTERVAL, Transmit};

impl MediaSession {
    /// Takes an RTCP datagram from the network: reports (loss and jitter
    /// the peer sees, round-trip time) and BYE.
    pub fn handle_rtcp(&mut self, now: Instant, packet: &[u8]) {
        if self.closed {
            return;
        }
        let Ok(packets) = rtcp::parse_compound(packet) else {
            self.rtcp_errors += 1;
            return;
        };
        let ours = Ssrc(self.config.ssrc);
        let remote = self.receiver.remote_ssrc();
        for packet in packets {
            match packet {
                RtcpPacket::SenderReport { ssrc, info, blocks } => {
                    if let Some(reception) = self.receiver.reception()
                        && reception.ssrc() == ssrc
                    {
                        reception.on_sender_report(info.ntp.middle32(), now);
                    }
                    self.report_blocks(now, ours, &blocks);
                }
                RtcpPacket::ReceiverReport { blocks, .. } => self.report_blocks(now, ours, &blocks),
                RtcpPacket::Bye { ssrcs, reason } => {
                    let leaving = ssrcs
                        .iter()
                        .copied()
                        .find(|&s| s != ours && (remote.is_none() || remote == Some(s)));
                    if let Some(ssrc) = leaving {
                        self.events.push_back(MediaEvent::Bye { ssrc, reason });
                    }
                }
                RtcpPacket::Sdes { .. } | RtcpPacket::Other { .. } => {}
            }
        }
    }

    /// The peer's report blocks about our stream: its loss and jitter, and
    /// the round-trip time (RFC 3550 §6.4.1: now − LSR − DLSR).
    fn report_blocks(&mut self, now: Instant, ours: Ssrc, blocks: &[ReportBlock]) {
        for block in blocks.iter().filter(|b| b.ssrc == ours) {
            self.remote_block = Some(*block);
            if block.last_sr != 0 {
                let rtt = self
                    .clock
                    .ntp(now)
                    .middle32()
                    .wrapping_sub(block.last_sr)
                    .wrapping_sub(block.delay_since_last_sr);
                // A "negative" result is a bogus echo, not a round trip.
                if rtt < 0x8000_0000 {
                    self.rtt = Some(short_ntp_to_duration(rtt));
                }
            }
            let percent = u8::try_from(u32::from(block.fraction_lost) * 100 / 256).unwrap_or(100);
            if self
                .sender
                .set_expected_loss(percent.max(INITIAL_EXPECTED_LOSS))
                .is_err()
            {
                self.usage_errors += 1;
            }
        }
    }

    /// When [`handle_timeout`](Self::handle_timeout) is due: the next RTCP
    /// report. `None` once closed.
    pub fn poll_timeout(&self) -> Option<Instant> {
        (!self.closed).then_some(self.next_report)
    }

    /// Sends the RTCP report when it is due.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.closed || now < self.next_report {
            return;
        }
        self.send_report(now, None);
        self.next_report = now + self.rng.randomise(REPORT_INTERVAL);
    }

    /// Ends the session: queues a last report with RTCP BYE. Later calls
    /// do nothing.
    pub fn close(&mut self, now: Instant) {
        if !self.closed {
            self.send_report(now, Some(""));
            self.closed = true;
        }
    }

    fn send_report(&mut self, now: Instant, bye: Option<&str>) {
        let ntp = self.clock.ntp(now);
        let sender = self.sender.report(now, ntp);
        let block = self.receiver.reception().map(|r| r.report_block(now));
        self.reserve();
        let report = Report {
            ssrc: Ssrc(self.config.ssrc),
            sender,
            blocks: block.as_slice(),
            cname: &self.cname,
            bye,
        };
        match rtcp::write_compound(&report, &mut self.out) {
            Ok(()) => self.transmits.push_back(Transmit {
                channel: Channel::Rtcp,
                bytes: self.out.split().freeze(),
            }),
            Err(_) => self.usage_errors += 1,
        }
    }
}
