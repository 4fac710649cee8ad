//! Message types and the typed [`Message`] carried by a frame.

use bytes::{Buf, BufMut, Bytes};

use super::alive::{AliveRequest, AliveResponse};
use super::capabilities::CodecCapabilities;
use super::code::wire_code;
use super::coding::{Codec, rest};
use super::error::{DecodeError, EncodeError};
use super::payload::SetPayload;
use super::register::Register;
use super::reply::{RegisterDecline, RegisterResponse};
use super::stimulus::Stimulus;

wire_code! {
    /// The message type, frame byte 10 (Known codes).
    pub struct MessageType(u8) {
        /// Phone → system: registration with subscriber and password hash.
        REGISTER = 0x04 => "Register",
        /// System → phone: registration accepted.
        REGISTER_RESPONSE = 0x06 => "Register Response",
        /// System → phone: registration refused, with a cause.
        REGISTER_DECLINE = 0x07 => "Register Decline",
        /// Both: keys and hook switch up, display, LEDs, ringer, tones down.
        STIMULUS = 0x20 => "Stimulus",
        /// Both: keep-alive, or (3-byte body) a request for the system time.
        ALIVE_REQUEST = 0x28 => "Alive Request",
        /// Both: answer to an Alive Request, with a timestamp.
        ALIVE_RESPONSE = 0x2a => "Alive Response",
        /// Phone → system: the codecs and media address the phone offers.
        CODEC_CAPABILITIES = 0x30 => "Codec Capabilities",
        /// System → phone: start, change or stop the media path.
        SET_PAYLOAD = 0x31 => "Set Payload",
    }
}

/// A decoded message body, by message type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// 0x04.
    Register(Register),
    /// 0x06.
    RegisterResponse(RegisterResponse),
    /// 0x07.
    RegisterDecline(RegisterDecline),
    /// 0x20.
    Stimulus(Stimulus),
    /// 0x28.
    AliveRequest(AliveRequest),
    /// 0x2a.
    AliveResponse(AliveResponse),
    /// 0x30.
    CodecCapabilities(CodecCapabilities),
    /// 0x31.
    SetPayload(SetPayload),
    /// A message type this crate does not know, kept as raw bytes so it can
    /// be logged and forwarded unchanged.
    Unknown {
        /// Frame byte 10.
        message_type: MessageType,
        /// Everything after it.
        body: Bytes,
    },
}

impl Message {
    /// The type byte this message is sent with.
    pub fn message_type(&self) -> MessageType {
        match self {
            Self::Register(_) => MessageType::REGISTER,
            Self::RegisterResponse(_) => MessageType::REGISTER_RESPONSE,
            Self::RegisterDecline(_) => MessageType::REGISTER_DECLINE,
            Self::Stimulus(_) => MessageType::STIMULUS,
            Self::AliveRequest(_) => MessageType::ALIVE_REQUEST,
            Self::AliveResponse(_) => MessageType::ALIVE_RESPONSE,
            Self::CodecCapabilities(_) => MessageType::CODEC_CAPABILITIES,
            Self::SetPayload(_) => MessageType::SET_PAYLOAD,
            Self::Unknown { message_type, .. } => *message_type,
        }
    }

    /// Decodes the body of a message of type `message_type`; `body` holds
    /// exactly the body (frame bytes 11 to the end).
    pub fn decode<B: Buf>(message_type: MessageType, body: &mut B) -> Result<Self, DecodeError> {
        Ok(match message_type {
            MessageType::REGISTER => Self::Register(Codec::decode(body)?),
            MessageType::REGISTER_RESPONSE => Self::RegisterResponse(Codec::decode(body)?),
            MessageType::REGISTER_DECLINE => Self::RegisterDecline(Codec::decode(body)?),
            MessageType::STIMULUS => Self::Stimulus(Codec::decode(body)?),
            MessageType::ALIVE_REQUEST => Self::AliveRequest(Codec::decode(body)?),
            MessageType::ALIVE_RESPONSE => Self::AliveResponse(Codec::decode(body)?),
            MessageType::CODEC_CAPABILITIES => Self::CodecCapabilities(Codec::decode(body)?),
            MessageType::SET_PAYLOAD => Self::SetPayload(Codec::decode(body)?),
            _ => Self::Unknown {
                message_type,
                body: rest(body),
            },
        })
    }

    /// Appends the body (without the type byte) to `buf`.
    pub fn encode_body<B: BufMut>(&self, buf: &mut B) -> Result<(), EncodeError> {
        match self {
            Self::Register(m) => m.encode(buf),
            Self::RegisterResponse(m) => m.encode(buf),
            Self::RegisterDecline(m) => m.encode(buf),
            Self::Stimulus(m) => m.encode(buf),
            Self::AliveRequest(m) => m.encode(buf),
            Self::AliveResponse(m) => m.encode(buf),
            Self::CodecCapabilities(m) => m.encode(buf),
            Self::SetPayload(m) => m.encode(buf),
            Self::Unknown { body, .. } => {
                buf.put_slice(body);
                Ok(())
            }
        }
    }
}

/// `impl From<$ty> for Message` for each typed body.
macro_rules! into_message {
    ($($variant:ident($ty:ty)),* $(,)?) => {
        $(impl From<$ty> for Message {
            fn from(message: $ty) -> Self {
                Self::$variant(message)
            }
        })*
    };
}

into_message! {
    Register(Register),
    RegisterResponse(RegisterResponse),
    RegisterDecline(RegisterDecline),
    Stimulus(Stimulus),
    AliveRequest(AliveRequest),
    AliveResponse(AliveResponse),
    CodecCapabilities(CodecCapabilities),
    SetPayload(SetPayload),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_message_types_round_trip_raw() -> Result<(), Box<dyn std::error::Error>> {
        let mut body: &[u8] = &[1, 2, 3];
        let message = Message::decode(MessageType(0x99), &mut body)?;
        assert_eq!(message.message_type(), MessageType(0x99));
        let mut out = Vec::new();
        message.encode_body(&mut out)?;
        assert_eq!(out, [1, 2, 3]);
        assert_eq!(
            format!("{:?}", MessageType::REGISTER),
            "MessageType(0x04 Register)"
        );
        Ok(())
    }
}
