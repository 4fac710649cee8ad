//! Newtype ids and small value types of the HFA header and messages.

use core::fmt;

use super::error::{DecodeError, EncodeError};

/// The session id in the frame header (bytes 4-5, u16 BE).
///
/// Ours: zero until the Register Response assigns one in its own header;
/// every later frame of both sides carries the assigned id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct SessionId(pub u16);

impl SessionId {
    /// No session yet: the value before registration succeeds.
    pub const NONE: Self = Self(0);
}

/// The sequence number in the frame header (bytes 6-9, u32 BE).
///
/// Ours: counted per sender from 1; after `u32::MAX` it wraps to 1, so 0
/// never appears on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SequenceNumber(pub u32);

impl SequenceNumber {
    /// The number of a sender's first frame.
    pub const FIRST: Self = Self(1);

    /// The number of the sender's next frame.
    #[must_use]
    pub fn next(self) -> Self {
        match self.0.checked_add(1) {
            Some(n) => Self(n),
            None => Self::FIRST,
        }
    }
}

/// System time in seconds, u32 BE on the wire: the Alive timestamp and the
/// Register challenge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Timestamp(pub u32);

/// A media channel id chosen by the system for one call (Ours, in Set
/// Payload) so that later media messages can name the stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MediaId(pub u32);

/// A subscriber (directory) number: 1 to [`Subscriber::MAX_DIGITS`] ASCII digits.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Subscriber(String);

impl Subscriber {
    /// The longest number accepted (E.164 has 15 digits; internal plans
    /// add prefixes).
    pub const MAX_DIGITS: usize = 32;

    /// Checks that `digits` is 1 to 32 ASCII digits.
    pub fn new(digits: &str) -> Result<Self, EncodeError> {
        if Self::valid(digits.as_bytes()) {
            Ok(Self(digits.to_owned()))
        } else {
            Err(EncodeError::InvalidDigits)
        }
    }

    /// Reads the digits of a subscriber IE.
    pub(crate) fn from_wire(bytes: &[u8]) -> Result<Self, DecodeError> {
        match core::str::from_utf8(bytes) {
            Ok(digits) if Self::valid(bytes) => Ok(Self(digits.to_owned())),
            _ => Err(DecodeError::InvalidDigits),
        }
    }

    fn valid(bytes: &[u8]) -> bool {
        (1..=Self::MAX_DIGITS).contains(&bytes.len()) && bytes.iter().all(u8::is_ascii_digit)
    }

    /// The digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Subscriber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Subscriber({})", self.0)
    }
}

impl fmt::Display for Subscriber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An Ethernet MAC address (IE 0x7f, 6 bytes), printed `00:1a:e8:01:02:03`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MacAddress(pub [u8; 6]);

impl fmt::Debug for MacAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MacAddress({self})")
    }
}

impl fmt::Display for MacAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [a, b, c, d, e, g] = self.0;
        write!(f, "{a:02x}:{b:02x}:{c:02x}:{d:02x}:{e:02x}:{g:02x}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequence_numbers_skip_zero_when_they_wrap() {
        assert_eq!(SequenceNumber::FIRST.next(), SequenceNumber(2));
        assert_eq!(SequenceNumber(u32::MAX).next(), SequenceNumber::FIRST);
    }

    #[test]
    fn subscriber_numbers_are_digits_only() {
        assert_eq!(
            Subscriber::new("201").map(|s| s.to_string()),
            Ok("201".into())
        );
        assert!(Subscriber::new("").is_err());
        assert!(Subscriber::new("20a").is_err());
        assert!(Subscriber::new(&"1".repeat(33)).is_err());
        assert!(Subscriber::from_wire(b"+49").is_err());
        assert_eq!(
            format!("{:?}", Subscriber::from_wire(b"7")),
            "Ok(Subscriber(7))"
        );
    }

    #[test]
    fn mac_prints_colon_separated() {
        let mac = MacAddress([0, 0x1a, 0xe8, 1, 2, 0xff]);
        assert_eq!(mac.to_string(), "00:1a:e8:01:02:ff");
    }
}
