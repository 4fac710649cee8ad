//! HFA ("HiPath Feature Access", CorNet-IP): the signalling protocol between
//! an HFA phone and an OpenScape Business system, on the wire.
//!
//! This module is the codec only: bytes to typed messages and back. The
//! registration engines build on it. Layouts observed in real traffic are
//! implemented exactly, so our traces read like real ones in Wireshark;
//! where no public decoding exists this project chose a layout, marked
//! *Ours* in the docs and described with offsets and hex examples in
//! `docs/hfa-protocol.md`.
//!
//! ```text
//! TCP bytes ─▶ FrameDecoder::decode ─▶ Frame { header, message: Message }
//! Frame::encode(&mut BytesMut) ─▶ TCP bytes
//! ```
//!
//! A connection owner feeds every received segment to its [`FrameDecoder`]
//! and handles frames until it returns `Ok(None)`; on a framing error it
//! closes the connection. To send, it builds a [`Frame`] and calls
//! [`Codec::encode`], which refuses frames over [`MAX_FRAME_LEN`].
//!
//! Codes are newtypes over their integer with named constants
//! ([`MessageType::REGISTER`], [`Key::fpk`]`(1)`, [`DeclineCause::WRONG_PASSWORD`]):
//! unknown values survive a round trip and print in hex.

mod alive;
mod auth;
mod capabilities;
mod code;
mod coding;
mod decline;
mod decoder;
mod error;
mod frame;
mod ids;
mod ie;
mod message;
mod payload;
mod register;
mod registration;
mod reply;
pub mod stimulus;
mod text;

pub use alive::{ALIVE_BODY_LEN, AliveRequest, AliveResponse, TIMESTAMP_REQUEST_LEN};
pub use auth::{registration_hash, verify_registration_hash};
pub use capabilities::{CapabilityEntry, CodecCapabilities, CodecEntry, EntryType};
pub use coding::Codec;
pub use decline::DeclineCause;
pub use decoder::FrameDecoder;
pub use error::{DecodeError, EncodeError};
pub use frame::{Frame, Header, MIN_FRAME_LEN, PROTOCOL_DISCRIMINATOR};
pub use ids::{MacAddress, MediaId, SequenceNumber, SessionId, Subscriber, Timestamp};
pub use ie::{IeType, RawIe};
pub use message::{Message, MessageType};
pub use payload::{MediaDirection, PayloadType, SetPayload};
pub use register::{AddressKind, DeviceAddress, Register, SubscriberNumber, TypeOfNumber};
pub use registration::{HashAlgorithm, PhoneId, REGISTRATION_DATA_MIN_LEN, RegistrationData};
pub use reply::{
    RegisterDecline, RegisterResponse, SecurityProfile, SignallingProtocol, SystemId,
    SystemIdentifier,
};
pub use stimulus::{Key, LedState, Stimulus, StimulusCode};
pub use text::Text;

/// The longest frame accepted or sent, in bytes, length field included.
/// HFA messages are small (the largest, a Register, is about 150 bytes);
/// the bound stops a corrupt or hostile length field from making a peer
/// buffer megabytes.
pub const MAX_FRAME_LEN: usize = 4096;
