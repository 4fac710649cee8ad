//! RFC 5780 NAT behaviour discovery (sections 4.3 and 4.4) as two sans-IO
//! engines, each over its own UDP socket so that one test's outgoing
//! packets cannot open the filter the other test probes:
//!
//! - [`MappingDiscovery`]: test I to the primary address learns the mapped
//!   address and OTHER-ADDRESS; test II to (other IP, primary port) and
//!   test III to (other IP, other port) tell whether the NAT keeps one
//!   public port for every destination.
//! - [`FilteringDiscovery`]: test I, then test II asks the server to answer
//!   from the other IP and port (CHANGE-REQUEST), test III from the other
//!   port only; which answers get through tells how the NAT filters.

use std::net::SocketAddr;
use std::time::Instant;

use super::client::{Client, Completed, Failure, InputError, Retransmission, Transmit};
use super::nat::{Filtering, Mapping, Undetermined};
use super::wire::Change;

/// The running state shared by both engines: a client, the server, and
/// the answer of test I.
#[derive(Debug)]
struct Probe {
    client: Client,
    server: SocketAddr,
    outcome: Option<Result<Discovered, Undetermined>>,
}

/// What test I learnt.
#[derive(Debug, Clone, Copy)]
struct TestI {
    mapped: SocketAddr,
    other: SocketAddr,
}

/// The result of a discovery, with the public address test I saw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Discovered {
    /// The public address and port of the probing socket (test I).
    pub public: SocketAddr,
    /// The behaviour found.
    pub behaviour: Behaviour,
}

/// Mapping or filtering, whichever the engine looked at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Behaviour {
    /// From [`MappingDiscovery`].
    Mapping(Mapping),
    /// From [`FilteringDiscovery`].
    Filtering(Filtering),
}

impl Probe {
    fn new(server: SocketAddr, retransmission: Retransmission, seed: u64) -> Self {
        Self {
            client: Client::new(retransmission, seed),
            server,
            outcome: None,
        }
    }

    fn send(&mut self, now: Instant, destination: SocketAddr, change: Change) {
        if let Err(error) = self.client.binding(now, destination, change) {
            self.outcome = Some(Err(Undetermined::Local(error.to_string())));
        }
    }

    /// Test I's answer, checked for RFC 5780 support.
    fn test_i(&self, done: Completed) -> Result<TestI, Undetermined> {
        let (binding, _) = done.result.map_err(|f| failed(self.server, f))?;
        let other = binding.other_address.ok_or(Undetermined::NoOtherAddress {
            server: self.server,
        })?;
        if other.ip() == self.server.ip() || other.port() == self.server.port() {
            return Err(Undetermined::OtherAddressInvalid {
                server: self.server,
                other,
            });
        }
        Ok(TestI {
            mapped: binding.mapped,
            other,
        })
    }

    fn finish(&mut self, outcome: Result<Discovered, Undetermined>) {
        self.outcome = Some(outcome);
    }
}

fn failed(server: SocketAddr, failure: Failure) -> Undetermined {
    match failure {
        Failure::TimedOut { .. } => Undetermined::NoResponse { server },
        Failure::ErrorResponse { code, reason, .. } => Undetermined::ErrorResponse {
            server,
            code,
            reason,
        },
    }
}

/// Implements the sans-IO loop of an engine over its [`Probe`].
macro_rules! probe_engine {
    ($engine:ident) => {
        impl $engine {
            /// Takes a datagram received on the engine's socket.
            pub fn handle_input(
                &mut self,
                now: Instant,
                from: SocketAddr,
                bytes: &[u8],
            ) -> Result<(), InputError> {
                self.probe.client.handle_input(now, from, bytes)?;
                self.advance(now);
                Ok(())
            }

            /// Retransmits, or moves on when a test timed out.
            pub fn handle_timeout(&mut self, now: Instant) {
                self.probe.client.handle_timeout(now);
                self.advance(now);
            }

            /// The next datagram to send from the engine's socket.
            pub fn poll_transmit(&mut self) -> Option<Transmit> {
                self.probe.client.poll_transmit()
            }

            /// When to call `handle_timeout`; `None` once finished.
            pub fn poll_timeout(&self) -> Option<Instant> {
                if self.probe.outcome.is_some() {
                    None
                } else {
                    self.probe.client.poll_timeout()
                }
            }

            /// The result, once the tests are over (taken once).
            pub fn poll_event(&mut self) -> Option<Result<Discovered, Undetermined>> {
                self.probe.outcome.take().inspect(|_| self.finished = true)
            }

            /// Whether the result has been delivered.
            pub fn is_finished(&self) -> bool {
                self.finished
            }

            fn advance(&mut self, now: Instant) {
                while let Some(done) = self.probe.client.poll_event() {
                    if self.probe.outcome.is_none() && !self.finished {
                        self.step(now, done);
                    }
                }
            }
        }
    };
}

#[derive(Debug, Clone, Copy)]
enum MappingStep {
    TestI,
    TestII(TestI),
    TestIII(TestI, SocketAddr),
}

/// RFC 5780 section 4.3: does the NAT keep one public address and port
/// for one socket whatever the destination?
#[derive(Debug)]
pub struct MappingDiscovery {
    probe: Probe,
    /// The probing socket's own address: a mapped address equal to it
    /// means no NAT at all.
    local: SocketAddr,
    step: MappingStep,
    finished: bool,
}

impl MappingDiscovery {
    /// Starts test I at `now`. `local` is the socket's own address (with a
    /// concrete IP, not 0.0.0.0).
    pub fn new(
        now: Instant,
        server: SocketAddr,
        local: SocketAddr,
        retransmission: Retransmission,
        seed: u64,
    ) -> Self {
        let mut probe = Probe::new(server, retransmission, seed);
        probe.send(now, server, Change::Nothing);
        Self {
            probe,
            local,
            step: MappingStep::TestI,
            finished: false,
        }
    }

    fn step(&mut self, now: Instant, done: Completed) {
        let server = self.probe.server;
        match self.step {
            MappingStep::TestI => match self.probe.test_i(done) {
                Err(why) => self.probe.finish(Err(why)),
                Ok(test) if test.mapped == self.local => self.probe.finish(Ok(Discovered {
                    public: test.mapped,
                    behaviour: Behaviour::Mapping(Mapping::NoNat),
                })),
                Ok(test) => {
                    self.step = MappingStep::TestII(test);
                    let destination = SocketAddr::new(test.other.ip(), server.port());
                    self.probe.send(now, destination, Change::Nothing);
                }
            },
            MappingStep::TestII(test) => match done.result {
                Err(failure) => self.probe.finish(Err(failed(done.destination, failure))),
                Ok((binding, _)) if binding.mapped == test.mapped => {
                    self.finish_with(test, Mapping::EndpointIndependent)
                }
                Ok((binding, _)) => {
                    self.step = MappingStep::TestIII(test, binding.mapped);
                    self.probe.send(now, test.other, Change::Nothing);
                }
            },
            MappingStep::TestIII(test, second) => match done.result {
                Err(failure) => self.probe.finish(Err(failed(done.destination, failure))),
                Ok((binding, _)) if binding.mapped == second => {
                    self.finish_with(test, Mapping::AddressDependent)
                }
                Ok(_) => self.finish_with(test, Mapping::AddressAndPortDependent),
            },
        }
    }

    fn finish_with(&mut self, test: TestI, mapping: Mapping) {
        self.probe.finish(Ok(Discovered {
            public: test.mapped,
            behaviour: Behaviour::Mapping(mapping),
        }));
    }
}

probe_engine!(MappingDiscovery);

#[derive(Debug, Clone, Copy)]
enum FilteringStep {
    TestI,
    TestII(TestI),
    TestIII(TestI),
}

/// RFC 5780 section 4.4: which senders may reach a mapped port?
#[derive(Debug)]
pub struct FilteringDiscovery {
    probe: Probe,
    step: FilteringStep,
    finished: bool,
}

impl FilteringDiscovery {
    /// Starts test I at `now`.
    pub fn new(
        now: Instant,
        server: SocketAddr,
        retransmission: Retransmission,
        seed: u64,
    ) -> Self {
        let mut probe = Probe::new(server, retransmission, seed);
        probe.send(now, server, Change::Nothing);
        Self {
            probe,
            step: FilteringStep::TestI,
            finished: false,
        }
    }

    fn step(&mut self, now: Instant, done: Completed) {
        let server = self.probe.server;
        match self.step {
            FilteringStep::TestI => match self.probe.test_i(done) {
                Err(why) => self.probe.finish(Err(why)),
                Ok(test) => {
                    self.step = FilteringStep::TestII(test);
                    self.probe.send(now, server, Change::AddressAndPort);
                }
            },
            FilteringStep::TestII(test) => match done.result {
                Ok((_, from)) => {
                    if from.ip() == server.ip() {
                        self.ignored_change(from);
                    } else {
                        self.finish_with(test, Filtering::EndpointIndependent);
                    }
                }
                Err(Failure::TimedOut { .. }) => {
                    self.step = FilteringStep::TestIII(test);
                    self.probe.send(now, server, Change::Port);
                }
                Err(failure) => self.probe.finish(Err(failed(server, failure))),
            },
            FilteringStep::TestIII(test) => match done.result {
                Ok((_, from)) => {
                    if from == server {
                        self.ignored_change(from);
                    } else {
                        self.finish_with(test, Filtering::AddressDependent);
                    }
                }
                Err(Failure::TimedOut { .. }) => {
                    self.finish_with(test, Filtering::AddressAndPortDependent)
                }
                Err(failure) => self.probe.finish(Err(failed(server, failure))),
            },
        }
    }

    /// The server answered a CHANGE-REQUEST from where it should not have.
    fn ignored_change(&mut self, from: SocketAddr) {
        self.probe.finish(Err(Undetermined::ChangeRequestIgnored {
            server: self.probe.server,
            from,
        }));
    }

    fn finish_with(&mut self, test: TestI, filtering: Filtering) {
        self.probe.finish(Ok(Discovered {
            public: test.mapped,
            behaviour: Behaviour::Filtering(filtering),
        }));
    }
}

probe_engine!(FilteringDiscovery);
