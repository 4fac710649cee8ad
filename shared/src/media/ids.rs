//! Newtype ids of RTP: synchronisation sources and payload types.

use core::fmt;

/// An RTP synchronisation source identifier (RFC 3550 §3): the id of one
/// sender's stream. Prints in hex, as Wireshark shows it.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Ssrc(pub u32);

impl fmt::Debug for Ssrc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Ssrc({self})")
    }
}

impl fmt::Display for Ssrc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#010x}", self.0)
    }
}

/// An RTP payload type (7 bits), in RTP headers and in the HFA messages
/// that announce and set media. Static numbers from RFC 3551; Opus and
/// telephone-event are dynamic, with the numbers this project announces
/// (real OpenScape systems offer neither over HFA: Opus there is Ours).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PayloadType(pub u8);

impl PayloadType {
    /// G.711 µ-law (RFC 3551).
    pub const PCMU: Self = Self(0);
    /// G.711 A-law (RFC 3551).
    pub const PCMA: Self = Self(8);
    /// G.722 (RFC 3551).
    pub const G722: Self = Self(9);
    /// G.729 (RFC 3551).
    pub const G729: Self = Self(18);
    /// RFC 4733 telephone-event, as this project announces it.
    pub const TELEPHONE_EVENT: Self = Self(101);
    /// Opus (RFC 7587), as this project announces it.
    pub const OPUS: Self = Self(111);

    /// True for the 0..=127 an RTP header can carry.
    pub fn is_valid(self) -> bool {
        self.0 <= 0x7f
    }

    /// The encoding's name for a number this crate knows.
    pub fn name(self) -> Option<&'static str> {
        match self {
            Self::PCMU => Some("PCMU"),
            Self::PCMA => Some("PCMA"),
            Self::G722 => Some("G.722"),
            Self::G729 => Some("G.729"),
            Self::TELEPHONE_EVENT => Some("telephone-event"),
            Self::OPUS => Some("Opus"),
            _ => None,
        }
    }
}

impl From<u8> for PayloadType {
    fn from(value: u8) -> Self {
        Self(value)
    }
}

impl fmt::Debug for PayloadType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PayloadType({})", self.0)
    }
}

/// The number, with the encoding's name when known: `8 PCMA`.
impl fmt::Display for PayloadType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => write!(f, "{} {name}", self.0),
            None => fmt::Display::fmt(&self.0, f),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_print_like_wireshark() {
        assert_eq!(Ssrc(0x1234).to_string(), "0x00001234");
        assert_eq!(format!("{:?}", PayloadType::OPUS), "PayloadType(111)");
        assert!(PayloadType(127).is_valid());
        assert!(!PayloadType(128).is_valid());
    }
}
