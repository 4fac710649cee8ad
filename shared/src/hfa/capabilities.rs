//! Codec Capabilities (0x30), phone → system: the codecs the phone offers
//! and where it receives media.
//!
//! The body is a sequence of entries, each `type (1) | length (2, BE) |
//! value (length bytes)`. A codec entry (Ours: type 0x01), offsets from the
//! start of the entry (Known unless marked Ours):
//!
//! ```text
//! offset  size        field
//!  0      1           entry type, 0x01 codec                    (Ours: value)
//!  1      2           length of the value = 16 + address bytes
//!  3      2           zero                                      (Ours)
//!  5      1           RTP payload type
//!  6      1           zero                                      (Ours)
//!  7      1           packet size, ms
//!  8      1           flags: 0x01 silence suppression
//!  9      2           RTP port, BE
//! 11      2           RTCP port, BE
//! 13      6           zero                                      (Ours)
//! 19      length-16   local address, ASCII, NUL-terminated
//! ```
//!
//! The address runs to the end of the entry (3 + length), which is why its
//! size is length − 16. Entries of other types are kept raw.

use std::net::IpAddr;

use bytes::{Buf, BufMut, Bytes};

use super::code::wire_code;
use super::coding::{Codec, get_u8, get_u16, len_u16, rest, skip, take};
use super::error::{DecodeError, EncodeError};
use super::payload::PayloadType;
use super::text::{address_from_wire, address_to_wire};

wire_code! {
    /// The type byte of a capabilities entry (Ours).
    pub struct EntryType(u8) {
        /// An audio codec entry.
        CODEC = 0x01 => "Codec",
    }
}

/// Length of a codec entry value before the address (entry offsets 3-18).
const CODEC_FIXED_LEN: usize = 16;

/// The flag bit for silence suppression (VAD/CNG).
const SILENCE_SUPPRESSION: u8 = 0x01;

/// One offered codec and the address the phone receives it on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodecEntry {
    /// The codec.
    pub payload_type: PayloadType,
    /// Packetisation time, ms (20 is usual).
    pub packet_ms: u8,
    /// Flag 0x01. Other flag bits are sent as 0 and ignored on receipt.
    pub silence_suppression: bool,
    /// Local RTP port.
    pub rtp_port: u16,
    /// Local RTCP port.
    pub rtcp_port: u16,
    /// Local address (behind NAT: the private one; the SBC rewrites it).
    pub address: IpAddr,
}

/// One entry of the capabilities list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CapabilityEntry {
    /// Type 0x01.
    Codec(CodecEntry),
    /// Another type, kept raw.
    Other {
        /// Entry offset 0.
        entry_type: EntryType,
        /// Entry offset 3 to the end.
        value: Bytes,
    },
}

/// Codec Capabilities body.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CodecCapabilities {
    /// The entries, in order of preference.
    pub entries: Vec<CapabilityEntry>,
}

impl CodecCapabilities {
    /// The codec entries, skipping entries of other types.
    pub fn codecs(&self) -> impl Iterator<Item = &CodecEntry> {
        self.entries.iter().filter_map(|entry| match entry {
            CapabilityEntry::Codec(codec) => Some(codec),
            CapabilityEntry::Other { .. } => None,
        })
    }
}

impl FromIterator<CodecEntry> for CodecCapabilities {
    fn from_iter<I: IntoIterator<Item = CodecEntry>>(iter: I) -> Self {
        Self {
            entries: iter.into_iter().map(CapabilityEntry::Codec).collect(),
        }
    }
}

impl Codec for CodecEntry {
    /// Reads a codec entry's value (entry offset 3 onwards).
    fn decode<B: Buf>(buf: &mut B) -> Result<Self, DecodeError> {
        if buf.remaining() < CODEC_FIXED_LEN {
            return Err(DecodeError::BadLength {
                what: "codec entry",
                len: buf.remaining(),
            });
        }
        skip(buf, 2, "codec entry reserved")?;
        let payload_type = PayloadType(get_u8(buf, "payload type")?);
        skip(buf, 1, "codec entry reserved")?;
        let packet_ms = get_u8(buf, "packet size")?;
        let silence_suppression = get_u8(buf, "codec flags")? & SILENCE_SUPPRESSION != 0;
        let rtp_port = get_u16(buf, "RTP port")?;
        let rtcp_port = get_u16(buf, "RTCP port")?;
        skip(buf, 6, "codec entry reserved")?;
        let address = address_from_wire(&rest(buf), "codec entry address")?;
        Ok(Self {
            payload_type,
            packet_ms,
            silence_suppression,
            rtp_port,
            rtcp_port,
            address,
        })
    }

    /// Writes the value (entry offset 3 onwards).
    fn encode<B: BufMut>(&self, buf: &mut B) -> Result<(), EncodeError> {
        buf.put_bytes(0, 2);
        buf.put_u8(self.payload_type.0);
        buf.put_u8(0);
        buf.put_u8(self.packet_ms);
        buf.put_u8(if self.silence_suppression {
            SILENCE_SUPPRESSION
        } else {
            0
        });
        buf.put_u16(self.rtp_port);
        buf.put_u16(self.rtcp_port);
        buf.put_bytes(0, 6);
        buf.put_slice(&address_to_wire(self.address));
        Ok(())
    }
}

impl Codec for CodecCapabilities {
    fn decode<B: Buf>(buf: &mut B) -> Result<Self, DecodeError> {
        let mut entries = Vec::new();
        while buf.has_remaining() {
            let entry_type = EntryType(get_u8(buf, "entry type")?);
            let len = get_u16(buf, "entry length")?;
            let mut value = take(buf, len.into(), "entry value")?;
            entries.push(match entry_type {
                EntryType::CODEC => CapabilityEntry::Codec(CodecEntry::decode(&mut value)?),
                _ => CapabilityEntry::Other { entry_type, value },
            });
        }
        Ok(Self { entries })
    }

    fn encode<B: BufMut>(&self, buf: &mut B) -> Result<(), EncodeError> {
        self.entries.iter().try_for_each(|entry| {
            let (entry_type, value) = match entry {
                CapabilityEntry::Codec(codec) => (EntryType::CODEC, codec.to_bytes()?),
                CapabilityEntry::Other { entry_type, value } => (*entry_type, value.clone()),
            };
            buf.put_u8(entry_type.0);
            buf.put_u16(len_u16(value.len(), "entry value")?);
            buf.put_slice(&value);
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hfa::coding::round_trip;

    fn pcma() -> CodecEntry {
        CodecEntry {
            payload_type: PayloadType::PCMA,
            packet_ms: 20,
            silence_suppression: true,
            rtp_port: 5004,
            rtcp_port: 5005,
            address: [10, 0, 0, 2].into(),
        }
    }

    #[test]
    fn entries_round_trip_with_the_address_filling_length_minus_16() {
        let mut caps: CodecCapabilities = [pcma()].into_iter().collect();
        let other = CapabilityEntry::Other {
            entry_type: EntryType(0x7e),
            value: vec![1].into(),
        };
        caps.entries.push(other);
        let bytes = round_trip(&caps);
        let address = b"10.0.0.2\0";
        assert_eq!(bytes[1..3], [0, (16 + address.len()) as u8]);
        assert_eq!(&bytes[19..19 + address.len()], address);
        assert_eq!(caps.codecs().count(), 1);
        round_trip(&CodecCapabilities::default());
    }

    #[test]
    fn short_entries_and_bad_addresses_are_rejected() {
        let short =
            CodecCapabilities::from_bytes(&[1, 0, 15, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(
            short,
            Err(DecodeError::BadLength {
                what: "codec entry",
                len: 15
            })
        );
        let mut entry = pcma().to_bytes().map(|b| b.to_vec()).unwrap_or_default();
        entry[16] = b'x';
        let bad = CodecEntry::from_bytes(&entry);
        assert_eq!(
            bad,
            Err(DecodeError::InvalidAddress {
                what: "codec entry address"
            })
        );
    }
}
