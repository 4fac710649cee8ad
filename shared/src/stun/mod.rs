//! STUN (RFC 8489) and NAT behaviour discovery (RFC 5780), sans-IO.
//!
//! - [`Client`]: Binding requests over one UDP socket, retransmitted per
//!   RFC 8489 (RTO doubling, Rc sends, Rm·RTO final wait); the gateway asks
//!   it for its public address.
//! - [`MappingDiscovery`] and [`FilteringDiscovery`]: the RFC 5780 tests,
//!   each over its own socket; [`NatBehaviour`] puts their results into
//!   words and says whether the router is what the guide calls "Symmetric
//!   NAT" (Device@Home does not work with it).
//!
//! The owner moves datagrams between a UDP socket and the engine:
//!
//! ```text
//! engine.handle_input(now, from, bytes)   // a datagram from the socket
//! engine.handle_timeout(now)              // at poll_timeout()
//! engine.poll_transmit()                  // datagrams to send, with destination
//! engine.poll_event()                     // completed requests / the result
//! engine.poll_timeout()                   // next deadline
//! ```

mod client;
mod discovery;
mod nat;
mod wire;

pub use client::{Client, Completed, Failure, InputError, RequestId, Retransmission, Transmit};
pub use discovery::{Behaviour, Discovered, FilteringDiscovery, MappingDiscovery};
pub use nat::{Filtering, Mapping, NatBehaviour, Undetermined};
pub use wire::{Binding, Change, EncodeError, Outcome, Response, WireError, decode_response};

#[cfg(test)]
mod tests;
