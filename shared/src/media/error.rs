//! Errors of the media layer.
//!
//! [`RtpError`] and [`RtcpError`] are peer misbehaviour: bytes from the
//! network that are not valid packets. A session counts them and carries
//! on; they never end a call. [`CodecError`] is a codec library refusing a
//! frame, and [`MediaError`] is local misuse: a session configuration that
//! cannot work, found when the session is built.

/// The peer sent bytes that are not a valid RTP packet (RFC 3550 §5.1).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RtpError {
    /// Shorter than the fixed header, or than its CSRC list, header
    /// extension or padding announce.
    #[error("RTP packet of {actual} bytes is truncated: {expected} needed")]
    Truncated {
        /// Bytes the header fields announce.
        expected: usize,
        /// Bytes received.
        actual: usize,
    },
    /// The version field is not 2.
    #[error("RTP version {0} is not 2")]
    UnsupportedVersion(u8),
    /// The padding bit is set but the padding count is zero.
    #[error("RTP padding count {0} is invalid")]
    BadPadding(u8),
}

impl From<rtp_types::RtpParseError> for RtpError {
    fn from(error: rtp_types::RtpParseError) -> Self {
        match error {
            rtp_types::RtpParseError::UnsupportedVersion(version) => {
                Self::UnsupportedVersion(version)
            }
            rtp_types::RtpParseError::Truncated { expected, actual } => {
                Self::Truncated { expected, actual }
            }
            rtp_types::RtpParseError::PaddingInvalid(count) => Self::BadPadding(count),
        }
    }
}

/// The peer sent bytes that are not a valid RTCP compound packet
/// (RFC 3550 §6), or a telephone-event payload that is too short.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum RtcpError {
    /// A packet or one of its fields does not follow RFC 3550 (length,
    /// version, padding, report count...), as `rtcp-types` found it.
    #[error("invalid RTCP packet: {0}")]
    Parse(#[from] rtcp_types::RtcpParseError),
}

/// A payload this crate cannot decode (peer misbehaviour), or a frame the
/// codec library refused to encode (local misuse).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodecError {
    /// The PCM frame does not hold the number of samples the session
    /// packetises (`pcm_rate` × `ptime`).
    #[error("frame of {actual} samples, expected {expected}")]
    FrameLength {
        /// Samples per frame of the session.
        expected: usize,
        /// Samples given.
        actual: usize,
    },
    /// A received payload does not last one frame (another packet size
    /// than the announced one, or an empty payload).
    #[error("payload lasts {actual} samples, expected {expected}")]
    PayloadDuration {
        /// Samples per frame of the session.
        expected: usize,
        /// Samples the payload carries, 0 when it cannot be told.
        actual: usize,
    },
    /// libopus refused the frame or the packet.
    #[error("opus: {0}")]
    Opus(#[from] audiopus::Error),
    /// A telephone-event payload shorter than its 4 bytes (RFC 4733 §2.3).
    #[error("telephone-event payload of {0} bytes, 4 needed")]
    TelephoneEvent(usize),
}

/// A session configuration that cannot work.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MediaError {
    /// The packet time is not one the codec can packetise: 10 to 60 ms in
    /// steps of 10 ms for G.711, 10, 20, 40 or 60 ms for Opus.
    #[error("packet time of {ms} ms is not supported by {codec}")]
    UnsupportedPtime {
        /// The configured packet time, in milliseconds (rounded down).
        ms: u128,
        /// The codec's name.
        codec: &'static str,
    },
    /// A payload type outside 0..=127, or the DTMF payload type equal to the
    /// audio one.
    #[error("payload type {0} is invalid or clashes with the audio payload type")]
    BadPayloadType(u8),
    /// The jitter buffer settings contradict each other.
    #[error("jitter buffer configuration: {0}")]
    BadJitterConfig(&'static str),
    /// The codec library could not build an encoder or decoder.
    #[error("codec set-up failed: {0}")]
    Codec(#[from] CodecError),
}

/// A packet this side built cannot be written (local misuse).
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    /// `rtp-types` refused the RTP header (a payload type over 127).
    #[error("RTP packet cannot be written: {0}")]
    Rtp(#[from] rtp_types::RtpWriteError),
    /// `rtcp-types` refused the RTCP packet (too many report blocks, a
    /// CNAME over 255 bytes...).
    #[error("RTCP packet cannot be written: {0}")]
    Rtcp(#[from] rtcp_types::RtcpWriteError),
}

/// Appends what `write` puts into `len` new bytes at the end of `out`, or
/// leaves `out` as it was when `write` refuses (the RTP and RTCP writers
/// size their packet first, then write into the space).
pub(super) fn append_written<E>(
    out: &mut bytes::BytesMut,
    len: usize,
    write: impl FnOnce(&mut [u8]) -> Result<usize, E>,
) -> Result<(), EncodeError>
where
    EncodeError: From<E>,
{
    let start = out.len();
    out.resize(start + len, 0);
    let written = match out.get_mut(start..) {
        Some(space) => write(space),
        None => Ok(0),
    };
    if written.is_err() {
        out.truncate(start);
    }
    written.map(drop).map_err(EncodeError::from)
}
