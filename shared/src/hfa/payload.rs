//! Set Payload (0x31), system → phone: start, change or stop the media path;
//! and the RTP payload types both media messages name.
//!
//! Offsets from the start of the body (Known unless marked Ours):
//!
//! ```text
//! offset  size  field
//!  0      2     zero                                         (Ours)
//!  2      1     flags: bits 0x0C direction, other bits zero
//!  3      1     RTP payload type                             (Ours)
//!  4      1     packet size, ms                              (Ours)
//!  5      4     media id, u32 BE                             (Ours)
//!  9      2     RTP port the phone sends to, BE
//! 11      2     RTCP port the phone sends to, BE             (Ours)
//! 13      6     zero                                         (Ours)
//! 19      n     address the phone sends RTP to, ASCII, NUL-terminated
//! ```
//!
//! Ours: the RTCP port at 11 mirrors the Codec Capabilities entry, where
//! RTCP follows RTP at the same offsets 9 and 11. To stop media the system
//! sends direction none with address `0.0.0.0` and port 0.

use std::net::IpAddr;

use bytes::{Buf, BufMut};

use super::coding::{Codec, get_u8, get_u16, get_u32, need, rest, skip};
use super::error::{DecodeError, EncodeError};
use super::ids::MediaId;
use super::text::{address_from_wire, address_to_wire};

pub use crate::media::PayloadType;

/// Which way media flows, seen from the phone (flag bits 0x0C).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MediaDirection {
    /// 0: no media (stop).
    None,
    /// 1: the phone only receives.
    Receive,
    /// 2: the phone only sends.
    Send,
    /// 3: both ways.
    SendReceive,
}

const DIRECTION_SHIFT: u8 = 2;
const DIRECTION_MASK: u8 = 0x0C;

impl MediaDirection {
    fn from_flags(flags: u8) -> Self {
        match (flags & DIRECTION_MASK) >> DIRECTION_SHIFT {
            0 => Self::None,
            1 => Self::Receive,
            2 => Self::Send,
            _ => Self::SendReceive,
        }
    }

    fn to_flags(self) -> u8 {
        let bits = match self {
            Self::None => 0,
            Self::Receive => 1,
            Self::Send => 2,
            Self::SendReceive => 3,
        };
        bits << DIRECTION_SHIFT
    }
}

/// Set Payload body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetPayload {
    /// Which way media flows.
    pub direction: MediaDirection,
    /// The codec chosen for this call.
    pub payload_type: PayloadType,
    /// Packetisation time, ms.
    pub packet_ms: u8,
    /// The system's id for this media stream.
    pub media_id: MediaId,
    /// Where the phone sends RTP: address (offset 19) ...
    pub address: IpAddr,
    /// ... and port (offset 9).
    pub rtp_port: u16,
    /// Where the phone sends RTCP.
    pub rtcp_port: u16,
}

/// Body offset of the address.
const ADDRESS_OFFSET: usize = 19;

impl Codec for SetPayload {
    fn decode<B: Buf>(buf: &mut B) -> Result<Self, DecodeError> {
        need(buf, ADDRESS_OFFSET, "set payload")?;
        skip(buf, 2, "set payload reserved")?;
        let direction = MediaDirection::from_flags(get_u8(buf, "set payload flags")?);
        let payload_type = PayloadType(get_u8(buf, "payload type")?);
        let packet_ms = get_u8(buf, "packet size")?;
        let media_id = MediaId(get_u32(buf, "media id")?);
        let rtp_port = get_u16(buf, "RTP port")?;
        let rtcp_port = get_u16(buf, "RTCP port")?;
        skip(buf, 6, "set payload reserved")?;
        let address = address_from_wire(&rest(buf), "set payload address")?;
        Ok(Self {
            direction,
            payload_type,
            packet_ms,
            media_id,
            address,
            rtp_port,
            rtcp_port,
        })
    }

    fn encode<B: BufMut>(&self, buf: &mut B) -> Result<(), EncodeError> {
        buf.put_bytes(0, 2);
        buf.put_u8(self.direction.to_flags());
        buf.put_u8(self.payload_type.0);
        buf.put_u8(self.packet_ms);
        buf.put_u32(self.media_id.0);
        buf.put_u16(self.rtp_port);
        buf.put_u16(self.rtcp_port);
        buf.put_bytes(0, 6);
        buf.put_slice(&address_to_wire(self.address));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hfa::coding::round_trip;

    #[test]
    fn every_direction_round_trips() {
        let directions = [
            MediaDirection::None,
            MediaDirection::Receive,
            MediaDirection::Send,
            MediaDirection::SendReceive,
        ];
        for (bits, direction) in (0u8..).zip(directions) {
            let payload = SetPayload {
                direction,
                payload_type: PayloadType::OPUS,
                packet_ms: 20,
                media_id: MediaId(9),
                address: "2001:db8::1".parse().unwrap_or(IpAddr::from([0; 4])),
                rtp_port: 30_274,
                rtcp_port: 30_275,
            };
            let bytes = round_trip(&payload);
            assert_eq!(bytes[2], bits << 2);
        }
    }

    #[test]
    fn a_body_without_address_is_rejected() {
        let short = SetPayload::from_bytes(&[0; 18]);
        assert_eq!(
            short,
            Err(DecodeError::Truncated {
                what: "set payload"
            })
        );
        let empty = SetPayload::from_bytes(&[0; 19]);
        assert_eq!(
            empty,
            Err(DecodeError::InvalidAddress {
                what: "set payload address"
            })
        );
    }
}
