//! The system's answers to Register: Register Response (0x06) and Register
//! Decline (0x07). Ours: the session id the system assigns travels in the
//! header of the Register Response frame, not in an IE.

use bytes::{Buf, BufMut};

use super::code::wire_code;
use super::coding::{Codec, get_array};
use super::decline::DeclineCause;
use super::error::{DecodeError, EncodeError};
use super::ie::{IeType, RawIe, put_ie, read_ies, required, set_once, single_byte};
use super::text::{ascii_from_wire, ascii_to_wire};

wire_code! {
    /// The system family in IE 0x78 (Known codes).
    pub struct SystemId(u8) {
        /// HiPath 3000/5000 family, to which OpenScape Business belongs.
        HIPATH_3000_5000 = 0x01 => "HiPath 3000/5000",
        /// HiPath 4000.
        HIPATH_4000 = 0x02 => "HiPath 4000",
    }
}

wire_code! {
    /// IE 0x7b (Known codes).
    pub struct SecurityProfile(u8) {
        /// No signalling security.
        NONE = 0 => "none",
        /// Reduced.
        REDUCED = 1 => "reduced",
        /// Full.
        FULL = 2 => "full",
    }
}

wire_code! {
    /// IE 0x28: the payload signalling protocol (Known codes).
    pub struct SignallingProtocol(u8) {
        /// CorNet.
        CORNET = 0x01 => "CorNet",
    }
}

/// IE 0x78 value: system id, major version, minor version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SystemIdentifier {
    /// The system family.
    pub system: SystemId,
    /// Major software version.
    pub major: u8,
    /// Minor software version.
    pub minor: u8,
}

/// Register Response body. Decoding requires IE 0x78; encoding writes 0x78,
/// 0x7b, 0x28, 0x7c in that order, then `other_ies`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegisterResponse {
    /// IE 0x78.
    pub system: SystemIdentifier,
    /// IE 0x7b.
    pub security_profile: Option<SecurityProfile>,
    /// IE 0x28.
    pub payload_protocol: Option<SignallingProtocol>,
    /// IE 0x7c (Ours): the release the phone is updated to, e.g.
    /// `V3R5.16.0`; as sent, the phone parses it.
    pub software_delivery: Option<String>,
    /// IEs of other types, in their order.
    pub other_ies: Vec<RawIe>,
}

impl RegisterResponse {
    /// What this project's system sends: OpenScape Business (family 0x01),
    /// the given version, security profile none, CorNet.
    pub fn openscape_business(major: u8, minor: u8) -> Self {
        Self {
            system: SystemIdentifier {
                system: SystemId::HIPATH_3000_5000,
                major,
                minor,
            },
            security_profile: Some(SecurityProfile::NONE),
            payload_protocol: Some(SignallingProtocol::CORNET),
            software_delivery: None,
            other_ies: Vec::new(),
        }
    }
}

impl Codec for RegisterResponse {
    fn decode<B: Buf>(buf: &mut B) -> Result<Self, DecodeError> {
        let (mut system, mut profile, mut protocol, mut delivery) = (None, None, None, None);
        let mut other_ies = Vec::new();
        for ie in read_ies(buf)? {
            match ie.ie_type {
                IeType::SYSTEM_ID => {
                    let [id, major, minor] = get_array(&mut ie.value.clone(), "system id")?;
                    let value = SystemIdentifier {
                        system: SystemId(id),
                        major,
                        minor,
                    };
                    set_once(&mut system, ie.ie_type, value)?;
                }
                IeType::SECURITY_PROFILE => {
                    let value = SecurityProfile(single_byte(&ie.value, "security profile")?);
                    set_once(&mut profile, ie.ie_type, value)?;
                }
                IeType::PAYLOAD_PROTOCOL => {
                    let value = SignallingProtocol(single_byte(&ie.value, "payload protocol")?);
                    set_once(&mut protocol, ie.ie_type, value)?;
                }
                IeType::SOFTWARE_DELIVERY => {
                    let value = ascii_from_wire(&ie.value, "software delivery")?;
                    set_once(&mut delivery, ie.ie_type, value)?;
                }
                _ => other_ies.push(ie),
            }
        }
        Ok(Self {
            system: required(system, IeType::SYSTEM_ID)?,
            security_profile: profile,
            payload_protocol: protocol,
            software_delivery: delivery,
            other_ies,
        })
    }

    fn encode<B: BufMut>(&self, buf: &mut B) -> Result<(), EncodeError> {
        let SystemIdentifier {
            system,
            major,
            minor,
        } = self.system;
        put_ie(buf, IeType::SYSTEM_ID, &[system.0, major, minor])?;
        if let Some(profile) = self.security_profile {
            put_ie(buf, IeType::SECURITY_PROFILE, &[profile.0])?;
        }
        if let Some(protocol) = self.payload_protocol {
            put_ie(buf, IeType::PAYLOAD_PROTOCOL, &[protocol.0])?;
        }
        if let Some(release) = &self.software_delivery {
            let value = ascii_to_wire(release, "software delivery")?;
            put_ie(buf, IeType::SOFTWARE_DELIVERY, value)?;
        }
        self.other_ies.iter().try_for_each(|ie| ie.encode(buf))
    }
}

/// Register Decline body: IE 0x08 (required) then `other_ies`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegisterDecline {
    /// IE 0x08.
    pub cause: DeclineCause,
    /// IEs of other types, in their order.
    pub other_ies: Vec<RawIe>,
}

impl RegisterDecline {
    /// A decline with `cause` and nothing else.
    pub fn new(cause: DeclineCause) -> Self {
        Self {
            cause,
            other_ies: Vec::new(),
        }
    }
}

impl Codec for RegisterDecline {
    fn decode<B: Buf>(buf: &mut B) -> Result<Self, DecodeError> {
        let mut cause = None;
        let mut other_ies = Vec::new();
        for ie in read_ies(buf)? {
            if ie.ie_type == IeType::CAUSE {
                set_once(
                    &mut cause,
                    ie.ie_type,
                    DeclineCause(single_byte(&ie.value, "cause")?),
                )?;
            } else {
                other_ies.push(ie);
            }
        }
        Ok(Self {
            cause: required(cause, IeType::CAUSE)?,
            other_ies,
        })
    }

    fn encode<B: BufMut>(&self, buf: &mut B) -> Result<(), EncodeError> {
        put_ie(buf, IeType::CAUSE, &[self.cause.0])?;
        self.other_ies.iter().try_for_each(|ie| ie.encode(buf))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hfa::coding::round_trip;

    #[test]
    fn response_round_trips_with_and_without_optional_ies() {
        let mut response = RegisterResponse::openscape_business(3, 1);
        round_trip(&response);
        response.security_profile = None;
        response.payload_protocol = None;
        response.other_ies.push(RawIe {
            ie_type: IeType(0x99),
            value: vec![1, 2].into(),
        });
        assert_eq!(
            &round_trip(&response)[..],
            [0x78, 0, 3, 1, 3, 1, 0x99, 0, 2, 1, 2]
        );
    }

    #[test]
    fn a_software_delivery_round_trips_and_must_be_ascii_and_single() {
        let mut response = RegisterResponse::openscape_business(3, 1);
        response.software_delivery = Some("V3R5.16.0".into());
        let bytes = round_trip(&response);
        assert_eq!(&bytes[14..17], [0x7c, 0, 9], "after the CorNet IE");
        let not_ascii = RegisterResponse::from_bytes(&[0x78, 0, 3, 1, 3, 1, 0x7c, 0, 1, 0xff]);
        assert_eq!(
            not_ascii,
            Err(DecodeError::NotAscii {
                what: "software delivery"
            })
        );
        let twice = [0x78, 0, 3, 1, 3, 1, 0x7c, 0, 1, b'V', 0x7c, 0, 1, b'V'];
        assert!(RegisterResponse::from_bytes(&twice).is_err());
    }

    #[test]
    fn response_requires_the_system_id() {
        let missing = RegisterResponse::from_bytes(&[0x7b, 0, 1, 0]);
        assert_eq!(
            missing,
            Err(DecodeError::MissingIe {
                ie: IeType::SYSTEM_ID
            })
        );
        let short = RegisterResponse::from_bytes(&[0x78, 0, 2, 1, 3]);
        assert_eq!(short, Err(DecodeError::Truncated { what: "system id" }));
    }

    #[test]
    fn decline_round_trips_and_needs_exactly_one_cause() {
        let mut decline = RegisterDecline::new(DeclineCause(0x77));
        decline.other_ies.push(RawIe {
            ie_type: IeType(0x42),
            value: Default::default(),
        });
        round_trip(&decline);
        let empty = RegisterDecline::from_bytes(&[]);
        assert_eq!(empty, Err(DecodeError::MissingIe { ie: IeType::CAUSE }));
        let twice = RegisterDecline::from_bytes(&[8, 0, 1, 1, 8, 0, 1, 2]);
        assert_eq!(twice, Err(DecodeError::DuplicateIe { ie: IeType::CAUSE }));
    }
}
