//! Text on the wire: display text in Latin-1, ASCII fields, NUL-terminated
//! addresses.
//!
//! Ours: display, function-key and menu texts are ISO 8859-1 (Latin-1), one
//! byte per character, at most [`Text::MAX_LEN`] bytes. Latin-1 covers the
//! umlauts of German and the accents of the other Western European languages
//! the phones ship with, and its lower half is ASCII, so Wireshark's ASCII
//! pane shows English text as is.

use core::fmt;
use std::net::IpAddr;

use bytes::Bytes;

use super::error::{DecodeError, EncodeError};

/// Latin-1 text for the phone's display, keys and menus (at most 255 bytes,
/// so it always fits a length byte).
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct Text(Bytes);

impl Text {
    /// The longest text, in bytes (= characters).
    pub const MAX_LEN: usize = 255;

    /// Encodes `text` as Latin-1; fails on a character above U+00FF or on
    /// more than 255 characters.
    pub fn new(text: &str) -> Result<Self, EncodeError> {
        let bytes = text
            .chars()
            .map(|ch| u8::try_from(u32::from(ch)).map_err(|_| EncodeError::NotLatin1 { ch }))
            .collect::<Result<Vec<u8>, _>>()?;
        Self::from_latin1(bytes)
    }

    /// Takes bytes already in Latin-1.
    pub fn from_latin1(bytes: impl Into<Bytes>) -> Result<Self, EncodeError> {
        let bytes = bytes.into();
        if bytes.len() > Self::MAX_LEN {
            return Err(EncodeError::TooLong {
                what: "text",
                len: bytes.len(),
                max: Self::MAX_LEN,
            });
        }
        Ok(Self(bytes))
    }

    /// Reads text received from the peer.
    pub(crate) fn from_wire(bytes: Bytes, what: &'static str) -> Result<Self, DecodeError> {
        if bytes.len() > Self::MAX_LEN {
            return Err(DecodeError::BadLength {
                what,
                len: bytes.len(),
            });
        }
        Ok(Self(bytes))
    }

    /// The Latin-1 bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// Length in bytes (= characters).
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True for the empty text.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Decodes Latin-1: every byte is the code point of the same value.
impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0
            .iter()
            .map(|&b| char::from(b))
            .try_for_each(|ch| fmt::Write::write_char(f, ch))
    }
}

impl fmt::Debug for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Text({:?})", self.to_string())
    }
}

/// Reads an ASCII field received from the peer.
pub(crate) fn ascii_from_wire(bytes: &[u8], what: &'static str) -> Result<String, DecodeError> {
    match core::str::from_utf8(bytes) {
        Ok(text) if text.is_ascii() => Ok(text.to_owned()),
        _ => Err(DecodeError::NotAscii { what }),
    }
}

/// Checks an ASCII field before it goes on the wire.
pub(crate) fn ascii_to_wire<'a>(
    text: &'a str,
    what: &'static str,
) -> Result<&'a [u8], EncodeError> {
    if text.is_ascii() {
        Ok(text.as_bytes())
    } else {
        Err(EncodeError::NotAscii { what })
    }
}

/// Reads an IP address written as ASCII text, ending at the first NUL or at
/// the end of `bytes` (a missing terminator is tolerated).
pub(crate) fn address_from_wire(bytes: &[u8], what: &'static str) -> Result<IpAddr, DecodeError> {
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    let text = bytes.get(..end).unwrap_or_default();
    core::str::from_utf8(text)
        .ok()
        .and_then(|text| text.parse().ok())
        .ok_or(DecodeError::InvalidAddress { what })
}

/// The ASCII text of an address followed by its NUL terminator.
pub(crate) fn address_to_wire(address: IpAddr) -> Vec<u8> {
    let mut out = address.to_string().into_bytes();
    out.push(0);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latin1_round_trips_and_rejects_the_rest() -> Result<(), EncodeError> {
        let text = Text::new("Grüße 201")?;
        assert_eq!(text.as_bytes(), b"Gr\xfc\xdfe 201");
        assert_eq!(text.to_string(), "Grüße 201");
        assert_eq!(Text::new("€"), Err(EncodeError::NotLatin1 { ch: '€' }));
        assert!(Text::new(&"x".repeat(256)).is_err());
        assert!(Text::from_wire(Bytes::from(vec![b'x'; 256]), "t").is_err());
        Ok(())
    }

    #[test]
    fn addresses_are_nul_terminated_ascii() {
        let ip: IpAddr = [192, 168, 1, 20].into();
        assert_eq!(address_to_wire(ip), b"192.168.1.20\0");
        assert_eq!(address_from_wire(b"192.168.1.20\0junk", "a"), Ok(ip));
        assert_eq!(address_from_wire(b"192.168.1.20", "a"), Ok(ip));
        assert!(address_from_wire(b"\0", "a").is_err());
        assert!(address_from_wire(b"\xff\0", "a").is_err());
    }

    #[test]
    fn ascii_fields_reject_other_bytes() {
        assert_eq!(ascii_from_wire(b"V3R0.33.1", "v"), Ok("V3R0.33.1".into()));
        assert!(ascii_from_wire(b"\xfc", "v").is_err());
        assert!(ascii_to_wire("ü", "v").is_err());
    }
}
