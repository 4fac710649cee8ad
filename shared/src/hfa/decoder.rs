//! [`FrameDecoder`]: frames out of a TCP byte stream.
//!
//! TCP delivers bytes, not frames: one segment may hold half a frame or
//! several. The decoder keeps at most one partial frame, whose size the
//! length field bounds by [`MAX_FRAME_LEN`](super::MAX_FRAME_LEN), and takes
//! from its input only the bytes that frame still needs, so its memory is
//! bounded whatever the peer sends.

use bytes::{Buf, BytesMut};

use super::coding::Codec;
use super::error::DecodeError;
use super::frame::Frame;

/// Length of the length field.
const LEN_FIELD: usize = 2;

/// Splits a byte stream into frames and decodes them.
///
/// ```
/// use shared::hfa::{FrameDecoder, Message};
///
/// let mut decoder = FrameDecoder::new();
/// // An Alive Request (timestamp request), arriving in two segments.
/// let frame = [0, 14, 1, 0, 0, 0, 0, 0, 0, 1, 0x28, 0, 0, 0];
/// let mut first = &frame[..5];
/// assert_eq!(decoder.decode(&mut first), Ok(None));
/// let mut second = &frame[5..];
/// let decoded = decoder.decode(&mut second).unwrap().unwrap();
/// assert!(matches!(decoded.message, Message::AliveRequest(_)));
/// ```
#[derive(Debug, Default)]
pub struct FrameDecoder {
    /// The bytes of the frame being assembled.
    partial: BytesMut,
    /// The framing error that ended the stream, if any.
    failed: Option<DecodeError>,
}

impl FrameDecoder {
    /// A decoder at the start of a stream.
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes bytes from `input` until a frame is complete, and decodes it.
    ///
    /// Call it in a loop with the same `input` until it returns `Ok(None)`:
    /// then `input` is empty and any partial frame is kept for the next
    /// call. An `Err` that [`is_framing`](DecodeError::is_framing) means the
    /// stream cannot be resynchronised: this and every later call return it,
    /// and the owner closes the connection. Any other `Err` concerns one
    /// well-delimited frame, whose bytes are consumed; the owner may close
    /// the connection or go on with the next frame.
    pub fn decode<B: Buf>(&mut self, input: &mut B) -> Result<Option<Frame>, DecodeError> {
        if let Some(error) = &self.failed {
            return Err(error.clone());
        }
        let Some(len) = self.frame_len(input) else {
            return Ok(None);
        };
        if let Err(error) = Frame::check_len(len) {
            self.failed = Some(error.clone());
            return Err(error);
        }
        self.fill(input, len);
        if self.partial.len() < len {
            return Ok(None);
        }
        let mut frame = self.partial.split().freeze();
        Frame::decode(&mut frame).map(Some)
    }

    /// Bytes of an incomplete frame held back. Non-zero when the peer
    /// closes the connection means it closed in the middle of a frame.
    pub fn buffered(&self) -> usize {
        self.partial.len()
    }

    /// The framing error that ended the stream, if one did.
    pub fn error(&self) -> Option<&DecodeError> {
        self.failed.as_ref()
    }

    /// The announced length of the current frame, once its 2 bytes are here.
    fn frame_len<B: Buf>(&mut self, input: &mut B) -> Option<usize> {
        self.fill(input, LEN_FIELD);
        let &[high, low] = self.partial.first_chunk::<LEN_FIELD>()?;
        Some(usize::from(u16::from_be_bytes([high, low])))
    }

    /// Moves bytes from `input` until `partial` holds `target` bytes.
    fn fill<B: Buf>(&mut self, input: &mut B, target: usize) {
        while self.partial.len() < target {
            let chunk = input.chunk();
            let wanted = target - self.partial.len();
            let Some(bytes) = chunk
                .get(..wanted.min(chunk.len()))
                .filter(|b| !b.is_empty())
            else {
                return;
            };
            self.partial.extend_from_slice(bytes);
            let taken = bytes.len();
            input.advance(taken);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hfa::MAX_FRAME_LEN;

    const STOP_TONE: [u8; 12] = [0, 12, 1, 0, 0, 0, 0, 0, 0, 1, 0x20, 0x59];

    #[test]
    fn memory_stays_bounded_by_one_frame() {
        let mut decoder = FrameDecoder::new();
        let mut head: &[u8] = &[0x10, 0x00, 1, 0];
        assert_eq!(decoder.decode(&mut head), Ok(None));
        assert_eq!(decoder.buffered(), 4);
        let zeros = vec![0u8; 10_000];
        let mut input = &zeros[..];
        assert!(matches!(decoder.decode(&mut input), Ok(Some(_))));
        assert_eq!(input.len(), 10_000 - (MAX_FRAME_LEN - 4));
        assert_eq!(decoder.buffered(), 0);
        assert_eq!(
            decoder.decode(&mut input),
            Err(DecodeError::FrameTooShort { len: 0 })
        );
        assert_eq!(decoder.buffered(), 2);
    }

    #[test]
    fn framing_errors_are_sticky_and_body_errors_are_not() {
        let mut decoder = FrameDecoder::new();
        let mut bad_body: &[u8] = &[0, 11, 1, 0, 0, 0, 0, 0, 0, 1, 0x20];
        assert!(matches!(decoder.decode(&mut bad_body), Err(e) if !e.is_framing()));
        let mut next = &STOP_TONE[..];
        assert!(matches!(decoder.decode(&mut next), Ok(Some(_))));
        let mut zero: &[u8] = &[0, 0];
        let error = DecodeError::FrameTooShort { len: 0 };
        assert_eq!(decoder.decode(&mut zero), Err(error.clone()));
        let mut again = &STOP_TONE[..];
        assert_eq!(decoder.decode(&mut again), Err(error.clone()));
        assert_eq!(decoder.error(), Some(&error));
    }
}
