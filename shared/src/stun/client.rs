//! Binding transactions with RFC 8489 retransmission (section 6.2.1):
//! a request is sent at 0, RTO, 3·RTO, 7·RTO, ... (Rc sends in all, the
//! interval doubling each time) and fails when Rm·RTO passes after the
//! last send without a response.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::wire::{
    self, Binding, Change, EncodeError, Outcome, Transaction, WireError, decode_response,
};

/// RFC 8489 retransmission parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retransmission {
    /// The first retransmission timeout; it doubles after every send.
    pub rto: Duration,
    /// How many times a request is sent in all (Rc).
    pub rc: u32,
    /// After the last send, the wait for a response is `rm · rto` (Rm).
    pub rm: u32,
}

impl Retransmission {
    /// The RFC 8489 defaults: 500 ms, Rc 7, Rm 16 (gives up after 39.5 s).
    pub const RFC8489: Self = Self {
        rto: Duration::from_millis(500),
        rc: 7,
        rm: 16,
    };

    /// Shorter, for NAT behaviour discovery, where a filtering test's
    /// expected outcome *is* a timeout: 250 ms, Rc 4, Rm 4 (gives up after 2.75 s).
    pub const DISCOVERY: Self = Self {
        rto: Duration::from_millis(250),
        rc: 4,
        rm: 4,
    };

    /// How long after the first send the transaction gives up.
    pub fn give_up_after(&self) -> Duration {
        let sends = self.rc.max(1);
        // Sum of rto·2^k for k < sends-1, then rm·rto.
        let last_send = self.rto * ((1u32 << (sends - 1).min(30)) - 1);
        last_send + self.rto * self.rm
    }
}

impl Default for Retransmission {
    fn default() -> Self {
        Self::RFC8489
    }
}

/// Names one Binding request of a [`Client`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RequestId(u64);

/// Bytes to send, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transmit {
    /// The STUN server address (or its other address).
    pub destination: SocketAddr,
    /// One encoded Binding request.
    pub bytes: Vec<u8>,
}

/// Why a Binding request got no success response.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Failure {
    /// No response after every retransmission.
    #[error("no response from {destination} after {attempts} attempts over {waited:?}")]
    TimedOut {
        /// Where the request went.
        destination: SocketAddr,
        /// How many times it was sent.
        attempts: u32,
        /// How long the client waited in all.
        waited: Duration,
    },
    /// The server answered with an error response.
    #[error("{destination} answered error {code}: {reason}")]
    ErrorResponse {
        /// Where the request went.
        destination: SocketAddr,
        /// The STUN error code.
        code: u16,
        /// The server's reason phrase.
        reason: String,
    },
}

/// What happened to a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Completed {
    /// The request, as [`Client::binding`] returned it.
    pub request: RequestId,
    /// Where it was sent.
    pub destination: SocketAddr,
    /// The success response and the address it came from, or why none came.
    pub result: Result<(Binding, SocketAddr), Failure>,
}

/// Received bytes the client did not take (stray traffic or a misbehaving
/// peer); the owner may log them and carries on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InputError {
    /// Not a Binding response.
    #[error(transparent)]
    Wire(#[from] WireError),
    /// A Binding response to no request in flight (late, duplicate or forged).
    #[error("a Binding response from {from} to no request in flight")]
    UnknownTransaction {
        /// Where it came from.
        from: SocketAddr,
    },
}

#[derive(Debug)]
struct Pending {
    id: RequestId,
    transaction: Transaction,
    destination: SocketAddr,
    bytes: Vec<u8>,
    first_sent: Instant,
    sends: u32,
    next: Instant,
}

/// A sans-IO STUN client over one UDP socket: any number of Binding
/// requests in flight, each retransmitted until answered or given up.
#[derive(Debug)]
pub struct Client {
    retransmission: Retransmission,
    rng: StdRng,
    next_id: u64,
    pending: Vec<Pending>,
    transmits: VecDeque<Transmit>,
    events: VecDeque<Completed>,
}

impl Client {
    /// `seed` draws the transaction ids: drivers pass a random one
    /// (`rand::random()`), tests a fixed one.
    pub fn new(retransmission: Retransmission, seed: u64) -> Self {
        Self {
            retransmission,
            rng: StdRng::seed_from_u64(seed),
            next_id: 0,
            pending: Vec::new(),
            transmits: VecDeque::new(),
            events: VecDeque::new(),
        }
    }

    /// Sends a Binding request to `destination` now.
    pub fn binding(
        &mut self,
        now: Instant,
        destination: SocketAddr,
        change: Change,
    ) -> Result<RequestId, EncodeError> {
        let transaction: Transaction = self.rng.random();
        let bytes = wire::encode_request(transaction, change)?;
        let id = RequestId(self.next_id);
        self.next_id += 1;
        self.transmits.push_back(Transmit {
            destination,
            bytes: bytes.clone(),
        });
        self.pending.push(Pending {
            id,
            transaction,
            destination,
            bytes,
            first_sent: now,
            sends: 1,
            next: now + self.interval_after(1),
        });
        Ok(id)
    }

    /// Takes bytes received on the socket from `from`.
    pub fn handle_input(
        &mut self,
        _now: Instant,
        from: SocketAddr,
        bytes: &[u8],
    ) -> Result<(), InputError> {
        let response = decode_response(bytes)?;
        let index = self
            .pending
            .iter()
            .position(|p| p.transaction == response.transaction)
            .ok_or(InputError::UnknownTransaction { from })?;
        let pending = self.pending.swap_remove(index);
        let result = match response.outcome {
            Outcome::Success(binding) => Ok((binding, from)),
            Outcome::Error { code, reason } => Err(Failure::ErrorResponse {
                destination: pending.destination,
                code,
                reason,
            }),
        };
        self.events.push_back(Completed {
            request: pending.id,
            destination: pending.destination,
            result,
        });
        Ok(())
    }

    /// Retransmits what is due and gives up on what has waited long enough.
    pub fn handle_timeout(&mut self, now: Instant) {
        let rc = self.retransmission.rc.max(1);
        let mut index = 0;
        while index < self.pending.len() {
            let pending = &mut self.pending[index];
            if pending.next > now {
                index += 1;
                continue;
            }
            if pending.sends < rc {
                pending.sends += 1;
                let sends = pending.sends;
                self.transmits.push_back(Transmit {
                    destination: pending.destination,
                    bytes: pending.bytes.clone(),
                });
                let next = pending.next + self.interval_after(sends);
                self.pending[index].next = next;
                index += 1;
            } else {
                let pending = self.pending.swap_remove(index);
                self.events.push_back(Completed {
                    request: pending.id,
                    destination: pending.destination,
                    result: Err(Failure::TimedOut {
                        destination: pending.destination,
                        attempts: pending.sends,
                        waited: now.saturating_duration_since(pending.first_sent),
                    }),
                });
            }
        }
    }

    /// The next datagram to send.
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.transmits.pop_front()
    }

    /// The next completed request.
    pub fn poll_event(&mut self) -> Option<Completed> {
        self.events.pop_front()
    }

    /// When [`Client::handle_timeout`] is due; `None` with nothing in flight.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.pending.iter().map(|p| p.next).min()
    }

    /// Whether any request is still waiting for its response.
    pub fn is_idle(&self) -> bool {
        self.pending.is_empty()
    }

    /// The wait after the `sends`-th send: RTO doubling, then Rm·RTO after the last.
    fn interval_after(&self, sends: u32) -> Duration {
        let r = self.retransmission;
        if sends >= r.rc.max(1) {
            r.rto * r.rm
        } else {
            r.rto * (1u32 << (sends - 1).min(30))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stun::wire::{encode_error, encode_success};

    fn server() -> SocketAddr {
        "203.0.113.3:3478".parse().expect("addr")
    }

    fn transaction(bytes: &[u8]) -> Transaction {
        let mut id = [0; 12];
        id.copy_from_slice(&bytes[8..20]);
        id
    }

    /// Runs the client on a virtual clock with no server, recording when it sends.
    fn send_times(retransmission: Retransmission) -> (Vec<Duration>, Completed) {
        let start = Instant::now();
        let mut client = Client::new(retransmission, 1);
        client
            .binding(start, server(), Change::Nothing)
            .expect("encodes");
        let mut sends = Vec::new();
        let mut now = start;
        loop {
            while client.poll_transmit().is_some() {
                sends.push(now - start);
            }
            if let Some(done) = client.poll_event() {
                return (sends, done);
            }
            now = client.poll_timeout().expect("a timer while in flight");
            client.handle_timeout(now);
        }
    }

    #[test]
    fn rfc8489_schedule_sends_seven_times_and_gives_up_at_39_5_s() {
        let (sends, done) = send_times(Retransmission::RFC8489);
        let ms: Vec<u128> = sends.iter().map(Duration::as_millis).collect();
        assert_eq!(ms, [0, 500, 1500, 3500, 7500, 15500, 31500]);
        assert_eq!(
            done.result,
            Err(Failure::TimedOut {
                destination: server(),
                attempts: 7,
                waited: Duration::from_millis(39_500),
            })
        );
        assert_eq!(
            Retransmission::RFC8489.give_up_after(),
            Duration::from_millis(39_500)
        );
    }

    #[test]
    fn discovery_schedule_follows_its_own_parameters() {
        let (sends, done) = send_times(Retransmission::DISCOVERY);
        let ms: Vec<u128> = sends.iter().map(Duration::as_millis).collect();
        assert_eq!(ms, [0, 250, 750, 1750]);
        let Err(Failure::TimedOut { waited, .. }) = done.result else {
            panic!("expected a timeout, got {done:?}");
        };
        assert_eq!(waited, Retransmission::DISCOVERY.give_up_after());
    }

    #[test]
    fn a_response_to_a_retransmission_completes_and_stops_the_timer() {
        let start = Instant::now();
        let mut client = Client::new(Retransmission::RFC8489, 7);
        let id = client
            .binding(start, server(), Change::Nothing)
            .expect("encodes");
        let first = client.poll_transmit().expect("sent");
        client.handle_timeout(start + Duration::from_millis(500));
        let again = client.poll_transmit().expect("retransmitted");
        assert_eq!(first, again, "a retransmission is the same request");
        let mapped: SocketAddr = "198.51.100.7:40001".parse().expect("addr");
        let binding = Binding {
            mapped,
            other_address: None,
            response_origin: None,
        };
        let response = encode_success(transaction(&again.bytes), binding);
        client
            .handle_input(start + Duration::from_millis(600), server(), &response)
            .expect("taken");
        let done = client.poll_event().expect("completed");
        assert_eq!(done.request, id);
        assert_eq!(done.result, Ok((binding, server())));
        assert_eq!(client.poll_timeout(), None);
        assert!(client.is_idle());
        // The same response again is a stray.
        assert_eq!(
            client.handle_input(start + Duration::from_millis(700), server(), &response),
            Err(InputError::UnknownTransaction { from: server() })
        );
    }

    #[test]
    fn an_error_response_fails_the_request() {
        let start = Instant::now();
        let mut client = Client::new(Retransmission::RFC8489, 3);
        client
            .binding(start, server(), Change::Port)
            .expect("encodes");
        let sent = client.poll_transmit().expect("sent");
        let response = encode_error(transaction(&sent.bytes), 420, "Unknown Attribute");
        client
            .handle_input(start, server(), &response)
            .expect("taken");
        let done = client.poll_event().expect("completed");
        assert_eq!(
            done.result,
            Err(Failure::ErrorResponse {
                destination: server(),
                code: 420,
                reason: "Unknown Attribute".into()
            })
        );
    }

    #[test]
    fn transaction_ids_differ_between_requests() {
        let now = Instant::now();
        let mut client = Client::new(Retransmission::RFC8489, 5);
        client
            .binding(now, server(), Change::Nothing)
            .expect("encodes");
        client
            .binding(now, server(), Change::Nothing)
            .expect("encodes");
        let a = client.poll_transmit().expect("first");
        let b = client.poll_transmit().expect("second");
        assert_ne!(transaction(&a.bytes), transaction(&b.bytes));
    }
}
