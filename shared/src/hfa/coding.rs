//! The one decode/encode trait of the HFA codec, and bounds-checked readers.
//!
//! Modelled on quinn's `coding.rs`: every wire type reads itself from a
//! [`Buf`] and writes itself to a [`BufMut`]. `bytes`' own getters panic when
//! the buffer is short; the helpers here check first and return
//! [`DecodeError::Truncated`] instead, so no input can panic the decoder.

use bytes::{Buf, BufMut, Bytes, BytesMut};

use super::error::{DecodeError, EncodeError};

/// A value with an HFA wire form.
///
/// `decode` reads one value from the front of `buf`. Values that extend to
/// the end of their container (a message body, an IE value) consume all of
/// `buf`; the caller hands them a buffer limited to that container.
pub trait Codec: Sized {
    /// Reads one value from the front of `buf`.
    fn decode<B: Buf>(buf: &mut B) -> Result<Self, DecodeError>;

    /// Appends the wire form to `buf`, which must be able to grow (a
    /// `BytesMut` or `Vec<u8>`); [`Frame::encode`](super::Frame::encode) is
    /// the entry point that checks the room in fixed-size buffers.
    fn encode<B: BufMut>(&self, buf: &mut B) -> Result<(), EncodeError>;

    /// Decodes a value from the front of `bytes`.
    fn from_bytes(mut bytes: &[u8]) -> Result<Self, DecodeError> {
        Self::decode(&mut bytes)
    }

    /// The wire form as a new buffer.
    fn to_bytes(&self) -> Result<Bytes, EncodeError> {
        let mut out = BytesMut::new();
        self.encode(&mut out)?;
        Ok(out.freeze())
    }
}

/// Fails with `Truncated { what }` unless `buf` holds `n` more bytes.
pub(crate) fn need<B: Buf>(buf: &B, n: usize, what: &'static str) -> Result<(), DecodeError> {
    if buf.remaining() < n {
        Err(DecodeError::Truncated { what })
    } else {
        Ok(())
    }
}

/// Reads one byte.
pub(crate) fn get_u8<B: Buf>(buf: &mut B, what: &'static str) -> Result<u8, DecodeError> {
    need(buf, 1, what)?;
    Ok(buf.get_u8())
}

/// Reads a big-endian u16.
pub(crate) fn get_u16<B: Buf>(buf: &mut B, what: &'static str) -> Result<u16, DecodeError> {
    need(buf, 2, what)?;
    Ok(buf.get_u16())
}

/// Reads a big-endian u32.
pub(crate) fn get_u32<B: Buf>(buf: &mut B, what: &'static str) -> Result<u32, DecodeError> {
    need(buf, 4, what)?;
    Ok(buf.get_u32())
}

/// Reads a fixed-size byte array.
pub(crate) fn get_array<const N: usize, B: Buf>(
    buf: &mut B,
    what: &'static str,
) -> Result<[u8; N], DecodeError> {
    need(buf, N, what)?;
    let mut out = [0; N];
    buf.copy_to_slice(&mut out);
    Ok(out)
}

/// Takes the next `n` bytes.
pub(crate) fn take<B: Buf>(
    buf: &mut B,
    n: usize,
    what: &'static str,
) -> Result<Bytes, DecodeError> {
    need(buf, n, what)?;
    Ok(buf.copy_to_bytes(n))
}

/// Skips `n` bytes (fields this side ignores).
pub(crate) fn skip<B: Buf>(buf: &mut B, n: usize, what: &'static str) -> Result<(), DecodeError> {
    need(buf, n, what)?;
    buf.advance(n);
    Ok(())
}

/// Takes everything left in `buf`.
pub(crate) fn rest<B: Buf>(buf: &mut B) -> Bytes {
    let n = buf.remaining();
    buf.copy_to_bytes(n)
}

/// A length or count as the `u8` its field holds.
pub(crate) fn len_u8(len: usize, what: &'static str) -> Result<u8, EncodeError> {
    u8::try_from(len).map_err(|_| EncodeError::TooLong {
        what,
        len,
        max: u8::MAX.into(),
    })
}

/// A length as the `u16` its field holds.
pub(crate) fn len_u16(len: usize, what: &'static str) -> Result<u16, EncodeError> {
    u16::try_from(len).map_err(|_| EncodeError::TooLong {
        what,
        len,
        max: u16::MAX.into(),
    })
}

/// Test helper: encodes `value`, decodes the bytes, checks that the result
/// equals `value` and that decoding consumed everything; returns the bytes.
#[cfg(test)]
pub(crate) fn round_trip<T: Codec + PartialEq + core::fmt::Debug>(value: &T) -> Bytes {
    let bytes = match value.to_bytes() {
        Ok(bytes) => bytes,
        Err(e) => panic!("encoding {value:?}: {e}"),
    };
    let mut buf = bytes.clone();
    match T::decode(&mut buf) {
        Ok(decoded) => assert_eq!(&decoded, value, "round trip of {bytes:02x?}"),
        Err(e) => panic!("decoding {bytes:02x?}: {e}"),
    }
    assert!(!buf.has_remaining(), "{} bytes left over", buf.remaining());
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_reads_are_errors_not_panics() {
        let mut buf: &[u8] = &[1, 2, 3];
        assert_eq!(
            get_u32(&mut buf, "x"),
            Err(DecodeError::Truncated { what: "x" })
        );
        assert_eq!(get_u16(&mut buf, "y"), Ok(0x0102));
        assert!(take(&mut buf, 2, "z").is_err());
        assert!(skip(&mut buf, 2, "z").is_err());
        assert_eq!(get_array::<1, _>(&mut buf, "a"), Ok([3]));
        assert!(get_u8(&mut buf, "b").is_err());
        assert_eq!(rest(&mut buf).len(), 0);
    }

    #[test]
    fn lengths_that_do_not_fit_their_field_are_errors() {
        assert_eq!(len_u8(255, "t"), Ok(255));
        assert!(len_u8(256, "t").is_err());
        assert!(len_u16(65_536, "t").is_err());
    }
}
