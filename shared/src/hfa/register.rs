//! Register (0x04), phone → system: who the phone is and proof of the password.

use std::net::{IpAddr, Ipv4Addr};

use bytes::{Buf, BufMut, Bytes};

use super::code::wire_code;
use super::coding::{Codec, get_array, get_u8, rest};
use super::error::{DecodeError, EncodeError};
use super::ids::{MacAddress, Subscriber};
use super::ie::{IeType, RawIe, put_ie, read_ies, required, set_once};
use super::registration::RegistrationData;
use super::text::address_from_wire;

wire_code! {
    /// The type of number before the subscriber digits (IE 0x72).
    pub struct TypeOfNumber(u8) {
        /// Unknown type, ISDN numbering plan: an internal number.
        UNKNOWN = 0x81 => "unknown/ISDN",
        /// International number.
        INTERNATIONAL = 0x91 => "international",
    }
}

wire_code! {
    /// The kind of the device address (IE 0x01, value byte 0; Ours).
    pub struct AddressKind(u8) {
        /// An IPv4 address in dotted-decimal ASCII.
        IPV4_TEXT = 0x01 => "IPv4 text",
    }
}

/// IE 0x01: the address the phone believes it has (behind NAT: a private one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeviceAddress {
    /// Kind 0x01, dotted-decimal text.
    Ipv4(Ipv4Addr),
    /// Another kind, kept raw.
    Other {
        /// Value byte 0.
        kind: AddressKind,
        /// The rest of the value.
        text: Bytes,
    },
}

/// IE 0x72: type of number and digits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriberNumber {
    /// Value byte 0.
    pub type_of_number: TypeOfNumber,
    /// The digits, ASCII.
    pub number: Subscriber,
}

impl SubscriberNumber {
    /// An internal number (type of number 0x81).
    pub fn internal(number: Subscriber) -> Self {
        Self {
            type_of_number: TypeOfNumber::UNKNOWN,
            number,
        }
    }
}

/// The Register body: a list of IEs.
///
/// Decoding requires the subscriber and registration data IEs, accepts the
/// others in any order, and keeps IEs it does not know in `other_ies`.
/// Encoding writes 0x01, 0x72, 0x7f, 0x0e in that order, then `other_ies`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Register {
    /// IE 0x01.
    pub device_address: Option<DeviceAddress>,
    /// IE 0x72.
    pub subscriber: SubscriberNumber,
    /// IE 0x7f.
    pub mac: Option<MacAddress>,
    /// IE 0x0e.
    pub registration: RegistrationData,
    /// IEs of other types, in their order.
    pub other_ies: Vec<RawIe>,
}

impl Codec for Register {
    fn decode<B: Buf>(buf: &mut B) -> Result<Self, DecodeError> {
        let (mut address, mut subscriber, mut mac, mut registration) = (None, None, None, None);
        let mut other_ies = Vec::new();
        for ie in read_ies(buf)? {
            let mut value = ie.value.clone();
            match ie.ie_type {
                IeType::DEVICE_ADDRESS => {
                    set_once(&mut address, ie.ie_type, decode_address(&mut value)?)?
                }
                IeType::SUBSCRIBER => {
                    set_once(&mut subscriber, ie.ie_type, decode_subscriber(&mut value)?)?
                }
                IeType::MAC_ADDRESS => set_once(
                    &mut mac,
                    ie.ie_type,
                    MacAddress(get_array(&mut value, "MAC address")?),
                )?,
                IeType::REGISTRATION_DATA => set_once(
                    &mut registration,
                    ie.ie_type,
                    RegistrationData::decode(&mut value)?,
                )?,
                _ => other_ies.push(ie),
            }
        }
        Ok(Self {
            device_address: address,
            subscriber: required(subscriber, IeType::SUBSCRIBER)?,
            mac,
            registration: required(registration, IeType::REGISTRATION_DATA)?,
            other_ies,
        })
    }

    fn encode<B: BufMut>(&self, buf: &mut B) -> Result<(), EncodeError> {
        if let Some(address) = &self.device_address {
            let mut value = Vec::new();
            match address {
                DeviceAddress::Ipv4(ip) => {
                    value.push(AddressKind::IPV4_TEXT.0);
                    value.extend_from_slice(ip.to_string().as_bytes());
                }
                DeviceAddress::Other { kind, text } => {
                    value.push(kind.0);
                    value.extend_from_slice(text);
                }
            }
            put_ie(buf, IeType::DEVICE_ADDRESS, &value)?;
        }
        let mut value = vec![self.subscriber.type_of_number.0];
        value.extend_from_slice(self.subscriber.number.as_str().as_bytes());
        put_ie(buf, IeType::SUBSCRIBER, &value)?;
        if let Some(mac) = &self.mac {
            put_ie(buf, IeType::MAC_ADDRESS, &mac.0)?;
        }
        put_ie(
            buf,
            IeType::REGISTRATION_DATA,
            &self.registration.to_bytes()?,
        )?;
        self.other_ies.iter().try_for_each(|ie| ie.encode(buf))
    }
}

fn decode_address(value: &mut Bytes) -> Result<DeviceAddress, DecodeError> {
    let kind = AddressKind(get_u8(value, "address kind")?);
    if kind != AddressKind::IPV4_TEXT {
        return Ok(DeviceAddress::Other {
            kind,
            text: rest(value),
        });
    }
    match address_from_wire(value, "device address")? {
        IpAddr::V4(ip) => Ok(DeviceAddress::Ipv4(ip)),
        IpAddr::V6(_) => Err(DecodeError::InvalidAddress {
            what: "device address",
        }),
    }
}

fn decode_subscriber(value: &mut Bytes) -> Result<SubscriberNumber, DecodeError> {
    let type_of_number = TypeOfNumber(get_u8(value, "type of number")?);
    let number = Subscriber::from_wire(value)?;
    Ok(SubscriberNumber {
        type_of_number,
        number,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hfa::coding::round_trip;
    use crate::hfa::ids::Timestamp;
    use crate::hfa::registration::{HashAlgorithm, PhoneId};

    fn register() -> Register {
        Register {
            device_address: Some(DeviceAddress::Ipv4(Ipv4Addr::new(192, 168, 1, 20))),
            subscriber: SubscriberNumber::internal(Subscriber::new("201").expect("digits")),
            mac: Some(MacAddress([0, 0x1a, 0xe8, 1, 2, 3])),
            registration: RegistrationData {
                phone_id: PhoneId::OPENSTAGE_40,
                challenge: Timestamp(0x6553_f100),
                algorithm: HashAlgorithm::HMAC_SHA1,
                hash: [0xab; 20],
                software_version: "V3R0.33.1".into(),
            },
            other_ies: vec![RawIe {
                ie_type: IeType(0x55),
                value: vec![9].into(),
            }],
        }
    }

    #[test]
    fn full_and_minimal_registers_round_trip() {
        let mut full = register();
        round_trip(&full);
        full.device_address = Some(DeviceAddress::Other {
            kind: AddressKind(0x02),
            text: "::1".into(),
        });
        round_trip(&full);
        full.device_address = None;
        full.mac = None;
        full.other_ies.clear();
        full.subscriber.type_of_number = TypeOfNumber::INTERNATIONAL;
        full.registration.software_version.clear();
        round_trip(&full);
    }

    #[test]
    fn mandatory_ies_must_be_present_once() -> Result<(), EncodeError> {
        let bytes = register().to_bytes()?;
        let without_data = &bytes[..bytes.len() - 4 - (3 + 58 + 9)];
        let missing = Register::from_bytes(without_data);
        assert_eq!(
            missing,
            Err(DecodeError::MissingIe {
                ie: IeType::REGISTRATION_DATA
            })
        );
        let twice = [&bytes[..], &[0x7f, 0, 6, 1, 2, 3, 4, 5, 6]].concat();
        assert_eq!(
            Register::from_bytes(&twice),
            Err(DecodeError::DuplicateIe {
                ie: IeType::MAC_ADDRESS
            })
        );
        Ok(())
    }

    #[test]
    fn bad_values_are_rejected() {
        let letters = Register::from_bytes(&[0x72, 0, 3, 0x81, b'2', b'x']);
        assert_eq!(letters, Err(DecodeError::InvalidDigits));
        let bad_ip = Register::from_bytes(&[0x01, 0, 4, 0x01, b'1', b'.', b'2']);
        assert_eq!(
            bad_ip,
            Err(DecodeError::InvalidAddress {
                what: "device address"
            })
        );
    }
}
