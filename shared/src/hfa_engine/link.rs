//! One HFA connection's framing state, common to both sides: the stream
//! decoder, the outgoing frames, this sender's sequence numbers (from 1) and
//! the session id the Register Response assigned.

use std::collections::VecDeque;

use bytes::{Buf, Bytes};

use crate::hfa::{
    Codec, DecodeError, EncodeError, Frame, FrameDecoder, Header, Message, SequenceNumber,
    SessionId,
};

/// A message this side built could not be encoded.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("cannot encode {message}: {error}")]
pub struct LinkError {
    message: String,
    #[source]
    error: EncodeError,
}

#[derive(Debug)]
pub(crate) struct Link {
    decoder: FrameDecoder,
    outgoing: VecDeque<Bytes>,
    next_sequence: SequenceNumber,
    session: SessionId,
}

impl Default for Link {
    fn default() -> Self {
        Self {
            decoder: FrameDecoder::new(),
            outgoing: VecDeque::new(),
            next_sequence: SequenceNumber::FIRST,
            session: SessionId::NONE,
        }
    }
}

impl Link {
    pub(crate) fn set_session(&mut self, session: SessionId) {
        self.session = session;
    }

    /// Encodes `message` with the next sequence number and queues it.
    pub(crate) fn queue(&mut self, message: Message) -> Result<(), LinkError> {
        let header = Header::new(self.session, self.next_sequence);
        let message_type = message.message_type();
        let bytes = Frame::new(header, message)
            .to_bytes()
            .map_err(|error| LinkError {
                message: format!("{message_type:?}"),
                error,
            })?;
        self.next_sequence = self.next_sequence.next();
        self.outgoing.push_back(bytes);
        Ok(())
    }

    pub(crate) fn poll_transmit(&mut self) -> Option<Bytes> {
        self.outgoing.pop_front()
    }

    /// The next complete frame in `input`; `Ok(None)` once `input` is used up.
    pub(crate) fn next_frame(
        &mut self,
        input: &mut impl Buf,
    ) -> Result<Option<Frame>, DecodeError> {
        self.decoder.decode(input)
    }
}
