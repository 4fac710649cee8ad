//! The phone side of an HFA connection, sans-IO.
//!
//! Lifecycle, as a real OpenStage HFA phone behaves:
//!
//! ```text
//! start ─► Connect ─► connected ─► Alive Request (3 bytes: "what time is it?")
//!        ◄─ Alive Response (timestamp = the challenge)
//!        ─► Register (subscriber, MAC, version, HMAC-SHA1(password, challenge ‖ number))
//!        ◄─ Register Response ─► Registered: Alive Request every `alive_interval`
//!        ◄─ Register Decline ─► Declined (terminal: the cause is shown to the user),
//!                               except "system busy", after which it reconnects
//! ```
//!
//! An unanswered request (timestamp, Register or Alive) within
//! `reply_timeout` means the gateway is dead: the engine asks its owner to
//! close the connection and to connect again after an exponential backoff
//! with jitter (so a thousand phones do not reconnect in the same
//! millisecond after a gateway restart).

use std::collections::VecDeque;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;

use super::link::{Link, LinkError};
use crate::hfa::{
    AliveRequest, AliveResponse, CapabilityEntry, CodecCapabilities, CodecEntry, DeclineCause,
    DeviceAddress, HashAlgorithm, MacAddress, Message, PhoneId, Register, RegistrationData,
    SessionId, Subscriber, SubscriberNumber, SystemIdentifier, Timestamp, registration_hash,
};
use crate::secret::Secret;
use crate::version::SoftwareVersion;

/// Who the phone is: what it sends in its Register.
#[derive(Debug, Clone)]
pub struct PhoneIdentity {
    pub subscriber: Subscriber,
    pub password: Secret,
    pub mac: MacAddress,
    pub phone_id: PhoneId,
    pub software_version: SoftwareVersion,
}

/// Keepalive and reconnection timing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PhoneTimers {
    /// Alive Request period while registered.
    pub alive_interval: Duration,
    /// A request unanswered for this long means the gateway is dead.
    pub reply_timeout: Duration,
    /// First reconnection delay; doubles per failed attempt.
    pub reconnect_min: Duration,
    /// Longest reconnection delay.
    pub reconnect_max: Duration,
}

impl Default for PhoneTimers {
    fn default() -> Self {
        Self {
            alive_interval: Duration::from_secs(15),
            reply_timeout: Duration::from_secs(10),
            reconnect_min: Duration::from_secs(1),
            reconnect_max: Duration::from_secs(60),
        }
    }
}

/// Where the phone stands, as shown to the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PhoneState {
    /// Not started, or stopped.
    Stopped,
    /// Waiting before the next connection attempt.
    WaitingToConnect { attempt: u32, delay: Duration },
    /// The owner is opening the TCP connection.
    Connecting,
    /// Connected; asked the gateway for its time (the challenge).
    RequestingTimestamp,
    /// Register sent; waiting for the answer.
    Registering,
    /// Registered, with the session the gateway assigned.
    Registered { session: SessionId },
    /// The gateway refused the registration; the phone does not retry.
    Declined { cause: DeclineCause },
}

impl std::fmt::Display for PhoneState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Stopped => f.write_str("stopped"),
            Self::WaitingToConnect { attempt, delay } => {
                write!(
                    f,
                    "reconnecting in {:.1} s (attempt {attempt})",
                    delay.as_secs_f64()
                )
            }
            Self::Connecting => f.write_str("connecting"),
            Self::RequestingTimestamp => f.write_str("connected, requesting the system time"),
            Self::Registering => f.write_str("registering"),
            Self::Registered { session } => write!(f, "registered (session {})", session.0),
            Self::Declined { cause } => write!(f, "registration declined: {}", cause.describe()),
        }
    }
}

/// Why a connection ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnectionLoss {
    /// The TCP connection could not be opened.
    ConnectFailed(String),
    /// The gateway closed the connection.
    ClosedByGateway,
    /// A request went unanswered for the reply timeout.
    GatewaySilent,
    /// The gateway sent bytes that are not HFA.
    ProtocolError(String),
    /// The system is overloaded or going down: try again later.
    SystemBusy,
}

impl std::fmt::Display for ConnectionLoss {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::ConnectFailed(why) => write!(f, "cannot connect: {why}"),
            Self::ClosedByGateway => f.write_str("the gateway closed the connection"),
            Self::GatewaySilent => f.write_str("the gateway stopped answering"),
            Self::ProtocolError(why) => write!(f, "protocol error from the gateway: {why}"),
            Self::SystemBusy => f.write_str("the system is busy or going down"),
        }
    }
}

/// What happened, for the owner.
#[derive(Debug, Clone, PartialEq)]
pub enum PhoneEvent {
    /// Open a TCP connection to the gateway now, then report
    /// [`PhoneInput::Connected`] or [`PhoneInput::ConnectFailed`].
    Connect,
    /// Close the TCP connection now.
    Disconnect,
    /// The state changed (one event per change).
    StateChanged(PhoneState),
    /// The system delivered a software release with the registration (a
    /// phone below the minimum, registered from the company LAN, guide
    /// 1.3.4): the phone runs `to` from now on and registers with it. The
    /// owner keeps it, so the next start reports `to`.
    SoftwareUpdated {
        from: SoftwareVersion,
        to: SoftwareVersion,
    },
    /// Registration accepted.
    Registered {
        session: SessionId,
        system: SystemIdentifier,
    },
    /// The connection was lost; a reconnection follows.
    ConnectionLost(ConnectionLoss),
    /// A message from the gateway for the phone model (stimulus, Set Payload, ...).
    Received(Message),
}

/// What the owner reports.
#[derive(Debug)]
pub enum PhoneInput<'a> {
    /// The TCP connection requested by [`PhoneEvent::Connect`] is open;
    /// `local_ip` is the phone's own address on it (before any NAT), which
    /// the Register reports.
    Connected { local_ip: IpAddr },
    /// It could not be opened.
    ConnectFailed(String),
    /// The gateway closed it (EOF or reset).
    Closed,
    /// Bytes read from it.
    Received(&'a [u8]),
}

/// Local misuse of the engine.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PhoneError {
    /// Only a registered phone can send stimuli or media messages.
    #[error("not registered: the message was not sent")]
    NotRegistered,
    /// The message could not be encoded (a local bug, not the peer's).
    #[error(transparent)]
    Link(#[from] LinkError),
}

/// The phone side of one HFA registration, across reconnections.
#[derive(Debug)]
pub struct PhoneEngine {
    identity: PhoneIdentity,
    timers: PhoneTimers,
    state: PhoneState,
    link: Link,
    events: VecDeque<PhoneEvent>,
    /// When to ask for a connection (in `WaitingToConnect`).
    connect_at: Option<Instant>,
    /// When an unanswered request makes the gateway dead.
    reply_deadline: Option<Instant>,
    /// When to send the next Alive Request (registered).
    next_alive: Option<Instant>,
    failed_attempts: u32,
    jitter: Jitter,
    /// The system time learnt from the system's last Alive message, and
    /// when: the phone's Alive Requests carry the system's time as the
    /// phone estimates it (0 until it has heard one). Not the challenge,
    /// which is a random number.
    system_clock: Option<(Instant, Timestamp)>,
    /// The phone's address on the current connection.
    device_address: Option<DeviceAddress>,
    /// What the phone announces it can receive, after each registration.
    capabilities: Option<CodecCapabilities>,
}

impl PhoneEngine {
    /// `seed` drives the reconnection jitter (tests pass a fixed one).
    pub fn new(identity: PhoneIdentity, timers: PhoneTimers, seed: u64) -> Self {
        Self {
            identity,
            timers,
            state: PhoneState::Stopped,
            link: Link::default(),
            events: VecDeque::new(),
            connect_at: None,
            reply_deadline: None,
            next_alive: None,
            failed_attempts: 0,
            jitter: Jitter(seed | 1),
            system_clock: None,
            device_address: None,
            capabilities: None,
        }
    }

    pub fn state(&self) -> &PhoneState {
        &self.state
    }

    pub fn identity(&self) -> &PhoneIdentity {
        &self.identity
    }

    /// Starts (or restarts after a decline): asks for a connection at once.
    pub fn start(&mut self) {
        self.reset_link();
        self.failed_attempts = 0;
        self.set_state(PhoneState::Connecting);
        self.events.push_back(PhoneEvent::Connect);
    }

    /// Stops: closes the connection and stays stopped.
    pub fn stop(&mut self) {
        if self.is_connected() {
            self.events.push_back(PhoneEvent::Disconnect);
        }
        self.reset_link();
        self.set_state(PhoneState::Stopped);
    }

    pub fn handle_input(&mut self, now: Instant, input: PhoneInput<'_>) {
        match input {
            PhoneInput::Connected { local_ip } => self.on_connected(now, local_ip),
            PhoneInput::ConnectFailed(why) => {
                self.lose_connection(now, ConnectionLoss::ConnectFailed(why), false)
            }
            PhoneInput::Closed => {
                if self.is_connected() {
                    self.lose_connection(now, ConnectionLoss::ClosedByGateway, false);
                }
            }
            PhoneInput::Received(bytes) => self.on_bytes(now, bytes),
        }
    }

    pub fn handle_timeout(&mut self, now: Instant) {
        if self.connect_at.is_some_and(|at| at <= now) {
            self.connect_at = None;
            self.set_state(PhoneState::Connecting);
            self.events.push_back(PhoneEvent::Connect);
        }
        if self.reply_deadline.is_some_and(|at| at <= now) {
            self.lose_connection(now, ConnectionLoss::GatewaySilent, true);
            return;
        }
        if self.next_alive.is_some_and(|at| at <= now) {
            self.next_alive = Some(now + self.timers.alive_interval);
            self.send(AliveRequest::KeepAlive(self.system_time(now)).into());
            self.reply_deadline
                .get_or_insert(now + self.timers.reply_timeout);
        }
    }

    /// Sends a stimulus or media message to the gateway.
    pub fn send_message(&mut self, message: Message) -> Result<(), PhoneError> {
        if !matches!(self.state, PhoneState::Registered { .. }) {
            return Err(PhoneError::NotRegistered);
        }
        self.link.queue(message)?;
        Ok(())
    }

    pub fn poll_transmit(&mut self) -> Option<Bytes> {
        self.link.poll_transmit()
    }

    pub fn poll_event(&mut self) -> Option<PhoneEvent> {
        self.events.pop_front()
    }

    pub fn poll_timeout(&self) -> Option<Instant> {
        [self.connect_at, self.reply_deadline, self.next_alive]
            .into_iter()
            .flatten()
            .min()
    }

    fn is_connected(&self) -> bool {
        matches!(
            self.state,
            PhoneState::RequestingTimestamp
                | PhoneState::Registering
                | PhoneState::Registered { .. }
        )
    }

    fn on_connected(&mut self, now: Instant, local_ip: IpAddr) {
        if self.state != PhoneState::Connecting {
            return;
        }
        self.reset_link();
        self.device_address = match local_ip {
            IpAddr::V4(v4) => Some(DeviceAddress::Ipv4(v4)),
            IpAddr::V6(_) => None,
        };
        self.set_state(PhoneState::RequestingTimestamp);
        self.send(AliveRequest::TimestampRequest.into());
        self.reply_deadline = Some(now + self.timers.reply_timeout);
    }

    fn on_bytes(&mut self, now: Instant, bytes: &[u8]) {
        if !self.is_connected() {
            return;
        }
        let mut input = bytes;
        loop {
            match self.link.next_frame(&mut input) {
                Ok(Some(frame)) => self.on_message(now, frame.header.session, frame.message),
                Ok(None) => break,
                Err(error) => {
                    self.lose_connection(
                        now,
                        ConnectionLoss::ProtocolError(error.to_string()),
                        true,
                    );
                    break;
                }
            }
            if !self.is_connected() {
                break;
            }
        }
    }

    fn on_message(&mut self, now: Instant, session: SessionId, message: Message) {
        match (&self.state, message) {
            (_, Message::AliveRequest(AliveRequest::KeepAlive(timestamp))) => {
                self.system_clock = Some((now, timestamp));
                self.send(AliveResponse { timestamp }.into());
            }
            (_, Message::AliveRequest(AliveRequest::TimestampRequest)) => {
                let timestamp = self.system_time(now);
                self.send(AliveResponse { timestamp }.into());
            }
            (PhoneState::RequestingTimestamp, Message::AliveResponse(response)) => {
                self.register(now, response.timestamp);
            }
            (PhoneState::Registered { .. }, Message::AliveResponse(response)) => {
                self.system_clock = Some((now, response.timestamp));
                self.reply_deadline = None;
            }
            (PhoneState::Registering, Message::RegisterResponse(response)) => {
                self.install(response.software_delivery.as_deref());
                self.reply_deadline = None;
                self.failed_attempts = 0;
                self.link.set_session(session);
                self.next_alive = Some(now + self.timers.alive_interval);
                self.set_state(PhoneState::Registered { session });
                self.events.push_back(PhoneEvent::Registered {
                    session,
                    system: response.system,
                });
                self.send_capabilities();
            }
            (_, Message::RegisterDecline(decline))
                if decline.cause == DeclineCause::SYSTEM_BUSY =>
            {
                self.lose_connection(now, ConnectionLoss::SystemBusy, true);
            }
            (_, Message::RegisterDecline(decline)) => {
                self.events.push_back(PhoneEvent::Disconnect);
                self.reset_link();
                self.set_state(PhoneState::Declined {
                    cause: decline.cause,
                });
            }
            (PhoneState::Registered { .. }, other) => {
                self.events.push_back(PhoneEvent::Received(other));
            }
            (_, other) => {
                let why = format!("unexpected {:?} while {}", other.message_type(), self.state);
                self.lose_connection(now, ConnectionLoss::ProtocolError(why), true);
            }
        }
    }

    /// Runs the release the system delivered, if it is one and another than
    /// the phone's. A release that does not parse is not installed: the
    /// phone keeps the firmware it has.
    fn install(&mut self, delivered: Option<&str>) {
        let Some(to) = delivered.and_then(|text| text.parse::<SoftwareVersion>().ok()) else {
            return;
        };
        let from = self.identity.software_version;
        if to != from {
            self.identity.software_version = to;
            self.events
                .push_back(PhoneEvent::SoftwareUpdated { from, to });
        }
    }

    fn register(&mut self, now: Instant, challenge: Timestamp) {
        let identity = &self.identity;
        let hash = registration_hash(&identity.password, challenge, &identity.subscriber);
        let register = Register {
            device_address: self.device_address.clone(),
            subscriber: SubscriberNumber::internal(identity.subscriber.clone()),
            mac: Some(identity.mac),
            registration: RegistrationData {
                phone_id: identity.phone_id,
                challenge,
                algorithm: HashAlgorithm::HMAC_SHA1,
                hash,
                software_version: identity.software_version.to_string(),
            },
            other_ies: Vec::new(),
        };
        self.send(register.into());
        self.set_state(PhoneState::Registering);
        self.reply_deadline = Some(now + self.timers.reply_timeout);
    }

    /// Ends the current connection and schedules the next attempt.
    fn lose_connection(&mut self, now: Instant, loss: ConnectionLoss, close: bool) {
        if close {
            self.events.push_back(PhoneEvent::Disconnect);
        }
        self.reset_link();
        self.events.push_back(PhoneEvent::ConnectionLost(loss));
        self.failed_attempts = self.failed_attempts.saturating_add(1);
        let delay = self.backoff();
        self.connect_at = Some(now + delay);
        self.set_state(PhoneState::WaitingToConnect {
            attempt: self.failed_attempts,
            delay,
        });
    }

    /// `reconnect_min · 2^(attempt-1)`, capped, then ±25 % jitter.
    fn backoff(&mut self) -> Duration {
        let exponent = self.failed_attempts.saturating_sub(1).min(16);
        let base = self
            .timers
            .reconnect_min
            .saturating_mul(1 << exponent)
            .min(self.timers.reconnect_max);
        base.mul_f64(0.75 + 0.5 * self.jitter.next_unit())
    }

    fn system_time(&self, now: Instant) -> Timestamp {
        self.system_clock
            .map_or(Timestamp(0), |(at, Timestamp(seconds))| {
                let elapsed = now.saturating_duration_since(at).as_secs();
                Timestamp(seconds.wrapping_add(elapsed as u32))
            })
    }

    /// Announces where and how the phone receives media (Codec
    /// Capabilities), now if registered and after every registration. An
    /// entry whose address is unspecified gets the phone's own address on
    /// the current connection.
    pub fn announce_media(&mut self, capabilities: CodecCapabilities) {
        self.capabilities = Some(capabilities);
        if matches!(self.state, PhoneState::Registered { .. }) {
            self.send_capabilities();
        }
    }

    fn send_capabilities(&mut self) {
        let Some(capabilities) = &self.capabilities else {
            return;
        };
        let own = match &self.device_address {
            Some(DeviceAddress::Ipv4(ip)) => Some(IpAddr::V4(*ip)),
            _ => None,
        };
        let entries = capabilities
            .entries
            .iter()
            .cloned()
            .map(|entry| match (entry, own) {
                (CapabilityEntry::Codec(codec), Some(own)) if codec.address.is_unspecified() => {
                    CapabilityEntry::Codec(CodecEntry {
                        address: own,
                        ..codec
                    })
                }
                (other, _) => other,
            });
        let message = CodecCapabilities {
            entries: entries.collect(),
        };
        self.send(message.into());
    }

    fn reset_link(&mut self) {
        self.link = Link::default();
        self.connect_at = None;
        self.reply_deadline = None;
        self.next_alive = None;
    }

    fn send(&mut self, message: Message) {
        // Messages built by the engine itself always encode; a failure here
        // is a bug in this module, reported rather than hidden.
        if let Err(error) = self.link.queue(message) {
            debug_assert!(false, "engine message failed to encode: {error}");
        }
    }

    fn set_state(&mut self, state: PhoneState) {
        if self.state != state {
            self.state = state.clone();
            self.events.push_back(PhoneEvent::StateChanged(state));
        }
    }
}

/// xorshift64: enough to spread reconnections, deterministic in tests.
#[derive(Debug)]
struct Jitter(u64);

impl Jitter {
    fn next_unit(&mut self) -> f64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        (x >> 11) as f64 / (1u64 << 53) as f64
    }
}
