//! Every IP address involved (guide 7 point 5): this machine's own, the
//! home router's public one as a STUN server sees it, and each gateway as
//! configured and as its name resolves now.

use std::net::{IpAddr, SocketAddr};

use gateway::config::net::{HostError, StunServer};
use gateway::stun::StunError;
use shared::stun::Retransmission;

/// This machine's interface addresses, `name address` each (loopback too:
/// the demo and the tests run there).
pub fn local_addresses() -> Vec<String> {
    let Ok(interfaces) = nix::ifaddrs::getifaddrs() else {
        return Vec::new();
    };
    interfaces
        .filter_map(|interface| {
            let address = interface.address?;
            let ip: IpAddr = if let Some(v4) = address.as_sockaddr_in() {
                IpAddr::V4(v4.ip())
            } else {
                IpAddr::V6(address.as_sockaddr_in6()?.ip())
            };
            Some(format!("{} {ip}", interface.interface_name))
        })
        .collect()
}

/// `configured` (host:port) and what it resolves to now, in words.
pub async fn resolved(configured: &str) -> String {
    match tokio::net::lookup_host(configured).await {
        Ok(found) => {
            let found: Vec<String> = found.map(|address| address.to_string()).collect();
            if found.is_empty() {
                "no address".to_owned()
            } else {
                found.join(", ")
            }
        }
        Err(error) => format!("does not resolve: {error}"),
    }
}

/// Why there is no public address to report.
#[derive(Debug, thiserror::Error)]
pub enum PublicAddressError {
    /// `--stun` is not host[:port].
    #[error("--stun {server:?}: not a STUN server host[:port]: {reason}")]
    NotAServer { server: String, reason: HostError },
    /// It does not resolve, or did not answer.
    #[error(transparent)]
    Stun(#[from] StunError),
}

/// The home router's public address from one STUN Binding request to
/// `server` (host[:port]), or why there is none.
pub async fn public_address(server: &str) -> Result<SocketAddr, PublicAddressError> {
    let parsed = StunServer::parse(server).map_err(|reason| PublicAddressError::NotAServer {
        server: server.to_owned(),
        reason,
    })?;
    let address = gateway::stun::resolve(&parsed).await?;
    Ok(gateway::stun::public_address(address, Retransmission::DISCOVERY).await?)
}
