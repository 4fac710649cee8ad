//! STUN on real UDP sockets: thin tokio drivers of the sans-IO engines in
//! `shared::stun`. The gateway asks for its public address (guide 2.4) and
//! checks the company router's NAT type (guide 3.3); the softphone checks
//! the home router's (guide 5) with the same functions.

mod driver;

use std::io;
use std::net::{IpAddr, SocketAddr};

use shared::stun::{
    Change, Client, Failure, FilteringDiscovery, MappingDiscovery, NatBehaviour, Retransmission,
};
use tokio::net::UdpSocket;

use crate::config::net::{Host, StunServer};

/// Why a STUN query gave no address.
#[derive(Debug, thiserror::Error)]
pub enum StunError {
    /// The server's name does not resolve.
    #[error("STUN server {server}: its name does not resolve: {reason}")]
    Resolve {
        /// The server as configured.
        server: String,
        /// The resolver's answer.
        reason: String,
    },
    /// The local socket failed.
    #[error("STUN socket: {0}")]
    Io(#[from] io::Error),
    /// No (or an error) response.
    #[error("STUN: {0}")]
    Failed(#[from] Failure),
}

/// The address of a configured STUN server, resolved now (IPv4 first:
/// Device@Home needs the public IPv4 address, guide 4.1).
pub async fn resolve(server: &StunServer) -> Result<SocketAddr, StunError> {
    match &server.host {
        Host::Ip(ip) => Ok(SocketAddr::new(*ip, server.port)),
        Host::Dns(name) => {
            let resolve_error = |reason: String| StunError::Resolve {
                server: server.to_string(),
                reason,
            };
            let found: Vec<SocketAddr> = tokio::net::lookup_host((name.as_str(), server.port))
                .await
                .map_err(|e| resolve_error(e.to_string()))?
                .collect();
            found
                .iter()
                .find(|a| a.is_ipv4())
                .or(found.first())
                .copied()
                .ok_or_else(|| resolve_error("no address".into()))
        }
    }
}

/// This host's own address towards `server` (the kernel's route choice; no
/// packet is sent): what a socket's mapped address is compared with to
/// tell "no NAT".
async fn local_ip_towards(server: SocketAddr) -> io::Result<IpAddr> {
    let probe = UdpSocket::bind(unspecified(server)).await?;
    probe.connect(server).await?;
    Ok(probe.local_addr()?.ip())
}

fn unspecified(server: SocketAddr) -> SocketAddr {
    match server {
        SocketAddr::V4(_) => SocketAddr::from(([0, 0, 0, 0], 0)),
        SocketAddr::V6(_) => SocketAddr::from(([0u16; 8], 0)),
    }
}

/// One Binding request from a fresh socket: this host's public address and
/// port as `server` sees it (RFC 8489 retransmission).
pub async fn public_address(
    server: SocketAddr,
    retransmission: Retransmission,
) -> Result<SocketAddr, StunError> {
    let socket = UdpSocket::bind(unspecified(server)).await?;
    let mut client = Client::new(retransmission, rand::random());
    client
        .binding(std::time::Instant::now(), server, Change::Nothing)
        .map_err(io::Error::other)?;
    let done = driver::drive(&socket, &mut driver::ClientEngine(client)).await?;
    let (binding, _) = done.result?;
    Ok(binding.mapped)
}

/// RFC 5780 NAT behaviour discovery against `server` (which needs a second
/// address, OTHER-ADDRESS): the mapping and filtering tests run at once,
/// each on its own fresh socket.
pub async fn nat_behaviour(
    server: SocketAddr,
    retransmission: Retransmission,
) -> Result<NatBehaviour, StunError> {
    let local_ip = local_ip_towards(server).await?;
    let mapping_socket = UdpSocket::bind(SocketAddr::new(local_ip, 0)).await?;
    let filtering_socket = UdpSocket::bind(SocketAddr::new(local_ip, 0)).await?;
    let now = std::time::Instant::now();
    let mut mapping = MappingDiscovery::new(
        now,
        server,
        mapping_socket.local_addr()?,
        retransmission,
        rand::random(),
    );
    let mut filtering = FilteringDiscovery::new(now, server, retransmission, rand::random());
    let (mapping, filtering) = tokio::try_join!(
        driver::drive(&mapping_socket, &mut mapping),
        driver::drive(&filtering_socket, &mut filtering),
    )?;
    Ok(NatBehaviour::from_results(mapping, filtering))
}

/// What the reports call the router in front of the gateway.
pub const COMPANY_ROUTER: &str = "company internet router";

/// The NAT type check of the company internet router (guide 3.3) through
/// `server`: what `gateway nat-check` prints and `gateway run` logs at start.
pub async fn nat_check(server: &StunServer) -> Result<NatBehaviour, StunError> {
    let address = resolve(server).await?;
    nat_behaviour(address, Retransmission::DISCOVERY).await
}

/// Runs [`nat_check`] and logs its report, a symmetric NAT as a warning.
pub async fn log_nat_check(server: StunServer) {
    match nat_check(&server).await {
        Ok(behaviour) => {
            for line in behaviour.report(COMPANY_ROUTER) {
                if behaviour.is_symmetric() {
                    tracing::warn!("NAT check via STUN {server}: {line}");
                } else {
                    tracing::info!("NAT check via STUN {server}: {line}");
                }
            }
        }
        Err(error) => tracing::warn!("NAT check via STUN {server}: {error}"),
    }
}
