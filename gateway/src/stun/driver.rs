//! The one loop that moves datagrams between a UDP socket and a STUN engine.

use std::io;
use std::net::SocketAddr;
use std::time::Instant;

use shared::stun::{
    Client, Completed, Discovered, FilteringDiscovery, InputError, MappingDiscovery, Transmit,
    Undetermined,
};
use tokio::net::UdpSocket;

/// The sans-IO surface the loop needs.
pub(super) trait Engine {
    type Event;
    fn handle_input(
        &mut self,
        now: Instant,
        from: SocketAddr,
        bytes: &[u8],
    ) -> Result<(), InputError>;
    fn handle_timeout(&mut self, now: Instant);
    fn poll_transmit(&mut self) -> Option<Transmit>;
    fn poll_event(&mut self) -> Option<Self::Event>;
    fn poll_timeout(&self) -> Option<Instant>;
}

/// A [`Client`] with one request in flight, as an [`Engine`].
pub(super) struct ClientEngine(pub Client);

impl Engine for ClientEngine {
    type Event = Completed;
    fn handle_input(
        &mut self,
        now: Instant,
        from: SocketAddr,
        bytes: &[u8],
    ) -> Result<(), InputError> {
        self.0.handle_input(now, from, bytes)
    }
    fn handle_timeout(&mut self, now: Instant) {
        self.0.handle_timeout(now);
    }
    fn poll_transmit(&mut self) -> Option<Transmit> {
        self.0.poll_transmit()
    }
    fn poll_event(&mut self) -> Option<Completed> {
        self.0.poll_event()
    }
    fn poll_timeout(&self) -> Option<Instant> {
        self.0.poll_timeout()
    }
}

macro_rules! discovery_engine {
    ($t:ty) => {
        impl Engine for $t {
            type Event = Result<Discovered, Undetermined>;
            fn handle_input(
                &mut self,
                now: Instant,
                from: SocketAddr,
                bytes: &[u8],
            ) -> Result<(), InputError> {
                <$t>::handle_input(self, now, from, bytes)
            }
            fn handle_timeout(&mut self, now: Instant) {
                <$t>::handle_timeout(self, now);
            }
            fn poll_transmit(&mut self) -> Option<Transmit> {
                <$t>::poll_transmit(self)
            }
            fn poll_event(&mut self) -> Option<Self::Event> {
                <$t>::poll_event(self)
            }
            fn poll_timeout(&self) -> Option<Instant> {
                <$t>::poll_timeout(self)
            }
        }
    };
}
discovery_engine!(MappingDiscovery);
discovery_engine!(FilteringDiscovery);

/// Runs `engine` on `socket` until its first event.
pub(super) async fn drive<E: Engine>(socket: &UdpSocket, engine: &mut E) -> io::Result<E::Event> {
    let mut buffer = [0u8; 1500];
    loop {
        while let Some(transmit) = engine.poll_transmit() {
            socket
                .send_to(&transmit.bytes, transmit.destination)
                .await?;
        }
        if let Some(event) = engine.poll_event() {
            return Ok(event);
        }
        let deadline = engine
            .poll_timeout()
            .ok_or_else(|| io::Error::other("the STUN engine stopped without a result"))?;
        tokio::select! {
            received = socket.recv_from(&mut buffer) => match received {
                Ok((len, from)) => {
                    if let Err(ignored) = engine.handle_input(Instant::now(), from, &buffer[..len]) {
                        tracing::debug!(%from, "STUN: ignored a datagram: {ignored}");
                    }
                }
                // An ICMP error for an earlier datagram: the retransmission
                // timer decides.
                Err(error) if error.kind() == io::ErrorKind::ConnectionRefused => {}
                Err(error) => return Err(error),
            },
            () = tokio::time::sleep_until(deadline.into()) => engine.handle_timeout(Instant::now()),
        }
    }
}
