//! The system (gateway) side of one HFA connection, sans-IO.
//!
//! The engine owns the protocol: it answers the phone's timestamp request
//! with an unpredictable, single-use challenge (at most
//! [`MAX_CHALLENGES_PER_CONNECTION`] per connection), checks that a Register
//! answers one of *those* challenges on *this* connection within
//! `challenge_lifetime`, keeps the connection alive and notices a dead
//! phone. The owner owns the policy: it
//! receives [`SystemEvent::RegisterRequest`], checks subscriber, password
//! (with [`RegistrationProof::verify`]), licence, flags and version against
//! its configuration, and calls [`SystemConnection::accept`] or
//! [`SystemConnection::decline`].

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;

use super::challenge::ChallengeIssuer;
use super::link::{Link, LinkError};
use crate::hfa::{
    AliveRequest, AliveResponse, DeclineCause, DeviceAddress, MacAddress, Message, PhoneId,
    Register, RegisterDecline, RegisterResponse, SessionId, Subscriber, Timestamp,
    verify_registration_hash,
};
use crate::secret::Secret;

/// Challenges a connection may ask for before it registers. A phone asks
/// once; a connection asking for more is not a phone and is closed, so one
/// connection cannot collect challenges by the thousand.
pub const MAX_CHALLENGES_PER_CONNECTION: usize = 3;

/// Keepalive and registration timing of the system side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SystemTimers {
    /// Alive Request period while registered.
    pub alive_interval: Duration,
    /// A request unanswered (or a phone silent) this long means it is dead.
    pub reply_timeout: Duration,
    /// A connection must register within this time or it is closed.
    pub register_timeout: Duration,
    /// How long a challenge stays usable.
    pub challenge_lifetime: Duration,
}

impl Default for SystemTimers {
    fn default() -> Self {
        Self {
            alive_interval: Duration::from_secs(15),
            reply_timeout: Duration::from_secs(10),
            register_timeout: Duration::from_secs(30),
            challenge_lifetime: Duration::from_secs(30),
        }
    }
}

/// Proof of the password, checked by the owner against its configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistrationProof {
    challenge: Timestamp,
    subscriber: Subscriber,
    hash: [u8; 20],
}

impl RegistrationProof {
    /// Whether the phone knows `password` (compared in constant time).
    pub fn verify(&self, password: &Secret) -> bool {
        verify_registration_hash(password, self.challenge, &self.subscriber, &self.hash)
    }
}

/// A Register that answered a valid challenge, awaiting the owner's decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistrationRequest {
    pub subscriber: Subscriber,
    pub mac: Option<MacAddress>,
    pub phone_id: PhoneId,
    /// As sent; the owner parses and compares it with its minimum.
    pub software_version: String,
    pub device_address: Option<DeviceAddress>,
    pub proof: RegistrationProof,
}

/// Why the engine ends a connection by itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CloseReason {
    /// The phone sent bytes that are not HFA.
    ProtocolError(String),
    /// The connection asked for more than [`MAX_CHALLENGES_PER_CONNECTION`]
    /// challenges without registering.
    TooManyChallenges,
    /// The phone did not register within the register timeout.
    RegisterTimeout,
    /// A request went unanswered for the reply timeout.
    PhoneSilent,
    /// The registration was declined (the Decline has been queued).
    Declined(DeclineCause),
}

impl std::fmt::Display for CloseReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::ProtocolError(why) => write!(f, "protocol error: {why}"),
            Self::TooManyChallenges => write!(
                f,
                "asked for more than {MAX_CHALLENGES_PER_CONNECTION} challenges without registering"
            ),
            Self::RegisterTimeout => f.write_str("no registration within the register timeout"),
            Self::PhoneSilent => f.write_str("the phone stopped answering"),
            Self::Declined(cause) => write!(f, "registration declined: {}", cause.describe()),
        }
    }
}

/// What happened, for the owner.
#[derive(Debug, Clone, PartialEq)]
pub enum SystemEvent {
    /// Decide: call `accept` or `decline`.
    RegisterRequest(RegistrationRequest),
    /// The engine refused a Register on its own (replayed, expired or
    /// foreign challenge); the connection is closed after the Decline.
    ChallengeRefused {
        subscriber: Subscriber,
        challenge: Timestamp,
    },
    /// A message from the registered phone (stimulus, codec capabilities, ...).
    Received(Message),
    /// Flush what `poll_transmit` still holds, then close the connection.
    Close(CloseReason),
}

/// Local misuse of the engine.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SystemError {
    /// `accept`/`decline` without a pending Register, or a message to a
    /// phone that is not registered.
    #[error("no registration is pending or established on this connection")]
    NotRegistered,
    /// The message could not be encoded (a local bug, not the peer's).
    #[error(transparent)]
    Link(#[from] LinkError),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum State {
    AwaitingRegister,
    Deciding,
    Registered(SessionId),
    Closed,
}

/// The system side of one phone's TCP connection.
#[derive(Debug)]
pub struct SystemConnection {
    issuer: Arc<ChallengeIssuer>,
    timers: SystemTimers,
    state: State,
    link: Link,
    events: VecDeque<SystemEvent>,
    /// The challenges issued on this connection and when (at most
    /// [`MAX_CHALLENGES_PER_CONNECTION`]); all are consumed by the Register.
    challenges: Vec<(Timestamp, Instant)>,
    register_deadline: Option<Instant>,
    reply_deadline: Option<Instant>,
    next_alive: Option<Instant>,
}

impl SystemConnection {
    pub fn new(now: Instant, issuer: Arc<ChallengeIssuer>, timers: SystemTimers) -> Self {
        Self {
            issuer,
            timers,
            state: State::AwaitingRegister,
            link: Link::default(),
            events: VecDeque::new(),
            challenges: Vec::with_capacity(MAX_CHALLENGES_PER_CONNECTION),
            register_deadline: Some(now + timers.register_timeout),
            reply_deadline: None,
            next_alive: None,
        }
    }

    /// The session, once registered.
    pub fn session(&self) -> Option<SessionId> {
        match self.state {
            State::Registered(session) => Some(session),
            _ => None,
        }
    }

    /// Bytes read from the phone's connection.
    pub fn handle_input(&mut self, now: Instant, bytes: &[u8]) {
        if self.state == State::Closed {
            return;
        }
        let mut input = bytes;
        loop {
            match self.link.next_frame(&mut input) {
                Ok(Some(frame)) => self.on_message(now, frame.message),
                Ok(None) => break,
                Err(error) => {
                    self.close(CloseReason::ProtocolError(error.to_string()));
                    break;
                }
            }
            if self.state == State::Closed {
                break;
            }
        }
    }

    pub fn handle_timeout(&mut self, now: Instant) {
        if self.state == State::Closed {
            return;
        }
        if self.register_deadline.is_some_and(|at| at <= now) {
            self.close(CloseReason::RegisterTimeout);
            return;
        }
        if self.reply_deadline.is_some_and(|at| at <= now) {
            self.close(CloseReason::PhoneSilent);
            return;
        }
        if self.next_alive.is_some_and(|at| at <= now) {
            self.next_alive = Some(now + self.timers.alive_interval);
            let timestamp = self.issuer.system_time(now);
            self.send(AliveRequest::KeepAlive(timestamp).into());
            self.reply_deadline
                .get_or_insert(now + self.timers.reply_timeout);
        }
    }

    /// Accepts the pending registration with `session` (unique per gateway).
    pub fn accept(
        &mut self,
        now: Instant,
        session: SessionId,
        response: RegisterResponse,
    ) -> Result<(), SystemError> {
        if self.state != State::Deciding {
            return Err(SystemError::NotRegistered);
        }
        self.link.set_session(session);
        self.link.queue(response.into())?;
        self.state = State::Registered(session);
        self.register_deadline = None;
        self.next_alive = Some(now + self.timers.alive_interval);
        Ok(())
    }

    /// Declines the pending registration; the connection closes after it.
    pub fn decline(&mut self, cause: DeclineCause) -> Result<(), SystemError> {
        if self.state != State::Deciding {
            return Err(SystemError::NotRegistered);
        }
        self.decline_and_close(cause);
        Ok(())
    }

    /// Tells a registered phone it has been replaced (or the system is going
    /// down) and closes the connection.
    pub fn terminate(&mut self, cause: DeclineCause) {
        if self.state != State::Closed {
            self.decline_and_close(cause);
        }
    }

    /// Sends a stimulus or media message to the registered phone.
    pub fn send_message(&mut self, message: Message) -> Result<(), SystemError> {
        if !matches!(self.state, State::Registered(_)) {
            return Err(SystemError::NotRegistered);
        }
        self.link.queue(message)?;
        Ok(())
    }

    pub fn poll_transmit(&mut self) -> Option<Bytes> {
        self.link.poll_transmit()
    }

    pub fn poll_event(&mut self) -> Option<SystemEvent> {
        self.events.pop_front()
    }

    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.state == State::Closed {
            return None;
        }
        [self.register_deadline, self.reply_deadline, self.next_alive]
            .into_iter()
            .flatten()
            .min()
    }

    fn on_message(&mut self, now: Instant, message: Message) {
        // Any frame from the phone shows it is alive.
        if matches!(self.state, State::Registered(_)) {
            self.reply_deadline = None;
        }
        match message {
            Message::AliveRequest(AliveRequest::TimestampRequest)
                if self.state == State::AwaitingRegister =>
            {
                if self.challenges.len() >= MAX_CHALLENGES_PER_CONNECTION {
                    self.close(CloseReason::TooManyChallenges);
                    return;
                }
                let challenge = self.issuer.issue();
                self.challenges.push((challenge, now));
                self.send(
                    AliveResponse {
                        timestamp: challenge,
                    }
                    .into(),
                );
            }
            Message::AliveRequest(_) => {
                let timestamp = self.issuer.system_time(now);
                self.send(AliveResponse { timestamp }.into());
            }
            Message::AliveResponse(_) => {}
            Message::Register(register) if self.state == State::AwaitingRegister => {
                self.on_register(now, register);
            }
            other if matches!(self.state, State::Registered(_)) => {
                self.events.push_back(SystemEvent::Received(other));
            }
            other => {
                let why = format!("unexpected {:?} before registration", other.message_type());
                self.close(CloseReason::ProtocolError(why));
            }
        }
    }

    fn on_register(&mut self, now: Instant, register: Register) {
        let data = register.registration;
        let subscriber = register.subscriber.number;
        // Single use: the challenges are gone whatever happens next (the
        // connection either goes on to a decision or is closed).
        let lifetime = self.timers.challenge_lifetime;
        let valid = self.challenges.drain(..).any(|(challenge, at)| {
            challenge == data.challenge && now.saturating_duration_since(at) <= lifetime
        });
        if !valid {
            self.events.push_back(SystemEvent::ChallengeRefused {
                subscriber,
                challenge: data.challenge,
            });
            self.decline_and_close(DeclineCause::CHALLENGE_INVALID);
            return;
        }
        self.state = State::Deciding;
        self.events
            .push_back(SystemEvent::RegisterRequest(RegistrationRequest {
                proof: RegistrationProof {
                    challenge: data.challenge,
                    subscriber: subscriber.clone(),
                    hash: data.hash,
                },
                subscriber,
                mac: register.mac,
                phone_id: data.phone_id,
                software_version: data.software_version,
                device_address: register.device_address,
            }));
    }

    fn decline_and_close(&mut self, cause: DeclineCause) {
        self.send(RegisterDecline::new(cause).into());
        self.close(CloseReason::Declined(cause));
    }

    fn close(&mut self, reason: CloseReason) {
        self.state = State::Closed;
        self.register_deadline = None;
        self.reply_deadline = None;
        self.next_alive = None;
        self.events.push_back(SystemEvent::Close(reason));
    }

    fn send(&mut self, message: Message) {
        // Messages built by the engine itself always encode.
        if let Err(error) = self.link.queue(message) {
            debug_assert!(false, "engine message failed to encode: {error}");
        }
    }
}
