//! Errors of the HFA codec layer.
//!
//! [`DecodeError`] is peer misbehaviour: bytes from the network that do not
//! follow the protocol. [`EncodeError`] is local misuse: a value this side
//! built that cannot be put on the wire. Neither involves I/O; the owner of
//! the connection maps them to its own errors (and closes the connection on
//! a decode error, see [`FrameDecoder`](super::FrameDecoder)).

use super::ie::IeType;

/// The peer sent bytes that are not a valid HFA frame or message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The length field announced a frame shorter than the 11 bytes of
    /// length, header and message type. The stream has lost its framing.
    #[error("frame length {len} is shorter than the 11-byte minimum")]
    FrameTooShort {
        /// The announced total frame length.
        len: usize,
    },
    /// The length field announced a frame longer than
    /// [`MAX_FRAME_LEN`](super::MAX_FRAME_LEN). The stream has lost its
    /// framing (or the peer is hostile).
    #[error("frame length {len} exceeds the maximum of {max}", max = super::MAX_FRAME_LEN)]
    FrameTooLong {
        /// The announced total frame length.
        len: usize,
    },
    /// A field runs past the end of its frame, IE or entry.
    #[error("truncated {what}")]
    Truncated {
        /// The field that is cut short.
        what: &'static str,
    },
    /// A length that contradicts the layout, e.g. an Alive body of 5 bytes or
    /// a display text longer than 255 bytes.
    #[error("{what} has a bad length {len}")]
    BadLength {
        /// The element whose length is wrong.
        what: &'static str,
        /// The length found.
        len: usize,
    },
    /// Header byte 2 is not the HFA protocol discriminator `0x01`.
    #[error("protocol discriminator {found:#04x} is not 0x01")]
    BadDiscriminator {
        /// The byte found.
        found: u8,
    },
    /// A subscriber number that is empty, too long, or not made of digits.
    #[error("subscriber number is not 1 to 32 ASCII digits")]
    InvalidDigits,
    /// A text field that must be ASCII is not.
    #[error("{what} is not ASCII")]
    NotAscii {
        /// The field.
        what: &'static str,
    },
    /// An address field that does not parse as an IP address.
    #[error("{what} is not a valid IP address")]
    InvalidAddress {
        /// The field.
        what: &'static str,
    },
    /// A mandatory information element is absent.
    #[error("missing information element {ie}")]
    MissingIe {
        /// The absent IE.
        ie: IeType,
    },
    /// An information element that may occur once occurs twice.
    #[error("duplicate information element {ie}")]
    DuplicateIe {
        /// The repeated IE.
        ie: IeType,
    },
}

impl DecodeError {
    /// True when the byte stream has lost its framing, so no later frame on
    /// the connection can be trusted. Other errors concern one frame only.
    pub fn is_framing(&self) -> bool {
        matches!(self, Self::FrameTooShort { .. } | Self::FrameTooLong { .. })
    }
}

/// A value built by this side cannot be put on the wire.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    /// The encoded frame would exceed [`MAX_FRAME_LEN`](super::MAX_FRAME_LEN).
    #[error("encoded frame of {len} bytes exceeds the maximum of {max}", max = super::MAX_FRAME_LEN)]
    FrameTooLong {
        /// The length the frame would have.
        len: usize,
    },
    /// The destination buffer has no room for the frame.
    #[error("buffer has room for {remaining} bytes, the frame needs {needed}")]
    BufferTooSmall {
        /// Bytes the frame needs.
        needed: usize,
        /// Bytes the buffer can still take.
        remaining: usize,
    },
    /// A field is longer than its length or count field can express.
    #[error("{what} has {len} elements, at most {max} fit")]
    TooLong {
        /// The field.
        what: &'static str,
        /// Its length or element count.
        len: usize,
        /// The most the wire format can express.
        max: usize,
    },
    /// A subscriber number that is empty, too long, or not made of digits.
    #[error("subscriber number is not 1 to 32 ASCII digits")]
    InvalidDigits,
    /// Display text with a character outside Latin-1 (ISO 8859-1).
    #[error("character {ch:?} is not in Latin-1")]
    NotLatin1 {
        /// The first offending character.
        ch: char,
    },
    /// A text field that must be ASCII is not.
    #[error("{what} is not ASCII")]
    NotAscii {
        /// The field.
        what: &'static str,
    },
}
