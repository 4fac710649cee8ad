//! Information elements: the type-length-value items of the Register,
//! Register Response and Register Decline bodies.
//!
//! ```text
//! offset  size  field
//!  0      1     IE type
//!  1      2     value length, u16 BE, excluding these 3 bytes
//!  3      n     value
//! ```

use bytes::{Buf, BufMut, Bytes};

use super::code::wire_code;
use super::coding::{Codec, get_u8, get_u16, len_u16, take};
use super::error::{DecodeError, EncodeError};

wire_code! {
    /// The type byte of an information element (Known codes).
    pub struct IeType(u8) {
        /// Register: the phone's own IP address, as kind + text.
        DEVICE_ADDRESS = 0x01 => "Device Address",
        /// Register Decline: the cause, 1 byte.
        CAUSE = 0x08 => "Cause",
        /// Register: phone id, challenge, hash, software version.
        REGISTRATION_DATA = 0x0e => "Registration Data",
        /// Register Response: payload signalling protocol.
        PAYLOAD_PROTOCOL = 0x28 => "Payload Protocol",
        /// Register: type of number + subscriber digits.
        SUBSCRIBER = 0x72 => "Subscriber",
        /// Register Response: system id, major and minor version.
        SYSTEM_ID = 0x78 => "System Id",
        /// Register Response: security profile.
        SECURITY_PROFILE = 0x7b => "Security Profile",
        /// Register Response (Ours): the software release the system
        /// delivers to a phone registered from the company LAN with
        /// firmware below the minimum (guide 1.3.4), ASCII.
        SOFTWARE_DELIVERY = 0x7c => "Software Delivery",
        /// Register: the phone's MAC address, 6 bytes.
        MAC_ADDRESS = 0x7f => "MAC Address",
    }
}

/// An information element as it was on the wire. Messages keep IEs they do
/// not know in this form, so they are re-sent unchanged.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RawIe {
    /// The type byte.
    pub ie_type: IeType,
    /// The value, at most 65535 bytes.
    pub value: Bytes,
}

impl Codec for RawIe {
    fn decode<B: Buf>(buf: &mut B) -> Result<Self, DecodeError> {
        let ie_type = IeType(get_u8(buf, "IE type")?);
        let len = get_u16(buf, "IE length")?;
        let value = take(buf, len.into(), "IE value")?;
        Ok(Self { ie_type, value })
    }

    fn encode<B: BufMut>(&self, buf: &mut B) -> Result<(), EncodeError> {
        put_ie(buf, self.ie_type, &self.value)
    }
}

/// Reads IEs until `buf` is empty.
pub(crate) fn read_ies<B: Buf>(buf: &mut B) -> Result<Vec<RawIe>, DecodeError> {
    let mut ies = Vec::new();
    while buf.has_remaining() {
        ies.push(RawIe::decode(buf)?);
    }
    Ok(ies)
}

/// Writes one IE with `value`.
pub(crate) fn put_ie<B: BufMut>(
    buf: &mut B,
    ie_type: IeType,
    value: &[u8],
) -> Result<(), EncodeError> {
    let len = len_u16(value.len(), "IE value")?;
    buf.put_u8(ie_type.0);
    buf.put_u16(len);
    buf.put_slice(value);
    Ok(())
}

/// Stores the decoded value of an IE that may occur once.
pub(crate) fn set_once<T>(slot: &mut Option<T>, ie: IeType, value: T) -> Result<(), DecodeError> {
    if slot.is_some() {
        return Err(DecodeError::DuplicateIe { ie });
    }
    *slot = Some(value);
    Ok(())
}

/// The value of a mandatory IE.
pub(crate) fn required<T>(slot: Option<T>, ie: IeType) -> Result<T, DecodeError> {
    slot.ok_or(DecodeError::MissingIe { ie })
}

/// Reads the first byte of a one-byte value; bytes after it are ignored (a
/// newer peer may append fields).
pub(crate) fn single_byte(value: &[u8], what: &'static str) -> Result<u8, DecodeError> {
    value
        .first()
        .copied()
        .ok_or(DecodeError::Truncated { what })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ie_lists_decode_until_the_end_and_reject_overruns() -> Result<(), DecodeError> {
        let mut buf: &[u8] = &[0x08, 0, 1, 5, 0x99, 0, 0];
        let ies = read_ies(&mut buf)?;
        assert_eq!(ies.len(), 2);
        assert_eq!(ies[0].ie_type, IeType::CAUSE);
        assert_eq!(&ies[0].value[..], [5]);
        assert!(ies[1].value.is_empty());
        let mut short: &[u8] = &[0x08, 0, 2, 5];
        assert_eq!(
            read_ies(&mut short),
            Err(DecodeError::Truncated { what: "IE value" })
        );
        let mut head: &[u8] = &[0x08, 0];
        assert_eq!(
            read_ies(&mut head),
            Err(DecodeError::Truncated { what: "IE length" })
        );
        Ok(())
    }

    #[test]
    fn duplicates_and_absences_are_reported() {
        let mut slot = None;
        assert_eq!(set_once(&mut slot, IeType::CAUSE, 1), Ok(()));
        assert_eq!(
            set_once(&mut slot, IeType::CAUSE, 2),
            Err(DecodeError::DuplicateIe { ie: IeType::CAUSE })
        );
        assert_eq!(
            required::<u8>(None, IeType::CAUSE),
            Err(DecodeError::MissingIe { ie: IeType::CAUSE })
        );
        assert_eq!(
            single_byte(&[], "c"),
            Err(DecodeError::Truncated { what: "c" })
        );
    }
}
