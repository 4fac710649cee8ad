//! Alive Request (0x28) and Alive Response (0x2a).
//!
//! Known: an Alive Request with a 3-byte body asks for the system time (the
//! phone does this at start-up; the answer is the Register challenge).
//! Otherwise both carry a 4-byte timestamp at body offset 6.
//!
//! Ours: the 3-byte timestamp request is three zero bytes; a timestamp body
//! is 10 bytes, offsets 0-5 zero, 6-9 the timestamp (seconds, u32 BE).
//! On receipt the zero bytes are not checked, and bytes after offset 9 are
//! ignored.

use bytes::{Buf, BufMut};

use super::coding::{Codec, get_u32, skip};
use super::error::{DecodeError, EncodeError};
use super::ids::Timestamp;

/// Body length of a timestamp request.
pub const TIMESTAMP_REQUEST_LEN: usize = 3;

/// Body length of an Alive message carrying a timestamp (Ours).
pub const ALIVE_BODY_LEN: usize = 10;

/// Offset of the timestamp in the body (Known).
const TIMESTAMP_OFFSET: usize = 6;

/// Alive Request body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AliveRequest {
    /// A 3-byte body: "send me the system time".
    TimestampRequest,
    /// A keep-alive carrying the sender's time.
    KeepAlive(Timestamp),
}

/// Alive Response body: always a timestamp (the answer to a timestamp
/// request is the Register challenge).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AliveResponse {
    /// The sender's time, seconds.
    pub timestamp: Timestamp,
}

fn decode_timestamp<B: Buf>(buf: &mut B, what: &'static str) -> Result<Timestamp, DecodeError> {
    if buf.remaining() < ALIVE_BODY_LEN {
        return Err(DecodeError::BadLength {
            what,
            len: buf.remaining(),
        });
    }
    skip(buf, TIMESTAMP_OFFSET, what)?;
    let timestamp = Timestamp(get_u32(buf, "alive timestamp")?);
    buf.advance(buf.remaining());
    Ok(timestamp)
}

fn encode_timestamp<B: BufMut>(buf: &mut B, timestamp: Timestamp) {
    buf.put_bytes(0, TIMESTAMP_OFFSET);
    buf.put_u32(timestamp.0);
}

impl Codec for AliveRequest {
    fn decode<B: Buf>(buf: &mut B) -> Result<Self, DecodeError> {
        if buf.remaining() == TIMESTAMP_REQUEST_LEN {
            buf.advance(TIMESTAMP_REQUEST_LEN);
            return Ok(Self::TimestampRequest);
        }
        decode_timestamp(buf, "alive request").map(Self::KeepAlive)
    }

    fn encode<B: BufMut>(&self, buf: &mut B) -> Result<(), EncodeError> {
        match self {
            Self::TimestampRequest => buf.put_bytes(0, TIMESTAMP_REQUEST_LEN),
            Self::KeepAlive(timestamp) => encode_timestamp(buf, *timestamp),
        }
        Ok(())
    }
}

impl Codec for AliveResponse {
    fn decode<B: Buf>(buf: &mut B) -> Result<Self, DecodeError> {
        decode_timestamp(buf, "alive response").map(|timestamp| Self { timestamp })
    }

    fn encode<B: BufMut>(&self, buf: &mut B) -> Result<(), EncodeError> {
        encode_timestamp(buf, self.timestamp);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hfa::coding::round_trip;

    #[test]
    fn both_forms_round_trip() {
        assert_eq!(&round_trip(&AliveRequest::TimestampRequest)[..], [0, 0, 0]);
        let keep_alive = AliveRequest::KeepAlive(Timestamp(0x6553_f100));
        assert_eq!(
            &round_trip(&keep_alive)[..],
            [0, 0, 0, 0, 0, 0, 0x65, 0x53, 0xf1, 0]
        );
        round_trip(&AliveResponse {
            timestamp: Timestamp(7),
        });
    }

    #[test]
    fn other_lengths_are_rejected_and_longer_bodies_tolerated() {
        let five = AliveRequest::from_bytes(&[0; 5]);
        assert_eq!(
            five,
            Err(DecodeError::BadLength {
                what: "alive request",
                len: 5
            })
        );
        let three = AliveResponse::from_bytes(&[0; 3]);
        assert_eq!(
            three,
            Err(DecodeError::BadLength {
                what: "alive response",
                len: 3
            })
        );
        let long = AliveResponse::from_bytes(&[9, 9, 9, 9, 9, 9, 0, 0, 0, 1, 0xee]);
        assert_eq!(
            long,
            Ok(AliveResponse {
                timestamp: Timestamp(1)
            })
        );
    }
}
