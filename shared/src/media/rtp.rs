//! RTP packets on the wire (RFC 3550 §5.1), read and written with
//! `rtp-types`: zero-copy, and every malformed input is an error, never a
//! panic. This module adds the crate's newtypes and writes into a
//! `BytesMut` the session reuses, so sending allocates nothing per packet.

use bytes::BytesMut;
use rtp_types::RtpPacketBuilder;

use super::error::{EncodeError, RtpError, append_written};
use super::ids::{PayloadType, Ssrc};

/// The fields of an RTP header this project uses. CSRCs, header extensions
/// and padding are accepted on input and skipped; we never send them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RtpHeader {
    /// Payload-specific: the first packet of a talkspurt for audio
    /// (RFC 3551 §4.1), the start of an event for telephone-events.
    pub marker: bool,
    /// What the payload is.
    pub payload_type: PayloadType,
    /// Sequence number, +1 per packet.
    pub sequence: u16,
    /// Sampling instant of the first sample, in the payload's clock.
    pub timestamp: u32,
    /// The sender's stream.
    pub ssrc: Ssrc,
}

/// A parsed RTP packet: the header and a borrow of the payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RtpPacket<'a> {
    /// The fixed header.
    pub header: RtpHeader,
    /// The payload, without padding.
    pub payload: &'a [u8],
}

/// Reads one RTP packet.
pub fn parse(bytes: &[u8]) -> Result<RtpPacket<'_>, RtpError> {
    let packet = rtp_types::RtpPacket::parse(bytes)?;
    // `RtpPacket::payload` borrows the parser, not `bytes`: slice `bytes`
    // at the offsets the parser checked.
    let start = packet.payload_offset();
    let payload = bytes
        .get(start..start + packet.payload_len())
        .unwrap_or_default();
    Ok(RtpPacket {
        header: RtpHeader {
            marker: packet.marker_bit(),
            payload_type: PayloadType(packet.payload_type()),
            sequence: packet.sequence_number(),
            timestamp: packet.timestamp(),
            ssrc: Ssrc(packet.ssrc()),
        },
        payload,
    })
}

/// Appends one RTP packet (12-byte header, then `payload`) to `out`.
pub fn write(header: &RtpHeader, payload: &[u8], out: &mut BytesMut) -> Result<(), EncodeError> {
    let builder = RtpPacketBuilder::<&[u8], &[u8]>::new()
        .marker_bit(header.marker)
        .payload_type(header.payload_type.0)
        .sequence_number(header.sequence)
        .timestamp(header.timestamp)
        .ssrc(header.ssrc.0)
        .payload(payload);
    let len = builder.calculate_size()?;
    append_written(out, len, |space| builder.write_into(space))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header() -> RtpHeader {
        RtpHeader {
            marker: true,
            payload_type: PayloadType::PCMA,
            sequence: 0xfffe,
            timestamp: 0xdead_beef,
            ssrc: Ssrc(0x0102_0304),
        }
    }

    #[test]
    fn writes_the_rfc_3550_layout_and_reads_it_back() {
        let mut out = BytesMut::new();
        write(&header(), &[0xd5; 4], &mut out).unwrap();
        assert_eq!(
            &out[..],
            &[
                0x80, 0x88, 0xff, 0xfe, 0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4, 0xd5, 0xd5, 0xd5, 0xd5
            ]
        );
        let packet = parse(&out).unwrap();
        assert_eq!(packet.header, header());
        assert_eq!(packet.payload, &[0xd5; 4]);
    }

    #[test]
    fn skips_csrcs_extension_and_padding() {
        // V=2 P=1 X=1 CC=1, PT 0; one CSRC; a one-word extension; 2 payload
        // bytes; 2 bytes of padding.
        let bytes = [
            0xb1, 0x00, 0, 1, 0, 0, 0, 160, 0, 0, 0, 9, // header
            0, 0, 0, 7, // CSRC
            0xbe, 0xde, 0, 1, 1, 2, 3, 4, // extension
            0x55, 0x66, // payload
            0, 2, // padding
        ];
        let packet = parse(&bytes).unwrap();
        assert_eq!(packet.payload, &[0x55, 0x66]);
        assert_eq!(packet.header.ssrc, Ssrc(9));
    }

    #[test]
    fn malformed_packets_are_errors() {
        assert_eq!(
            parse(&[0x80; 11]),
            Err(RtpError::Truncated {
                expected: 12,
                actual: 11
            })
        );
        assert_eq!(parse(&[0x40; 12]), Err(RtpError::UnsupportedVersion(1)));
        let mut padded = [0u8; 13];
        padded[0] = 0xa0;
        assert_eq!(parse(&padded), Err(RtpError::BadPadding(0)));
        padded[12] = 20;
        assert!(matches!(parse(&padded), Err(RtpError::Truncated { .. })));
        // A CSRC count beyond the bytes present.
        assert!(matches!(
            parse(&[0x8f, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
            Err(RtpError::Truncated { .. })
        ));
    }

    #[test]
    fn refuses_a_payload_type_over_127_and_writes_nothing() {
        let mut out = BytesMut::new();
        let bad = RtpHeader {
            payload_type: PayloadType(200),
            ..header()
        };
        assert!(write(&bad, &[], &mut out).is_err());
        assert!(out.is_empty());
    }
}
