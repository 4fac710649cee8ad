//! NAT behaviour discovery against a scripted RFC 5780 server behind a
//! simulated NAT, on a virtual clock: every classification, and every
//! "could not determine".

use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use stun_rs::MessageDecoderBuilder;
use stun_rs::attributes::discovery::{ChangeRequest, ChangeRequestFlags};

use super::wire::{encode_error, encode_success};
use super::*;

const PRIMARY: &str = "203.0.113.3:3478";
const OTHER: &str = "203.0.113.4:3479";
const LOCAL: &str = "192.168.178.20:40000";
const PUBLIC_IP: &str = "203.0.113.20";

fn addr(s: &str) -> SocketAddr {
    s.parse().expect("address")
}

/// How the scripted server behaves.
#[derive(Clone, Copy)]
struct Server {
    /// Sends OTHER-ADDRESS and has a second address and port.
    rfc5780: bool,
    /// Answers CHANGE-REQUEST from the primary address anyway.
    ignores_change: bool,
    /// Answers CHANGE-REQUEST with 420 Unknown Attribute.
    rejects_change: bool,
    /// Never answers.
    silent: bool,
}

const RFC5780: Server = Server {
    rfc5780: true,
    ignores_change: false,
    rejects_change: false,
    silent: false,
};

/// A NAT in front of the client's socket (`None`: no NAT).
struct Nat {
    mode: Option<(Mapping, Filtering)>,
    ports: HashMap<String, u16>,
    next_port: u16,
    /// (public port, remote) pairs the inside has sent to.
    sent_to: HashSet<(u16, SocketAddr)>,
}

impl Nat {
    fn new(mode: Option<(Mapping, Filtering)>) -> Self {
        Self {
            mode,
            ports: HashMap::new(),
            next_port: 50_000,
            sent_to: HashSet::new(),
        }
    }

    /// The public address a packet to `destination` leaves from.
    fn outbound(&mut self, destination: SocketAddr) -> SocketAddr {
        let Some((mapping, _)) = self.mode else {
            return addr(LOCAL);
        };
        let key = match mapping {
            Mapping::NoNat | Mapping::EndpointIndependent => String::new(),
            Mapping::AddressDependent => destination.ip().to_string(),
            Mapping::AddressAndPortDependent => destination.to_string(),
        };
        let next = &mut self.next_port;
        let port = *self.ports.entry(key).or_insert_with(|| {
            *next += 1;
            *next
        });
        self.sent_to.insert((port, destination));
        SocketAddr::new(PUBLIC_IP.parse().expect("ip"), port)
    }

    /// Whether a packet from `from` to public port `port` gets in.
    fn inbound(&self, from: SocketAddr, port: u16) -> bool {
        let Some((_, filtering)) = self.mode else {
            return true;
        };
        match filtering {
            Filtering::EndpointIndependent => self.ports.values().any(|p| *p == port),
            Filtering::AddressDependent => self
                .sent_to
                .iter()
                .any(|(p, to)| *p == port && to.ip() == from.ip()),
            Filtering::AddressAndPortDependent => self.sent_to.contains(&(port, from)),
        }
    }
}

/// What the server answers a request, and from where.
fn serve(
    server: Server,
    at: SocketAddr,
    source: SocketAddr,
    bytes: &[u8],
) -> Option<(SocketAddr, Vec<u8>)> {
    if server.silent {
        return None;
    }
    let (request, _) = MessageDecoderBuilder::default()
        .build()
        .decode(bytes)
        .ok()?;
    let transaction = *request.transaction_id().as_bytes();
    let flags = request
        .get::<ChangeRequest>()
        .and_then(|a| a.as_change_request().ok())
        .map(|c| c.flags());
    let (primary, other) = (addr(PRIMARY), addr(OTHER));
    let (mut ip, mut port): (IpAddr, u16) = (at.ip(), at.port());
    if let Some(flags) = flags.filter(|f| !f.is_empty()) {
        if server.rejects_change {
            return Some((at, encode_error(transaction, 420, "Unknown Attribute")));
        }
        if !server.ignores_change {
            if flags.contains(ChangeRequestFlags::ChangeIp) {
                ip = if ip == primary.ip() {
                    other.ip()
                } else {
                    primary.ip()
                };
            }
            if flags.contains(ChangeRequestFlags::ChangePort) {
                port = if port == primary.port() {
                    other.port()
                } else {
                    primary.port()
                };
            }
        }
    }
    let from = SocketAddr::new(ip, port);
    let binding = Binding {
        mapped: source,
        other_address: server.rfc5780.then_some(other),
        response_origin: Some(from),
    };
    Some((from, encode_success(transaction, binding)))
}

/// The sans-IO loop shared by both engines.
trait Engine {
    fn input(&mut self, now: Instant, from: SocketAddr, bytes: &[u8]);
    fn timeout(&mut self, now: Instant);
    fn transmit(&mut self) -> Option<Transmit>;
    fn event(&mut self) -> Option<Result<Discovered, Undetermined>>;
    fn deadline(&self) -> Option<Instant>;
}

macro_rules! engine {
    ($t:ty) => {
        impl Engine for $t {
            fn input(&mut self, now: Instant, from: SocketAddr, bytes: &[u8]) {
                self.handle_input(now, from, bytes)
                    .expect("a response to our request");
            }
            fn timeout(&mut self, now: Instant) {
                self.handle_timeout(now)
            }
            fn transmit(&mut self) -> Option<Transmit> {
                self.poll_transmit()
            }
            fn event(&mut self) -> Option<Result<Discovered, Undetermined>> {
                self.poll_event()
            }
            fn deadline(&self) -> Option<Instant> {
                self.poll_timeout()
            }
        }
    };
}
engine!(MappingDiscovery);
engine!(FilteringDiscovery);

/// Runs an engine to its result through the NAT and server; returns the
/// result and the virtual time it took.
fn run(
    engine: &mut dyn Engine,
    nat: &mut Nat,
    server: Server,
    start: Instant,
) -> (Result<Discovered, Undetermined>, Duration) {
    let mut now = start;
    for _ in 0..1000 {
        while let Some(transmit) = engine.transmit() {
            let source = nat.outbound(transmit.destination);
            let answer = serve(server, transmit.destination, source, &transmit.bytes);
            if let Some((from, bytes)) =
                answer.filter(|(from, _)| nat.inbound(*from, source.port()))
            {
                engine.input(now, from, &bytes);
            }
        }
        if let Some(result) = engine.event() {
            assert_eq!(engine.deadline(), None, "no timer once finished");
            return (result, now - start);
        }
        now = engine.deadline().expect("a timer while testing");
        engine.timeout(now);
    }
    panic!("discovery never finished");
}

fn mapping(mode: Option<(Mapping, Filtering)>, server: Server) -> Result<Discovered, Undetermined> {
    let start = Instant::now();
    let mut engine = MappingDiscovery::new(
        start,
        addr(PRIMARY),
        addr(LOCAL),
        Retransmission::DISCOVERY,
        11,
    );
    run(&mut engine, &mut Nat::new(mode), server, start).0
}

fn filtering(
    mode: Option<(Mapping, Filtering)>,
    server: Server,
) -> (Result<Discovered, Undetermined>, Duration) {
    let start = Instant::now();
    let mut engine = FilteringDiscovery::new(start, addr(PRIMARY), Retransmission::DISCOVERY, 12);
    run(&mut engine, &mut Nat::new(mode), server, start)
}

const ALL_MAPPINGS: [Mapping; 3] = [
    Mapping::EndpointIndependent,
    Mapping::AddressDependent,
    Mapping::AddressAndPortDependent,
];
const ALL_FILTERINGS: [Filtering; 3] = [
    Filtering::EndpointIndependent,
    Filtering::AddressDependent,
    Filtering::AddressAndPortDependent,
];

#[test]
fn every_mapping_behaviour_is_classified() {
    for m in ALL_MAPPINGS {
        for f in ALL_FILTERINGS {
            let found = mapping(Some((m, f)), RFC5780).expect("determined");
            assert_eq!(found.behaviour, Behaviour::Mapping(m), "NAT {m:?}/{f:?}");
            assert_eq!(found.public.ip(), PUBLIC_IP.parse::<IpAddr>().expect("ip"));
        }
    }
}

#[test]
fn every_filtering_behaviour_is_classified() {
    for m in ALL_MAPPINGS {
        for f in ALL_FILTERINGS {
            let (found, _) = filtering(Some((m, f)), RFC5780);
            assert_eq!(
                found.expect("determined").behaviour,
                Behaviour::Filtering(f),
                "NAT {m:?}/{f:?}"
            );
        }
    }
}

#[test]
fn filtering_tests_wait_out_their_timeouts() {
    let give_up = Retransmission::DISCOVERY.give_up_after();
    let (_, open) = filtering(
        Some((Mapping::EndpointIndependent, Filtering::EndpointIndependent)),
        RFC5780,
    );
    let (_, strict) = filtering(
        Some((
            Mapping::EndpointIndependent,
            Filtering::AddressAndPortDependent,
        )),
        RFC5780,
    );
    assert_eq!(open, Duration::ZERO, "every answer arrives at once");
    assert_eq!(strict, give_up * 2, "tests II and III both time out");
}

#[test]
fn a_public_socket_has_no_nat() {
    let found = mapping(None, RFC5780).expect("determined");
    assert_eq!(found.behaviour, Behaviour::Mapping(Mapping::NoNat));
    assert_eq!(found.public, addr(LOCAL));
}

#[test]
fn a_server_without_rfc5780_cannot_determine() {
    let plain = Server {
        rfc5780: false,
        ..RFC5780
    };
    let nat = Some((
        Mapping::EndpointIndependent,
        Filtering::AddressAndPortDependent,
    ));
    let expected = Undetermined::NoOtherAddress {
        server: addr(PRIMARY),
    };
    assert_eq!(mapping(nat, plain), Err(expected.clone()));
    assert_eq!(filtering(nat, plain).0, Err(expected.clone()));
    let report = NatBehaviour::from_results(mapping(nat, plain), filtering(nat, plain).0);
    assert_eq!(report.public, None);
    assert!(
        report
            .report("home router")
            .iter()
            .any(|l| l.contains("could not determine")
                && l.contains("does not support NAT behaviour discovery"))
    );
}

#[test]
fn a_silent_server_cannot_determine() {
    let silent = Server {
        silent: true,
        ..RFC5780
    };
    assert_eq!(
        mapping(None, silent),
        Err(Undetermined::NoResponse {
            server: addr(PRIMARY)
        })
    );
}

#[test]
fn a_server_ignoring_change_request_is_not_taken_for_a_full_cone() {
    let liar = Server {
        ignores_change: true,
        ..RFC5780
    };
    let nat = Some((
        Mapping::EndpointIndependent,
        Filtering::AddressAndPortDependent,
    ));
    assert!(matches!(
        filtering(nat, liar).0,
        Err(Undetermined::ChangeRequestIgnored { .. })
    ));
}

#[test]
fn a_server_rejecting_change_request_cannot_determine_filtering() {
    let old = Server {
        rejects_change: true,
        ..RFC5780
    };
    let nat = Some((Mapping::EndpointIndependent, Filtering::EndpointIndependent));
    assert!(matches!(
        filtering(nat, old).0,
        Err(Undetermined::ErrorResponse { code: 420, .. })
    ));
}

#[test]
fn symmetric_nat_is_reported_as_the_guide_says() {
    let nat = Some((
        Mapping::AddressAndPortDependent,
        Filtering::AddressAndPortDependent,
    ));
    let report = NatBehaviour::from_results(mapping(nat, RFC5780), filtering(nat, RFC5780).0);
    assert!(report.is_symmetric());
    let lines = report.report("home router").join("\n");
    assert!(lines.contains("symmetric NAT"), "{lines}");
    assert!(lines.contains("Device@Home will not work"), "{lines}");

    let normal = Some((
        Mapping::EndpointIndependent,
        Filtering::AddressAndPortDependent,
    ));
    let report = NatBehaviour::from_results(mapping(normal, RFC5780), filtering(normal, RFC5780).0);
    assert!(!report.is_symmetric());
    assert!(
        report
            .report("home router")
            .join("\n")
            .contains("compatible with Device@Home")
    );
}
