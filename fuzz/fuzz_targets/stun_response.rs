//! Arbitrary bytes as STUN Binding responses: into the decoder, and into a
//! client and both NAT discovery engines with the bytes' transaction id
//! patched to the one in flight (so the fuzzer reaches past the id check).
//! Nothing may panic.

#![no_main]

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use libfuzzer_sys::fuzz_target;
use shared::stun::{
    Change, Client, FilteringDiscovery, MappingDiscovery, Retransmission, decode_response,
};

const SERVER: &str = "203.0.113.3:3478";
const OTHER: &str = "203.0.113.4:3479";

/// The datagram with the transaction id of `request` (bytes 8..20).
fn answering(data: &[u8], request: &[u8]) -> Vec<u8> {
    let mut bytes = data.to_vec();
    if bytes.len() >= 20 && request.len() >= 20 {
        bytes[8..20].copy_from_slice(&request[8..20]);
    }
    bytes
}

fuzz_target!(|data: &[u8]| {
    let _ = decode_response(data);
    let server: SocketAddr = SERVER.parse().expect("address");
    let other: SocketAddr = OTHER.parse().expect("address");
    let local: SocketAddr = "192.168.178.20:40000".parse().expect("address");
    let now = Instant::now();

    let mut client = Client::new(Retransmission::RFC8489, 1);
    if client.binding(now, server, Change::Nothing).is_ok() {
        if let Some(sent) = client.poll_transmit() {
            let _ = client.handle_input(now, server, &answering(data, &sent.bytes));
            while client.poll_event().is_some() {}
        }
    }

    // Each discovery engine takes the datagram as the answer to every test,
    // from the primary and from the other address.
    let mut mapping = MappingDiscovery::new(now, server, local, Retransmission::DISCOVERY, 2);
    let mut filtering = FilteringDiscovery::new(now, server, Retransmission::DISCOVERY, 3);
    for (step, from) in [server, other, server, other].into_iter().enumerate() {
        let at = now + Duration::from_millis(step as u64);
        if let Some(sent) = mapping.poll_transmit() {
            let _ = mapping.handle_input(at, from, &answering(data, &sent.bytes));
        }
        if let Some(sent) = filtering.poll_transmit() {
            let _ = filtering.handle_input(at, from, &answering(data, &sent.bytes));
        }
        let _ = mapping.poll_event();
        let _ = filtering.poll_event();
    }
});
