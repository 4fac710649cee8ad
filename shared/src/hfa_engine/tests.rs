//! Phone and system engines talking to each other on a virtual clock: no
//! sockets, no sleeps; a minute of keepalives runs in microseconds.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;

use super::ChallengeIssuer;
use super::phone::{
    ConnectionLoss, PhoneEngine, PhoneEvent, PhoneIdentity, PhoneInput, PhoneState, PhoneTimers,
};
use super::system::{
    CloseReason, MAX_CHALLENGES_PER_CONNECTION, RegistrationRequest, SystemConnection, SystemEvent,
    SystemTimers,
};
use crate::hfa::{
    Codec, DeclineCause, Frame, Header, Key, MacAddress, Message, PhoneId, RegisterResponse,
    SequenceNumber, SessionId, Stimulus, Subscriber,
};
use crate::secret::Secret;
use crate::version::SoftwareVersion;

const PASSWORD: &str = "Gx7#kq2!Lm9v";
const HOME_IP: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 168, 178, 20));

/// What the gateway's policy answers to a Register.
type Policy = fn(&RegistrationRequest) -> Result<(), DeclineCause>;

fn check_password(request: &RegistrationRequest) -> Result<(), DeclineCause> {
    if request.proof.verify(&Secret::new(PASSWORD)) {
        Ok(())
    } else {
        Err(DeclineCause::WRONG_PASSWORD)
    }
}

fn identity(password: &str) -> PhoneIdentity {
    PhoneIdentity {
        subscriber: Subscriber::new("201").unwrap(),
        password: Secret::new(password),
        mac: MacAddress([2, 0x1a, 0, 0, 2, 1]),
        phone_id: PhoneId::OPENSTAGE_60,
        software_version: SoftwareVersion::new(3, 1, 41, 0),
    }
}

/// A phone, the system side of its current connection, and a wire between
/// them that the test can cut in either direction.
struct Lab {
    now: Instant,
    issuer: Arc<ChallengeIssuer>,
    phone: PhoneEngine,
    system: Option<SystemConnection>,
    policy: Policy,
    /// Frames the phone sent, in order (for replay tests).
    phone_sent: Vec<Bytes>,
    phone_events: Vec<PhoneEvent>,
    system_events: Vec<SystemEvent>,
    /// When false, the system side's bytes are lost (a dead gateway).
    system_speaks: bool,
    /// When false, the phone's bytes are lost (a dead phone).
    phone_speaks: bool,
    /// When false, connection attempts fail.
    gateway_up: bool,
    connections: u32,
    /// The release the system delivers with each Register Response.
    delivery: Option<&'static str>,
}

impl Lab {
    fn new(password: &str, policy: Policy) -> Self {
        let now = Instant::now();
        let mut lab = Self {
            now,
            issuer: Arc::new(ChallengeIssuer::new(now, 1_700_000_000)),
            phone: PhoneEngine::new(identity(password), PhoneTimers::default(), 42),
            system: None,
            policy,
            phone_sent: Vec::new(),
            phone_events: Vec::new(),
            system_events: Vec::new(),
            system_speaks: true,
            phone_speaks: true,
            gateway_up: true,
            connections: 0,
            delivery: None,
        };
        lab.phone.start();
        lab.pump();
        lab
    }

    /// Moves bytes and events until nothing moves.
    fn pump(&mut self) {
        loop {
            let mut moved = false;
            while let Some(event) = self.phone.poll_event() {
                moved = true;
                match &event {
                    PhoneEvent::Connect if self.gateway_up => {
                        self.connections += 1;
                        self.system = Some(SystemConnection::new(
                            self.now,
                            self.issuer.clone(),
                            SystemTimers::default(),
                        ));
                        self.phone
                            .handle_input(self.now, PhoneInput::Connected { local_ip: HOME_IP });
                    }
                    PhoneEvent::Connect => {
                        self.phone
                            .handle_input(self.now, PhoneInput::ConnectFailed("refused".into()));
                    }
                    PhoneEvent::Disconnect => self.system = None,
                    _ => {}
                }
                self.phone_events.push(event);
            }
            while let Some(bytes) = self.phone.poll_transmit() {
                moved = true;
                self.phone_sent.push(bytes.clone());
                if let (Some(system), true) = (self.system.as_mut(), self.phone_speaks) {
                    system.handle_input(self.now, &bytes);
                }
            }
            if let Some(system) = self.system.as_mut() {
                let mut closed = false;
                while let Some(bytes) = system.poll_transmit() {
                    moved = true;
                    if self.system_speaks {
                        self.phone
                            .handle_input(self.now, PhoneInput::Received(&bytes));
                    }
                }
                while let Some(event) = system.poll_event() {
                    moved = true;
                    match &event {
                        SystemEvent::RegisterRequest(request) => match (self.policy)(request) {
                            Ok(()) => {
                                let mut response = RegisterResponse::openscape_business(2, 1);
                                response.software_delivery = self.delivery.map(Into::into);
                                system.accept(self.now, SessionId(7), response).unwrap();
                            }
                            Err(cause) => system.decline(cause).unwrap(),
                        },
                        SystemEvent::Close(_) => closed = true,
                        _ => {}
                    }
                    self.system_events.push(event);
                }
                if closed {
                    while let Some(bytes) = system.poll_transmit() {
                        if self.system_speaks {
                            self.phone
                                .handle_input(self.now, PhoneInput::Received(&bytes));
                        }
                    }
                    self.system = None;
                    self.phone.handle_input(self.now, PhoneInput::Closed);
                    moved = true;
                }
            }
            if !moved {
                break;
            }
        }
    }

    /// Runs the virtual clock forward by `duration`, firing every deadline.
    fn advance(&mut self, duration: Duration) {
        let end = self.now + duration;
        loop {
            let next = [
                self.phone.poll_timeout(),
                self.system
                    .as_ref()
                    .and_then(SystemConnection::poll_timeout),
            ]
            .into_iter()
            .flatten()
            .min();
            match next {
                Some(at) if at <= end => {
                    self.now = self.now.max(at);
                    self.phone.handle_timeout(self.now);
                    if let Some(system) = self.system.as_mut() {
                        system.handle_timeout(self.now);
                    }
                    self.pump();
                }
                _ => break,
            }
        }
        self.now = end;
    }

    fn take_phone_events(&mut self) -> Vec<PhoneEvent> {
        std::mem::take(&mut self.phone_events)
    }
}

fn states(events: &[PhoneEvent]) -> Vec<PhoneState> {
    events
        .iter()
        .filter_map(|event| match event {
            PhoneEvent::StateChanged(state) => Some(state.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn registers_with_the_right_password() {
    let mut lab = Lab::new(PASSWORD, check_password);
    assert_eq!(
        states(&lab.take_phone_events()),
        [
            PhoneState::Connecting,
            PhoneState::RequestingTimestamp,
            PhoneState::Registering,
            PhoneState::Registered {
                session: SessionId(7)
            },
        ]
    );
    let system = lab.system.as_ref().unwrap();
    assert_eq!(system.session(), Some(SessionId(7)));
    let request = lab.system_events.iter().find_map(|event| match event {
        SystemEvent::RegisterRequest(request) => Some(request),
        _ => None,
    });
    let request = request.unwrap();
    assert_eq!(request.subscriber.as_str(), "201");
    assert_eq!(request.software_version, "V3R1.41.0");
    assert_eq!(request.phone_id, PhoneId::OPENSTAGE_60);
}

/// The software versions of every Register the phone sent.
fn registered_versions(lab: &Lab) -> Vec<String> {
    lab.system_events
        .iter()
        .filter_map(|event| match event {
            SystemEvent::RegisterRequest(request) => Some(request.software_version.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn a_delivered_release_is_installed_and_reported_from_the_next_register_on() {
    let mut lab = Lab::new(PASSWORD, check_password);
    lab.delivery = Some("V3R5.16.0");
    // The system goes silent: the phone reconnects and registers again,
    // now receiving the delivery.
    lab.system_speaks = false;
    lab.advance(Duration::from_secs(120));
    lab.system_speaks = true;
    lab.advance(Duration::from_secs(120));
    let delivered = SoftwareVersion::new(3, 5, 16, 0);
    assert!(
        lab.take_phone_events()
            .contains(&PhoneEvent::SoftwareUpdated {
                from: SoftwareVersion::new(3, 1, 41, 0),
                to: delivered,
            })
    );
    assert_eq!(lab.phone.identity().software_version, delivered);
    lab.system_speaks = false;
    lab.advance(Duration::from_secs(120));
    lab.system_speaks = true;
    lab.advance(Duration::from_secs(120));
    let versions = registered_versions(&lab);
    assert_eq!(versions.first().map(String::as_str), Some("V3R1.41.0"));
    assert_eq!(versions.last().map(String::as_str), Some("V3R5.16.0"));
    assert!(
        !lab.take_phone_events()
            .iter()
            .any(|event| matches!(event, PhoneEvent::SoftwareUpdated { .. })),
        "the same release delivered again is no update"
    );
}

#[test]
fn a_delivery_that_is_no_release_is_not_installed() {
    let mut lab = Lab::new(PASSWORD, check_password);
    lab.delivery = Some("latest");
    lab.system_speaks = false;
    lab.advance(Duration::from_secs(120));
    lab.system_speaks = true;
    lab.advance(Duration::from_secs(120));
    assert_eq!(
        lab.phone.identity().software_version,
        SoftwareVersion::new(3, 1, 41, 0)
    );
    assert_eq!(
        registered_versions(&lab).len(),
        2,
        "registered again all the same"
    );
}

#[test]
fn a_wrong_password_is_declined_and_the_phone_stops() {
    let mut lab = Lab::new("wrong-password", check_password);
    let events = lab.take_phone_events();
    assert_eq!(
        states(&events).last(),
        Some(&PhoneState::Declined {
            cause: DeclineCause::WRONG_PASSWORD
        })
    );
    assert!(
        lab.system.is_none(),
        "the system closes a declined connection"
    );
    assert!(matches!(
        lab.system_events.last(),
        Some(SystemEvent::Close(CloseReason::Declined(
            DeclineCause::WRONG_PASSWORD
        )))
    ));
    // Declined is terminal: no reconnection however long we wait.
    lab.advance(Duration::from_secs(600));
    assert!(lab.take_phone_events().is_empty());
    assert_eq!(lab.connections, 1);
}

#[test]
fn keepalives_hold_the_registration_for_a_minute() {
    let mut lab = Lab::new(PASSWORD, check_password);
    lab.take_phone_events();
    let frames_before = lab.phone_sent.len();
    lab.advance(Duration::from_secs(60));
    assert!(
        lab.take_phone_events().is_empty(),
        "no state change while both answer"
    );
    // 60 s / 15 s: four Alive Requests from the phone.
    assert_eq!(
        lab.phone_sent.len() - frames_before,
        4 + 4,
        "4 requests + 4 answers to the system's"
    );
    assert!(lab.system.is_some());
}

#[test]
fn a_silent_gateway_is_detected_and_the_phone_reconnects() {
    let mut lab = Lab::new(PASSWORD, check_password);
    lab.take_phone_events();
    lab.system_speaks = false;
    lab.advance(Duration::from_secs(15 + 10));
    let events = lab.take_phone_events();
    assert!(
        events.contains(&PhoneEvent::ConnectionLost(ConnectionLoss::GatewaySilent)),
        "{events:?}"
    );
    assert!(matches!(
        states(&events).last(),
        Some(PhoneState::WaitingToConnect { attempt: 1, .. })
    ));
    // The gateway answers again: the phone registers anew after its backoff.
    lab.system_speaks = true;
    lab.advance(Duration::from_secs(2));
    assert_eq!(
        lab.phone.state(),
        &PhoneState::Registered {
            session: SessionId(7)
        }
    );
    assert_eq!(lab.connections, 2);
}

#[test]
fn a_silent_phone_is_detected_by_the_system() {
    let mut lab = Lab::new(PASSWORD, check_password);
    // The phone vanishes (power cut): only the system side goes on.
    let mut system = lab.system.take().unwrap();
    let mut now = lab.now;
    let mut events = Vec::new();
    while let Some(deadline) = system.poll_timeout() {
        now = deadline;
        system.handle_timeout(now);
        events.extend(std::iter::from_fn(|| system.poll_event()));
    }
    assert_eq!(events, [SystemEvent::Close(CloseReason::PhoneSilent)]);
    assert_eq!(
        now - lab.now,
        Duration::from_secs(15 + 10),
        "alive interval + reply timeout"
    );
}

#[test]
fn reconnection_backs_off_exponentially_with_jitter() {
    let mut lab = Lab::new(PASSWORD, check_password);
    lab.gateway_up = false;
    lab.system_speaks = false;
    lab.advance(Duration::from_secs(25));
    let mut delays = Vec::new();
    for _ in 0..8 {
        lab.advance(Duration::from_secs(120));
        delays.extend(states(&lab.take_phone_events()).into_iter().filter_map(
            |state| match state {
                PhoneState::WaitingToConnect { delay, .. } => Some(delay),
                _ => None,
            },
        ));
    }
    assert!(delays.len() >= 8, "{delays:?}");
    for (attempt, delay) in delays.iter().enumerate() {
        let base = Duration::from_secs(1 << attempt.min(6)).min(Duration::from_secs(60));
        assert!(
            *delay >= base.mul_f64(0.75) && *delay <= base.mul_f64(1.25),
            "attempt {attempt}: {delay:?}"
        );
    }
}

#[test]
fn a_register_replayed_on_another_connection_is_refused() {
    let lab = Lab::new(PASSWORD, check_password);
    let register = lab
        .phone_sent
        .iter()
        .find(|bytes| {
            matches!(
                Frame::from_bytes(bytes).map(|f| f.message),
                Ok(Message::Register(_))
            )
        })
        .cloned()
        .unwrap();
    // An attacker opens its own connection, asks for a challenge, and sends
    // the captured Register.
    let mut attacker = SystemConnection::new(lab.now, lab.issuer.clone(), SystemTimers::default());
    let request = Frame::new(
        Header::new(SessionId::NONE, SequenceNumber::FIRST),
        crate::hfa::AliveRequest::TimestampRequest,
    );
    attacker.handle_input(lab.now, &request.to_bytes().unwrap());
    attacker.handle_input(lab.now, &register);
    let events: Vec<_> = std::iter::from_fn(|| attacker.poll_event()).collect();
    assert!(
        matches!(events.first(), Some(SystemEvent::ChallengeRefused { .. })),
        "{events:?}"
    );
    assert_eq!(
        events.last(),
        Some(&SystemEvent::Close(CloseReason::Declined(
            DeclineCause::CHALLENGE_INVALID
        )))
    );
}

#[test]
fn a_challenge_is_usable_once_and_for_thirty_seconds() {
    let now = Instant::now();
    let issuer = Arc::new(ChallengeIssuer::new(now, 1_000));
    let timestamp_request = Frame::new(
        Header::new(SessionId::NONE, SequenceNumber::FIRST),
        crate::hfa::AliveRequest::TimestampRequest,
    )
    .to_bytes()
    .unwrap();
    let register_for = |challenge| {
        let data = crate::hfa::RegistrationData::signed(
            PhoneId::OPENSTAGE_60,
            challenge,
            &Subscriber::new("201").unwrap(),
            &Secret::new(PASSWORD),
            "V3R1.41.0",
        );
        let register = crate::hfa::Register {
            device_address: None,
            subscriber: crate::hfa::SubscriberNumber::internal(Subscriber::new("201").unwrap()),
            mac: None,
            registration: data,
            other_ies: Vec::new(),
        };
        Frame::new(Header::new(SessionId::NONE, SequenceNumber(2)), register)
            .to_bytes()
            .unwrap()
    };
    let challenge_of = |connection: &mut SystemConnection| {
        let reply = connection.poll_transmit().unwrap();
        match Frame::from_bytes(&reply).unwrap().message {
            Message::AliveResponse(response) => response.timestamp,
            other => panic!("expected the challenge, got {other:?}"),
        }
    };

    // Late: 31 s after the challenge was issued.
    let mut late = SystemConnection::new(now, issuer.clone(), SystemTimers::default());
    late.handle_input(now, &timestamp_request);
    let challenge = challenge_of(&mut late);
    late.handle_input(now + Duration::from_secs(31), &register_for(challenge));
    assert!(matches!(
        late.poll_event(),
        Some(SystemEvent::ChallengeRefused { .. })
    ));

    // In time: accepted for decision; the same bytes again are refused.
    let mut timely = SystemConnection::new(now, issuer.clone(), SystemTimers::default());
    timely.handle_input(now, &timestamp_request);
    let challenge = challenge_of(&mut timely);
    timely.handle_input(now + Duration::from_secs(29), &register_for(challenge));
    let Some(SystemEvent::RegisterRequest(request)) = timely.poll_event() else {
        panic!("expected a registration request");
    };
    assert!(request.proof.verify(&Secret::new(PASSWORD)));
    assert!(!request.proof.verify(&Secret::new("Gx7#kq2!Lm9w")));
    timely.decline(DeclineCause::WRONG_PASSWORD).unwrap();

    // A few challenges on one connection: a Register may answer any of
    // them; then the connection is closed for asking again.
    let ask_all = |connection: &mut SystemConnection| {
        (0..MAX_CHALLENGES_PER_CONNECTION)
            .map(|_| {
                connection.handle_input(now, &timestamp_request);
                challenge_of(connection)
            })
            .collect::<Vec<_>>()
    };
    let mut patient = SystemConnection::new(now, issuer.clone(), SystemTimers::default());
    let issued = ask_all(&mut patient);
    patient.handle_input(now, &register_for(issued[0]));
    assert!(matches!(
        patient.poll_event(),
        Some(SystemEvent::RegisterRequest(_))
    ));
    let mut greedy = SystemConnection::new(now, issuer, SystemTimers::default());
    ask_all(&mut greedy);
    greedy.handle_input(now, &timestamp_request);
    assert_eq!(greedy.poll_transmit(), None, "no further challenge");
    assert_eq!(
        greedy.poll_event(),
        Some(SystemEvent::Close(CloseReason::TooManyChallenges))
    );
}

#[test]
fn an_idle_connection_that_never_registers_is_closed() {
    let now = Instant::now();
    let issuer = Arc::new(ChallengeIssuer::new(now, 1_000));
    let mut connection = SystemConnection::new(now, issuer, SystemTimers::default());
    let deadline = connection.poll_timeout().unwrap();
    assert_eq!(deadline, now + Duration::from_secs(30));
    connection.handle_timeout(deadline);
    assert_eq!(
        connection.poll_event(),
        Some(SystemEvent::Close(CloseReason::RegisterTimeout))
    );
    assert_eq!(connection.poll_timeout(), None);
}

#[test]
fn garbage_from_the_gateway_is_a_protocol_error_not_a_panic() {
    let mut lab = Lab::new(PASSWORD, check_password);
    lab.take_phone_events();
    lab.phone
        .handle_input(lab.now, PhoneInput::Received(&[0, 0, 0xff]));
    lab.pump();
    let events = lab.take_phone_events();
    assert!(events.contains(&PhoneEvent::Disconnect));
    assert!(
        events.iter().any(|event| matches!(
            event,
            PhoneEvent::ConnectionLost(ConnectionLoss::ProtocolError(_))
        )),
        "{events:?}"
    );
}

#[test]
fn stimuli_flow_both_ways_once_registered() {
    let mut lab = Lab::new(PASSWORD, check_password);
    lab.take_phone_events();
    lab.phone
        .send_message(Stimulus::KeyPress(Key::from_digit('5').unwrap()).into())
        .unwrap();
    lab.pump();
    assert!(lab.system_events.iter().any(|event| matches!(
        event,
        SystemEvent::Received(Message::Stimulus(Stimulus::KeyPress(key))) if key.digit() == Some('5')
    )));
    let system = lab.system.as_mut().unwrap();
    system.send_message(Stimulus::StopRinger.into()).unwrap();
    lab.pump();
    assert_eq!(
        lab.take_phone_events(),
        [PhoneEvent::Received(Stimulus::StopRinger.into())]
    );
}

#[test]
fn nothing_is_sent_before_registration() {
    let mut phone = PhoneEngine::new(identity(PASSWORD), PhoneTimers::default(), 1);
    assert!(phone.send_message(Stimulus::OffHook.into()).is_err());
    let mut lab_phone = PhoneEngine::new(identity(PASSWORD), PhoneTimers::default(), 1);
    lab_phone.start();
    assert!(
        lab_phone.poll_transmit().is_none(),
        "nothing before the connection is up"
    );
}

#[test]
fn media_capabilities_are_announced_after_every_registration_with_the_own_address() {
    use crate::hfa::{CodecCapabilities, CodecEntry, PayloadType};
    use std::net::Ipv4Addr;

    let mut lab = Lab::new(PASSWORD, check_password);
    let capabilities: CodecCapabilities = [PayloadType::OPUS, PayloadType::PCMA]
        .into_iter()
        .map(|payload_type| CodecEntry {
            payload_type,
            packet_ms: 20,
            silence_suppression: false,
            rtp_port: 5004,
            rtcp_port: 5005,
            address: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        })
        .collect();
    lab.phone.announce_media(capabilities);
    lab.pump();
    let announced = |lab: &Lab| {
        lab.system_events
            .iter()
            .filter_map(|event| match event {
                SystemEvent::Received(Message::CodecCapabilities(caps)) => Some(caps.clone()),
                _ => None,
            })
            .collect::<Vec<_>>()
    };
    let first = announced(&lab);
    assert_eq!(first.len(), 1);
    let entries: Vec<_> = first[0]
        .codecs()
        .map(|e| (e.payload_type, e.address, e.rtp_port))
        .collect();
    assert_eq!(
        entries,
        [
            (PayloadType::OPUS, HOME_IP, 5004),
            (PayloadType::PCMA, HOME_IP, 5004)
        ]
    );
    // The gateway goes silent; the phone reconnects and announces again.
    lab.system_speaks = false;
    lab.advance(Duration::from_secs(25));
    lab.system_speaks = true;
    lab.advance(Duration::from_secs(2));
    assert_eq!(
        lab.phone.state(),
        &PhoneState::Registered {
            session: SessionId(7)
        }
    );
    assert_eq!(announced(&lab).len(), 2);
}
