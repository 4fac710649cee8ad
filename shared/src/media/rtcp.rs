//! RTCP on the wire (RFC 3550 §6), read and written with `rtcp-types`:
//! sender and receiver reports, SDES CNAME and BYE, always in compound
//! packets (§6.1: a report first, then SDES with the CNAME, BYE last).
//!
//! Reading is liberal: any sequence of valid RTCP packets is accepted (also
//! the reduced-size packets of RFC 5506), unknown types are skipped. Every
//! malformed input is an error, never a panic. RTCP goes out once per
//! report interval, so the parsed form may allocate.

use bytes::BytesMut;
use rtcp_types::{
    Bye, Compound, Packet, ReceiverReport, ReportBlockBuilder, RtcpPacketParserExt,
    RtcpPacketWriter, RtcpPacketWriterExt, Sdes, SdesChunk, SdesItem, SenderReport,
};

use super::clock::NtpTime;
use super::error::{EncodeError, RtcpError, append_written};
use super::ids::Ssrc;

/// The sender information of an SR: what the sender sent, and when.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SenderInfo {
    /// The sender's NTP time when the report was sent.
    pub ntp: NtpTime,
    /// The same instant in the RTP clock of the stream.
    pub rtp_timestamp: u32,
    /// RTP packets sent since the stream began (mod 2^32).
    pub packet_count: u32,
    /// Payload octets sent since the stream began (mod 2^32).
    pub octet_count: u32,
}

/// One reception report block: what the reporter received from `ssrc`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReportBlock {
    /// The source the block is about.
    pub ssrc: Ssrc,
    /// Packets lost since the previous report, as a fraction of 256.
    pub fraction_lost: u8,
    /// Packets lost since reception began; negative with duplicates
    /// (24-bit signed on the wire).
    pub cumulative_lost: i32,
    /// Cycles of the sequence number (high 16 bits) and the highest
    /// sequence number received (low 16 bits).
    pub extended_highest_seq: u32,
    /// Interarrival jitter estimate, in timestamp units (§A.8).
    pub jitter: u32,
    /// Middle 32 bits of the NTP time of the last SR received from
    /// `ssrc`; 0 when none was.
    pub last_sr: u32,
    /// Time between receiving that SR and sending this block, 16.16
    /// fixed point seconds.
    pub delay_since_last_sr: u32,
}

/// The largest and smallest cumulative loss the 24-bit field holds.
const LOST_MAX: i32 = (1 << 23) - 1;
const LOST_MIN: i32 = -(1 << 23);

impl ReportBlock {
    fn from_wire(block: &rtcp_types::ReportBlock<'_>) -> Self {
        // Sign-extend the 24-bit field.
        let raw = block.cumulative_lost() & 0x00ff_ffff;
        let cumulative_lost = ((raw << 8) as i32) >> 8;
        Self {
            ssrc: Ssrc(block.ssrc()),
            fraction_lost: block.fraction_lost(),
            cumulative_lost,
            extended_highest_seq: block.extended_sequence_number(),
            jitter: block.interarrival_jitter(),
            last_sr: block.last_sender_report_timestamp(),
            delay_since_last_sr: block.delay_since_last_sender_report_timestamp(),
        }
    }

    fn to_builder(self) -> ReportBlockBuilder {
        let lost = self.cumulative_lost.clamp(LOST_MIN, LOST_MAX);
        // Two's complement in 24 bits.
        let lost = (lost as u32) & 0x00ff_ffff;
        rtcp_types::ReportBlock::builder(self.ssrc.0)
            .fraction_lost(self.fraction_lost)
            .cumulative_lost(lost)
            .extended_sequence_number(self.extended_highest_seq)
            .interarrival_jitter(self.jitter)
            .last_sender_report_timestamp(self.last_sr)
            .delay_since_last_sender_report_timestamp(self.delay_since_last_sr)
    }
}

/// One packet of a compound RTCP packet, in the parts this project uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RtcpPacket {
    /// SR (200): a sender's report, with its reception reports.
    SenderReport {
        /// The sender.
        ssrc: Ssrc,
        /// What it sent.
        info: SenderInfo,
        /// What it received.
        blocks: Vec<ReportBlock>,
    },
    /// RR (201): a receiver's reports.
    ReceiverReport {
        /// The reporter.
        ssrc: Ssrc,
        /// What it received.
        blocks: Vec<ReportBlock>,
    },
    /// BYE (203): the sources are leaving.
    Bye {
        /// The sources leaving.
        ssrcs: Vec<Ssrc>,
        /// The reason text, when one was given (lossy UTF-8).
        reason: Option<String>,
    },
    /// SDES (202): the CNAME of each source that has one.
    Sdes {
        /// (source, CNAME) pairs, lossy UTF-8.
        cnames: Vec<(Ssrc, String)>,
    },
    /// Any other valid packet (APP, feedback, XR...), skipped.
    Other {
        /// Its packet type.
        packet_type: u8,
    },
}

/// Reads a compound RTCP packet. The whole datagram is rejected when any
/// packet in it is malformed, as RFC 3550 §6.1 lets a receiver do.
pub fn parse_compound(bytes: &[u8]) -> Result<Vec<RtcpPacket>, RtcpError> {
    let mut packets = Vec::new();
    for packet in Compound::parse(bytes)? {
        packets.push(match packet? {
            Packet::Sr(sr) => sender_report(&sr),
            Packet::Rr(rr) => RtcpPacket::ReceiverReport {
                ssrc: Ssrc(rr.ssrc()),
                blocks: rr
                    .report_blocks()
                    .map(|b| ReportBlock::from_wire(&b))
                    .collect(),
            },
            Packet::Bye(bye) => RtcpPacket::Bye {
                ssrcs: bye.ssrcs().map(Ssrc).collect(),
                reason: bye
                    .reason()
                    .map(|r| String::from_utf8_lossy(r).into_owned()),
            },
            Packet::Sdes(sdes) => sdes_cnames(&sdes),
            other => RtcpPacket::Other {
                packet_type: other.type_(),
            },
        });
    }
    Ok(packets)
}

fn sender_report(sr: &SenderReport<'_>) -> RtcpPacket {
    RtcpPacket::SenderReport {
        ssrc: Ssrc(sr.ssrc()),
        info: SenderInfo {
            ntp: NtpTime(sr.ntp_timestamp()),
            rtp_timestamp: sr.rtp_timestamp(),
            packet_count: sr.packet_count(),
            octet_count: sr.octet_count(),
        },
        blocks: sr
            .report_blocks()
            .map(|b| ReportBlock::from_wire(&b))
            .collect(),
    }
}

fn sdes_cnames(sdes: &Sdes<'_>) -> RtcpPacket {
    let cnames = sdes
        .chunks()
        .flat_map(|chunk: &SdesChunk<'_>| {
            chunk
                .items()
                .filter(|item| item.type_() == SdesItem::CNAME)
                .map(|item| {
                    let name = String::from_utf8_lossy(item.value()).into_owned();
                    (Ssrc(chunk.ssrc()), name)
                })
        })
        .collect();
    RtcpPacket::Sdes { cnames }
}

/// What one outgoing compound packet says.
#[derive(Debug, Clone, Copy)]
pub struct Report<'a> {
    /// Our source.
    pub ssrc: Ssrc,
    /// Present when we sent RTP since the previous report: makes it an SR.
    pub sender: Option<SenderInfo>,
    /// What we received (at most 31 blocks).
    pub blocks: &'a [ReportBlock],
    /// Our canonical name (at most 255 bytes).
    pub cname: &'a str,
    /// Present to end the compound with a BYE; the reason text, empty for
    /// none.
    pub bye: Option<&'a str>,
}

/// Appends one compound packet to `out`: SR or RR, SDES CNAME, then BYE.
pub fn write_compound(report: &Report<'_>, out: &mut BytesMut) -> Result<(), EncodeError> {
    let blocks = report.blocks.iter().map(|b| b.to_builder());
    let mut compound = Compound::builder();
    compound = match report.sender {
        Some(info) => {
            let sr = blocks.fold(
                SenderReport::builder(report.ssrc.0)
                    .ntp_timestamp(info.ntp.0)
                    .rtp_timestamp(info.rtp_timestamp)
                    .packet_count(info.packet_count)
                    .octet_count(info.octet_count),
                |sr, block| sr.add_report_block(block),
            );
            compound.add_packet(sr)
        }
        None => {
            let rr = blocks.fold(ReceiverReport::builder(report.ssrc.0), |rr, block| {
                rr.add_report_block(block)
            });
            compound.add_packet(rr)
        }
    };
    compound = compound.add_packet(
        Sdes::builder().add_chunk(
            SdesChunk::builder(report.ssrc.0)
                .add_item(SdesItem::builder(SdesItem::CNAME, report.cname)),
        ),
    );
    if let Some(reason) = report.bye {
        let bye = Bye::builder().add_source(report.ssrc.0);
        compound = if reason.is_empty() {
            compound.add_packet(bye)
        } else {
            compound.add_packet(bye.reason(reason))
        };
    }
    let len = compound.calculate_size()?;
    append_written(out, len, |space| compound.write_into(space))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(lost: i32) -> ReportBlock {
        ReportBlock {
            ssrc: Ssrc(0xaabb_ccdd),
            fraction_lost: 25,
            cumulative_lost: lost,
            extended_highest_seq: 0x0001_0005,
            jitter: 80,
            last_sr: 0x1234_5678,
            delay_since_last_sr: 0x0001_8000,
        }
    }

    fn write(report: &Report<'_>) -> BytesMut {
        let mut out = BytesMut::new();
        write_compound(report, &mut out).unwrap();
        out
    }

    #[test]
    fn sender_report_sdes_and_bye_round_trip_in_one_compound() {
        let info = SenderInfo {
            ntp: NtpTime(0xE000_0001_8000_0000),
            rtp_timestamp: 1600,
            packet_count: 10,
            octet_count: 1600,
        };
        let blocks = [block(-3), block(70_000)];
        let bytes = write(&Report {
            ssrc: Ssrc(7),
            sender: Some(info),
            blocks: &blocks,
            cname: "a1b2c3",
            bye: Some("hung up"),
        });
        assert_eq!(bytes[1], 200, "an SR comes first");
        let packets = parse_compound(&bytes).unwrap();
        assert_eq!(
            packets,
            vec![
                RtcpPacket::SenderReport {
                    ssrc: Ssrc(7),
                    info,
                    blocks: blocks.to_vec(),
                },
                RtcpPacket::Sdes {
                    cnames: vec![(Ssrc(7), "a1b2c3".to_owned())]
                },
                RtcpPacket::Bye {
                    ssrcs: vec![Ssrc(7)],
                    reason: Some("hung up".to_owned()),
                },
            ]
        );
    }

    #[test]
    fn receiver_report_without_blocks_and_bye_without_reason() {
        let bytes = write(&Report {
            ssrc: Ssrc(9),
            sender: None,
            blocks: &[],
            cname: "x",
            bye: Some(""),
        });
        let packets = parse_compound(&bytes).unwrap();
        assert_eq!(
            packets.first(),
            Some(&RtcpPacket::ReceiverReport {
                ssrc: Ssrc(9),
                blocks: vec![]
            })
        );
        assert_eq!(
            packets.last(),
            Some(&RtcpPacket::Bye {
                ssrcs: vec![Ssrc(9)],
                reason: None
            })
        );
    }

    #[test]
    fn cumulative_loss_saturates_to_24_bits() {
        let bytes = write(&Report {
            ssrc: Ssrc(1),
            sender: None,
            blocks: &[block(i32::MAX), block(i32::MIN)],
            cname: "x",
            bye: None,
        });
        let Some(RtcpPacket::ReceiverReport { blocks, .. }) =
            parse_compound(&bytes).unwrap().first().cloned()
        else {
            panic!("no RR");
        };
        assert_eq!(blocks[0].cumulative_lost, LOST_MAX);
        assert_eq!(blocks[1].cumulative_lost, LOST_MIN);
    }

    #[test]
    fn malformed_compounds_are_errors() {
        let good = write(&Report {
            ssrc: Ssrc(1),
            sender: None,
            blocks: &[block(1)],
            cname: "x",
            bye: None,
        });
        assert!(parse_compound(&[]).is_err());
        assert!(parse_compound(&good[..good.len() - 1]).is_err());
        let mut version = good.to_vec();
        version[0] &= 0x3f;
        assert!(parse_compound(&version).is_err());
        let mut count = good.to_vec();
        count[0] |= 0x1f; // 31 report blocks announced, one present
        assert!(parse_compound(&count).is_err());
        // An unknown packet type (APP-like 204 with 4 bytes of name) is skipped.
        let app = [0x80, 204, 0, 2, 0, 0, 0, 1, b'n', b'a', b'm', b'e'];
        assert_eq!(
            parse_compound(&app).unwrap(),
            vec![RtcpPacket::Other { packet_type: 204 }]
        );
    }
}
