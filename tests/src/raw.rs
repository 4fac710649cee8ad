//! A hand-driven HFA client over a real TCP socket: it sends exactly the
//! frames a test chooses (a replayed Register, silence where a phone would
//! answer), which the well-behaved phone engine never would.

use std::net::SocketAddr;

use bytes::Bytes;
use shared::hfa::{
    AliveRequest, Codec, Frame, FrameDecoder, Header, Message, PhoneId, Register, RegistrationData,
    SequenceNumber, SessionId, Subscriber, SubscriberNumber, Timestamp,
};
use shared::secret::Secret;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::PATIENCE;

pub struct RawPhone {
    stream: TcpStream,
    decoder: FrameDecoder,
    pending: Vec<u8>,
    sequence: SequenceNumber,
}

impl RawPhone {
    pub async fn connect(gateway: SocketAddr) -> Self {
        let stream = match TcpStream::connect(gateway).await {
            Ok(stream) => stream,
            Err(error) => panic!("cannot connect to {gateway}: {error}"),
        };
        Self {
            stream,
            decoder: FrameDecoder::new(),
            pending: Vec::new(),
            sequence: SequenceNumber::FIRST,
        }
    }

    /// Sends `message` in a frame of its own; returns the frame's bytes.
    pub async fn send(&mut self, message: impl Into<Message>) -> Bytes {
        let frame = Frame::new(Header::new(SessionId::NONE, self.sequence), message);
        self.sequence = self.sequence.next();
        let bytes = frame.to_bytes().expect("test frames encode");
        self.send_bytes(&bytes).await;
        bytes
    }

    pub async fn send_bytes(&mut self, bytes: &[u8]) {
        self.stream
            .write_all(bytes)
            .await
            .expect("write to the gateway");
    }

    /// The next message, or `None` when the gateway closed the connection.
    pub async fn recv(&mut self) -> Option<Message> {
        let receive = async {
            loop {
                let mut input = self.pending.as_slice();
                let decoded = self
                    .decoder
                    .decode(&mut input)
                    .expect("the gateway sends valid HFA");
                let used = self.pending.len() - input.len();
                self.pending.drain(..used);
                if let Some(frame) = decoded {
                    return Some(frame.message);
                }
                let mut buffer = [0u8; 4096];
                match self.stream.read(&mut buffer).await {
                    Ok(0) | Err(_) => return None,
                    Ok(n) => self.pending.extend_from_slice(&buffer[..n]),
                }
            }
        };
        tokio::time::timeout(PATIENCE, receive)
            .await
            .expect("the gateway answers or closes")
    }

    /// Asks for a challenge and returns it.
    pub async fn request_challenge(&mut self) -> Timestamp {
        self.send(AliveRequest::TimestampRequest).await;
        match self.recv().await {
            Some(Message::AliveResponse(response)) => response.timestamp,
            other => panic!("expected the challenge, got {other:?}"),
        }
    }

    /// Sends a Register for `(number, password)` answering `challenge`;
    /// returns its bytes (for replay).
    pub async fn register(
        &mut self,
        challenge: Timestamp,
        (number, password): (&str, &str),
    ) -> Bytes {
        let subscriber = Subscriber::new(number).expect("test numbers are digits");
        let registration = RegistrationData::signed(
            PhoneId::OPENSTAGE_60,
            challenge,
            &subscriber,
            &Secret::new(password),
            "V3R1.41.0",
        );
        let register = Register {
            device_address: None,
            subscriber: SubscriberNumber::internal(subscriber),
            mac: None,
            registration,
            other_ies: Vec::new(),
        };
        self.send(register).await
    }
}
