//! Stimulus bodies for phone start-up: initialisation request, basic
//! initialisation, IP init data, contrast. Each `Codec` impl reads and
//! writes the bytes after the request code.
//!
//! "Body offset" counts from the request code (body offset 0), as in the
//! protocol table; frame offset = 11 + body offset.

use std::net::Ipv4Addr;

use bytes::{Buf, BufMut};

use crate::hfa::coding::{Codec, get_array, get_u8, skip};
use crate::hfa::error::{DecodeError, EncodeError};
use crate::hfa::registration::PhoneId;

/// The flags byte of the phone initialisation request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct PhoneInitFlags(pub u8);

impl PhoneInitFlags {
    /// The phone ran its self-test.
    pub const SELF_TEST: u8 = 0x80;
    /// A TA S0 adapter is attached.
    pub const TA_S0: u8 = 0x40;
    /// A headset is attached.
    pub const HEADSET: u8 = 0x20;
    /// The phone runs in LAN phone mode.
    pub const LAN_PHONE_MODE: u8 = 0x10;
    /// IP init data (stimulus 0x7d) follows.
    pub const IP_INIT_DATA_FOLLOWS: u8 = 0x08;
    /// Mask of the phone id extension.
    pub const ID_EXTENSION: u8 = 0x07;

    /// Whether all bits of `flag` are set.
    pub fn contains(self, flag: u8) -> bool {
        self.0 & flag == flag
    }

    /// The phone id extension (bits 0x07).
    pub fn id_extension(self) -> u8 {
        self.0 & Self::ID_EXTENSION
    }
}

/// Body offset of the phone id in the phone initialisation request (Known).
const PHONE_INIT_ID_OFFSET: usize = 11;

/// 0x46 phone initialisation request: phone id at body offset 11, then
/// flags, then a local error byte. Ours: body offsets 1-10 are zero on send
/// and ignored on receipt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PhoneInit {
    /// The phone model.
    pub phone_id: PhoneId,
    /// Equipment and mode flags.
    pub flags: PhoneInitFlags,
    /// The phone's local error code, 0 for none.
    pub local_error: u8,
}

impl Codec for PhoneInit {
    fn decode<B: Buf>(buf: &mut B) -> Result<Self, DecodeError> {
        skip(buf, PHONE_INIT_ID_OFFSET - 1, "phone init reserved")?;
        let [phone_id, flags, local_error] = get_array(buf, "phone init")?;
        Ok(Self {
            phone_id: PhoneId(phone_id),
            flags: PhoneInitFlags(flags),
            local_error,
        })
    }

    fn encode<B: BufMut>(&self, buf: &mut B) -> Result<(), EncodeError> {
        buf.put_bytes(0, PHONE_INIT_ID_OFFSET - 1);
        buf.put_slice(&[self.phone_id.0, self.flags.0, self.local_error]);
        Ok(())
    }
}

/// 0x4b basic phone initialisation: 6 bytes packing language, time
/// format, contrast and time. The packing is not public, so the bytes are
/// kept as they are; this project's system sets those through Set Clock
/// (0x4a) and Set Contrast (0x47) instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct BasicPhoneInit(pub [u8; 6]);

impl Codec for BasicPhoneInit {
    fn decode<B: Buf>(buf: &mut B) -> Result<Self, DecodeError> {
        get_array(buf, "basic phone init").map(Self)
    }

    fn encode<B: BufMut>(&self, buf: &mut B) -> Result<(), EncodeError> {
        buf.put_slice(&self.0);
        Ok(())
    }
}

/// Body offset of the address in IP phone init data (Known).
const IP_INIT_ADDRESS_OFFSET: usize = 5;

/// 0x7d IP phone init data: an IPv4 address (4 bytes, network order) at body
/// offset 5. Ours: body offsets 1-4 are zero on send and ignored on receipt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct IpPhoneInitData {
    /// The phone's IP address.
    pub address: Ipv4Addr,
}

impl Codec for IpPhoneInitData {
    fn decode<B: Buf>(buf: &mut B) -> Result<Self, DecodeError> {
        skip(buf, IP_INIT_ADDRESS_OFFSET - 1, "IP init data reserved")?;
        let address = Ipv4Addr::from(get_array::<4, _>(buf, "IP init address")?);
        Ok(Self { address })
    }

    fn encode<B: BufMut>(&self, buf: &mut B) -> Result<(), EncodeError> {
        buf.put_bytes(0, IP_INIT_ADDRESS_OFFSET - 1);
        buf.put_slice(&self.address.octets());
        Ok(())
    }
}

/// 0x47 set contrast: `display contrast − 1, keys contrast − 1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SetContrast {
    /// Display contrast, from 1 (0 wraps to wire byte 0xff).
    pub display: u8,
    /// Key contrast, from 1.
    pub keys: u8,
}

impl Codec for SetContrast {
    fn decode<B: Buf>(buf: &mut B) -> Result<Self, DecodeError> {
        let display = get_u8(buf, "display contrast")?.wrapping_add(1);
        let keys = get_u8(buf, "keys contrast")?.wrapping_add(1);
        Ok(Self { display, keys })
    }

    fn encode<B: BufMut>(&self, buf: &mut B) -> Result<(), EncodeError> {
        buf.put_slice(&[self.display.wrapping_sub(1), self.keys.wrapping_sub(1)]);
        Ok(())
    }
}
