//! A hand-driven HFA client over a real TCP socket: it sends exactly the
//! frames a test chooses (a replayed Register, silence where a phone would
//! answer), which the well-behaved phone engine never would.
//!
//! Tests use the panicking methods; the `try_` ones and [`next_message`]
//! report failures instead, for the call benchmark's baseline, whose
//! phones ping the gateway with Alive Requests.
//!
//! [`next_message`]: RawPhone::next_message

use std::net::{IpAddr, SocketAddr};

use bytes::Bytes;
use shared::hfa::{
    AliveRequest, Codec, DecodeError, Frame, FrameDecoder, Header, Message, PhoneId, Register,
    RegistrationData, SequenceNumber, SessionId, Subscriber, SubscriberNumber, Timestamp,
};
use shared::secret::Secret;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

use crate::PATIENCE;

pub struct RawPhone {
    stream: TcpStream,
    decoder: FrameDecoder,
    pending: Vec<u8>,
    sequence: SequenceNumber,
}

impl RawPhone {
    pub async fn connect(gateway: SocketAddr) -> Self {
        match Self::try_connect(gateway).await {
            Ok(phone) => phone,
            Err(error) => panic!("cannot connect to {gateway}: {error}"),
        }
    }

    pub async fn try_connect(gateway: SocketAddr) -> std::io::Result<Self> {
        Self::from_stream(TcpStream::connect(gateway).await?)
    }

    /// Connects from `source` (e.g. an address outside the company LAN).
    pub async fn connect_from(gateway: SocketAddr, source: IpAddr) -> Self {
        let connected = async {
            let socket = TcpSocket::new_v4()?;
            socket.bind(SocketAddr::new(source, 0))?;
            Self::from_stream(socket.connect(gateway).await?)
        };
        match connected.await {
            Ok(phone) => phone,
            Err(error) => panic!("cannot connect from {source} to {gateway}: {error}"),
        }
    }

    fn from_stream(stream: TcpStream) -> std::io::Result<Self> {
        stream.set_nodelay(true)?;
        Ok(Self {
            stream,
            decoder: FrameDecoder::new(),
            pending: Vec::new(),
            sequence: SequenceNumber::FIRST,
        })
    }

    /// Sends `message` in a frame of its own; returns the frame's bytes.
    pub async fn send(&mut self, message: impl Into<Message>) -> Bytes {
        self.try_send(message)
            .await
            .expect("test frames encode and reach the gateway")
    }

    pub async fn try_send(&mut self, message: impl Into<Message>) -> std::io::Result<Bytes> {
        let frame = Frame::new(Header::new(SessionId::NONE, self.sequence), message);
        self.sequence = self.sequence.next();
        let bytes = frame.to_bytes().map_err(std::io::Error::other)?;
        self.stream.write_all(&bytes).await?;
        Ok(bytes)
    }

    pub async fn send_bytes(&mut self, bytes: &[u8]) {
        self.stream
            .write_all(bytes)
            .await
            .expect("write to the gateway");
    }

    /// The next message, or `None` when the gateway closed the connection.
    pub async fn recv(&mut self) -> Option<Message> {
        tokio::time::timeout(PATIENCE, self.next_message())
            .await
            .expect("the gateway answers or closes")
            .expect("the gateway sends valid HFA")
    }

    /// The next message, with no time limit; `Ok(None)` when the gateway
    /// closed the connection.
    pub async fn next_message(&mut self) -> Result<Option<Message>, DecodeError> {
        loop {
            let mut input = self.pending.as_slice();
            let decoded = self.decoder.decode(&mut input)?;
            let used = self.pending.len() - input.len();
            self.pending.drain(..used);
            if let Some(frame) = decoded {
                return Ok(Some(frame.message));
            }
            let mut buffer = [0u8; 4096];
            match self.stream.read(&mut buffer).await {
                Ok(0) | Err(_) => return Ok(None),
                Ok(n) => self.pending.extend_from_slice(&buffer[..n]),
            }
        }
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
        let register = register_message(challenge, subscriber, &Secret::new(password));
        self.send(register).await
    }
}

/// A Register of an OpenStage 60 for `subscriber`, signed with `password`
/// over `challenge`.
pub fn register_message(
    challenge: Timestamp,
    subscriber: Subscriber,
    password: &Secret,
) -> Register {
    let registration = RegistrationData::signed(
        PhoneId::OPENSTAGE_60,
        challenge,
        &subscriber,
        password,
        "V3R1.41.0",
    );
    Register {
        device_address: None,
        subscriber: SubscriberNumber::internal(subscriber),
        mac: None,
        registration,
        other_ies: Vec::new(),
    }
}
