//! The registration data (IE 0x0e of Register): phone model, the challenge
//! answered, and the password proof.

use bytes::{Buf, BufMut};

use super::code::wire_code;
use super::coding::{Codec, get_array, get_u8, get_u32, rest, skip};
use super::error::{DecodeError, EncodeError};
use super::ids::Timestamp;
use super::text::{ascii_from_wire, ascii_to_wire};

wire_code! {
    /// The phone model, byte 0 of the registration data and of the phone
    /// initialisation request (Known codes).
    pub struct PhoneId(u8) {
        /// OpenStage 20 HFA.
        OPENSTAGE_20 = 0x2b => "OpenStage 20",
        /// OpenStage 40 HFA.
        OPENSTAGE_40 = 0x2c => "OpenStage 40",
        /// OpenStage 60 HFA.
        OPENSTAGE_60 = 0x2d => "OpenStage 60",
        /// OpenStage 80 HFA.
        OPENSTAGE_80 = 0x2e => "OpenStage 80",
        /// OpenScape DeskPhone IP 55.
        DESKPHONE_IP_55 = 0x34 => "DeskPhone IP 55",
        /// A PC (soft) client.
        PC_CLIENT = 0xff => "PC client",
    }
}

wire_code! {
    /// The algorithm of the registration hash (registration data bytes
    /// 34-37, u32 BE; Ours).
    pub struct HashAlgorithm(u32) {
        /// HMAC-SHA1, see [`registration_hash`](super::registration_hash).
        HMAC_SHA1 = 1 => "HMAC-SHA1",
    }
}

/// IE 0x0e value: at least 58 bytes.
///
/// ```text
/// offset  size  field
///  0      1     phone id                      (Ours: position)
///  1      29    zero                          (Ours)
/// 30      4     challenge timestamp, u32 BE   (Known)
/// 34      4     hash algorithm id, u32 BE     (Ours)
/// 38      20    hash                          (Known size)
/// 58      n     software version, ASCII       (Known)
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistrationData {
    /// The phone model.
    pub phone_id: PhoneId,
    /// The timestamp the system sent in answer to the timestamp request.
    pub challenge: Timestamp,
    /// How `hash` was computed.
    pub algorithm: HashAlgorithm,
    /// The password proof.
    pub hash: [u8; 20],
    /// Client software version, e.g. `V3R0.33.1`.
    pub software_version: String,
}

/// Length of the fixed part of the registration data.
pub const REGISTRATION_DATA_MIN_LEN: usize = 58;

impl Codec for RegistrationData {
    fn decode<B: Buf>(buf: &mut B) -> Result<Self, DecodeError> {
        if buf.remaining() < REGISTRATION_DATA_MIN_LEN {
            let len = buf.remaining();
            return Err(DecodeError::BadLength {
                what: "registration data",
                len,
            });
        }
        let phone_id = PhoneId(get_u8(buf, "phone id")?);
        skip(buf, 29, "registration data reserved")?;
        let challenge = Timestamp(get_u32(buf, "challenge")?);
        let algorithm = HashAlgorithm(get_u32(buf, "hash algorithm")?);
        let hash = get_array(buf, "hash")?;
        let software_version = ascii_from_wire(&rest(buf), "software version")?;
        Ok(Self {
            phone_id,
            challenge,
            algorithm,
            hash,
            software_version,
        })
    }

    fn encode<B: BufMut>(&self, buf: &mut B) -> Result<(), EncodeError> {
        let version = ascii_to_wire(&self.software_version, "software version")?;
        buf.put_u8(self.phone_id.0);
        buf.put_bytes(0, 29);
        buf.put_u32(self.challenge.0);
        buf.put_u32(self.algorithm.0);
        buf.put_slice(&self.hash);
        buf.put_slice(version);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hfa::coding::round_trip;

    #[test]
    fn fixed_part_then_version() {
        let data = RegistrationData {
            phone_id: PhoneId::PC_CLIENT,
            challenge: Timestamp(0x0102_0304),
            algorithm: HashAlgorithm(7),
            hash: [0xee; 20],
            software_version: "V1".into(),
        };
        let bytes = round_trip(&data);
        assert_eq!(bytes.len(), REGISTRATION_DATA_MIN_LEN + 2);
        assert_eq!(bytes[..2], [0xff, 0]);
        assert_eq!(bytes[30..38], [1, 2, 3, 4, 0, 0, 0, 7]);
        assert_eq!(bytes[38..58], [0xee; 20]);
        assert_eq!(bytes[58..], *b"V1");
    }

    #[test]
    fn short_or_non_ascii_data_is_rejected() {
        let short_data = RegistrationData::from_bytes(&[0; 57]);
        assert_eq!(
            short_data,
            Err(DecodeError::BadLength {
                what: "registration data",
                len: 57
            })
        );
        let mut version = [0u8; 59];
        version[58] = 0xc4;
        let not_ascii = RegistrationData::from_bytes(&version);
        assert_eq!(
            not_ascii,
            Err(DecodeError::NotAscii {
                what: "software version"
            })
        );
    }
}
