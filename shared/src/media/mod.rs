//! Media for one call, sans-IO: RTP packetisation and RTCP reports
//! (RFC 3550), G.711, G.722 and Opus, an adaptive jitter buffer, loss concealment,
//! DTMF as RFC 4733 telephone-events, and call quality figures with an
//! E-model MOS estimate.
//!
//! [`MediaSession`] is the engine of one RTP stream pair; its owner (a
//! socket driver and an audio driver) runs the loop in
//! [`session`]. The parts it is built from are public for
//! tests, tools and the gateway:
//!
//! | module | what |
//! |---|---|
//! | [`rtp`], [`rtcp`] | packets on the wire (`rtp-types`, `rtcp-types`) |
//! | [`codec`] | [`Codec`], rates, payload types, [`negotiate`] |
//! | [`coder`] | encoder and decoder objects, with loss repair |
//! | [`plc`] | pitch-synchronous concealment of PCM (G.711, G.722), bridging into the next frame |
//! | [`jitter`] | the adaptive jitter buffer |
//! | [`dtmf`] | RFC 4733 telephone-events |
//! | [`emodel`] | ITU-T G.107 rating and MOS |
//! | [`seq`], [`clock`] | wrap-safe numbering; time and NTP |
//!
//! Nothing here reads the clock or a socket: every call takes `now`, and
//! randomness comes from the seed given to [`MediaSession::new`].

pub mod clock;
pub mod codec;
pub mod coder;
mod delay;
pub mod dtmf;
pub mod emodel;
mod error;
mod ids;
pub mod jitter;
pub mod plc;
mod receive;
pub mod reception;
pub mod rtcp;
pub mod rtp;
mod send;
pub mod seq;
pub mod session;
mod stats;

pub use codec::{Codec, OpusBandwidth, negotiate};
pub use error::{CodecError, EncodeError, MediaError, RtcpError, RtpError};
pub use ids::{PayloadType, Ssrc};
pub use jitter::JitterConfig;
pub use session::{Channel, FrameSource, MediaEvent, MediaSession, SessionConfig, Transmit};
pub use stats::StreamStats;
