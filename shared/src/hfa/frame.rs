//! The frame: length, header, message type, body.
//!
//! ```text
//! offset  size  field
//!  0      2     total frame length, u16 BE, counting these 2 bytes  (Known)
//!  2      1     protocol discriminator 0x01                         (Ours)
//!  3      1     flags, 0                                            (Ours)
//!  4      2     session id, u16 BE                                  (Ours)
//!  6      4     sequence number, u32 BE                             (Ours)
//! 10      1     message type                                        (Known)
//! 11      n     body                                                (Known)
//! ```

use bytes::{Buf, BufMut, BytesMut};

use super::MAX_FRAME_LEN;
use super::coding::{Codec, get_u8, get_u16, get_u32, need, take};
use super::error::{DecodeError, EncodeError};
use super::ids::{SequenceNumber, SessionId};
use super::message::{Message, MessageType};

/// Length field, header and message type: the smallest valid frame.
pub const MIN_FRAME_LEN: usize = 11;

/// The protocol discriminator in header byte 2 (Ours).
pub const PROTOCOL_DISCRIMINATOR: u8 = 0x01;

/// The 8 header bytes after the length field (offsets 2-9).
///
/// Ours: the flags byte is sent as 0 and ignored on receipt, so it is not
/// kept; a discriminator other than `0x01` is a
/// [`DecodeError::BadDiscriminator`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Header {
    /// The session, [`SessionId::NONE`] until registered.
    pub session: SessionId,
    /// The sender's sequence number of this frame.
    pub sequence: SequenceNumber,
}

impl Header {
    /// A header for `session` and `sequence`.
    pub fn new(session: SessionId, sequence: SequenceNumber) -> Self {
        Self { session, sequence }
    }
}

impl Codec for Header {
    fn decode<B: Buf>(buf: &mut B) -> Result<Self, DecodeError> {
        let discriminator = get_u8(buf, "protocol discriminator")?;
        if discriminator != PROTOCOL_DISCRIMINATOR {
            return Err(DecodeError::BadDiscriminator {
                found: discriminator,
            });
        }
        let _flags = get_u8(buf, "header flags")?;
        let session = SessionId(get_u16(buf, "session id")?);
        let sequence = SequenceNumber(get_u32(buf, "sequence number")?);
        Ok(Self { session, sequence })
    }

    fn encode<B: BufMut>(&self, buf: &mut B) -> Result<(), EncodeError> {
        buf.put_u8(PROTOCOL_DISCRIMINATOR);
        buf.put_u8(0);
        buf.put_u16(self.session.0);
        buf.put_u32(self.sequence.0);
        Ok(())
    }
}

/// One HFA frame: the header and a typed message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// Session and sequence number.
    pub header: Header,
    /// The message; its type is byte 10.
    pub message: Message,
}

impl Frame {
    /// A frame carrying `message`.
    pub fn new(header: Header, message: impl Into<Message>) -> Self {
        Self {
            header,
            message: message.into(),
        }
    }

    /// Checks the total length announced by a frame's first two bytes.
    pub fn check_len(len: usize) -> Result<(), DecodeError> {
        if len < MIN_FRAME_LEN {
            Err(DecodeError::FrameTooShort { len })
        } else if len > MAX_FRAME_LEN {
            Err(DecodeError::FrameTooLong { len })
        } else {
            Ok(())
        }
    }
}

/// Decodes exactly one frame from the front of `buf`, which must hold the
/// whole frame (use [`FrameDecoder`](super::FrameDecoder) for a byte stream).
impl Codec for Frame {
    fn decode<B: Buf>(buf: &mut B) -> Result<Self, DecodeError> {
        let len = usize::from(get_u16(buf, "frame length")?);
        Self::check_len(len)?;
        need(buf, len - 2, "frame")?;
        let header = Header::decode(buf)?;
        let message_type = MessageType(get_u8(buf, "message type")?);
        let mut body = take(buf, len - MIN_FRAME_LEN, "frame body")?;
        let message = Message::decode(message_type, &mut body)?;
        Ok(Self { header, message })
    }

    /// Writes the frame, or nothing if it would exceed [`MAX_FRAME_LEN`] or
    /// the room left in `buf`.
    fn encode<B: BufMut>(&self, buf: &mut B) -> Result<(), EncodeError> {
        let mut body = BytesMut::new();
        self.message.encode_body(&mut body)?;
        let len = MIN_FRAME_LEN + body.len();
        let wire_len = u16::try_from(len)
            .ok()
            .filter(|_| len <= MAX_FRAME_LEN)
            .ok_or(EncodeError::FrameTooLong { len })?;
        if buf.remaining_mut() < len {
            return Err(EncodeError::BufferTooSmall {
                needed: len,
                remaining: buf.remaining_mut(),
            });
        }
        buf.put_u16(wire_len);
        self.header.encode(buf)?;
        buf.put_u8(self.message.message_type().0);
        buf.put_slice(&body);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hfa::{AliveRequest, Stimulus, Text};

    fn header() -> Header {
        Header::new(SessionId(0x0102), SequenceNumber(0x0304_0506))
    }

    #[test]
    fn header_layout_is_discriminator_flags_session_sequence() -> Result<(), EncodeError> {
        let bytes = Frame::new(header(), AliveRequest::TimestampRequest).to_bytes()?;
        assert_eq!(bytes[..11], [0, 14, 1, 0, 1, 2, 3, 4, 5, 6, 0x28]);
        Ok(())
    }

    #[test]
    fn lengths_outside_the_bounds_are_rejected() {
        assert_eq!(
            Frame::from_bytes(&[0, 10]),
            Err(DecodeError::FrameTooShort { len: 10 })
        );
        assert_eq!(
            Frame::from_bytes(&[0x10, 1]),
            Err(DecodeError::FrameTooLong { len: 4097 })
        );
        assert_eq!(
            Frame::from_bytes(&[0, 11, 1]),
            Err(DecodeError::Truncated { what: "frame" })
        );
    }

    #[test]
    fn wrong_discriminator_is_rejected() {
        let bytes = [0, 11, 2, 0, 0, 0, 0, 0, 0, 1, 0x53];
        assert_eq!(
            Frame::from_bytes(&bytes),
            Err(DecodeError::BadDiscriminator { found: 2 })
        );
    }

    #[test]
    fn oversized_frames_and_small_buffers_are_refused_before_writing() -> Result<(), EncodeError> {
        let frame = Frame::new(header(), Stimulus::PartNumber(Text::new(&"x".repeat(255))?));
        let mut small = [0u8; 20];
        let mut slice = &mut small[..];
        assert!(matches!(
            frame.encode(&mut slice),
            Err(EncodeError::BufferTooSmall { .. })
        ));
        assert_eq!(small, [0; 20]);
        let huge = Message::Unknown {
            message_type: MessageType(0x99),
            body: vec![0; 4086].into(),
        };
        let frame = Frame::new(header(), huge);
        assert_eq!(
            frame.to_bytes(),
            Err(EncodeError::FrameTooLong { len: 4097 })
        );
        Ok(())
    }
}
