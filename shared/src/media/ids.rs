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

/// An RTP payload type (7 bits). Static numbers from RFC 3551; Opus and
/// telephone-event are dynamic, with the numbers this project announces.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PayloadType(pub u8);

impl PayloadType {
    /// G.711 µ-law (RFC 3551).
    pub const PCMU: Self = Self(0);
    /// G.711 A-law (RFC 3551).
    pub const PCMA: Self = Self(8);
    /// RFC 4733 telephone-event, as this project announces it.
    pub const TELEPHONE_EVENT: Self = Self(101);
    /// Opus (RFC 7587), as this project announces it.
    pub const OPUS: Self = Self(111);

    /// True for the 0..=127 an RTP header can carry.
    pub fn is_valid(self) -> bool {
        self.0 <= 0x7f
    }
}

impl fmt::Debug for PayloadType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PayloadType({})", self.0)
    }
}

impl fmt::Display for PayloadType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
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
