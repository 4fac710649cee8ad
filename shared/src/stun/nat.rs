//! NAT behaviour in words (RFC 5780 terms), and what it means for
//! Device@Home (guide sections 1.3.2, 3.3 and 5: routers with "Symmetric
//! NAT" are not compatible).

use std::fmt;
use std::net::SocketAddr;

use super::discovery::{Behaviour, Discovered};

/// How a NAT maps one local socket to public ports (RFC 5780 section 4.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mapping {
    /// No NAT: the socket's own address is the public one.
    NoNat,
    /// One public port per local socket, whatever the destination.
    EndpointIndependent,
    /// A new public port per destination address ("symmetric NAT").
    AddressDependent,
    /// A new public port per destination address and port ("symmetric NAT").
    AddressAndPortDependent,
}

/// Which senders may reach a mapped public port (RFC 5780 section 4.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Filtering {
    /// Anyone ("full cone").
    EndpointIndependent,
    /// Only addresses the socket has sent to.
    AddressDependent,
    /// Only the exact addresses and ports the socket has sent to.
    AddressAndPortDependent,
}

/// Why the NAT behaviour could not be determined.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Undetermined {
    /// The STUN server never answered.
    #[error("could not determine: no response from the STUN server {server}")]
    NoResponse {
        /// The server asked.
        server: SocketAddr,
    },
    /// The server answered with a STUN error.
    #[error("could not determine: the STUN server {server} answered error {code} ({reason})")]
    ErrorResponse {
        /// The server asked.
        server: SocketAddr,
        /// The STUN error code.
        code: u16,
        /// Its reason phrase.
        reason: String,
    },
    /// The server has a single address: it cannot do RFC 5780 tests.
    #[error(
        "could not determine: the STUN server {server} does not support NAT behaviour \
         discovery (RFC 5780: no OTHER-ADDRESS in its response); use a STUN server with \
         two IP addresses"
    )]
    NoOtherAddress {
        /// The server asked.
        server: SocketAddr,
    },
    /// The server's OTHER-ADDRESS shares its IP or port with the primary one.
    #[error(
        "could not determine: the STUN server {server} gave OTHER-ADDRESS {other}, which \
         does not differ in both IP and port (RFC 5780)"
    )]
    OtherAddressInvalid {
        /// The server asked.
        server: SocketAddr,
        /// What it gave.
        other: SocketAddr,
    },
    /// The server answered a CHANGE-REQUEST from an address it was asked not to use.
    #[error(
        "could not determine: the STUN server {server} ignored CHANGE-REQUEST (answered from {from})"
    )]
    ChangeRequestIgnored {
        /// The server asked.
        server: SocketAddr,
        /// Where the answer came from.
        from: SocketAddr,
    },
    /// A local fault (a request could not be encoded).
    #[error("could not determine: {0}")]
    Local(String),
}

impl Mapping {
    /// Whether this is what the guide calls "Symmetric NAT".
    pub fn is_symmetric(self) -> bool {
        matches!(self, Self::AddressDependent | Self::AddressAndPortDependent)
    }
}

impl fmt::Display for Mapping {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::NoNat => "no NAT (the address is public)",
            Self::EndpointIndependent => {
                "endpoint-independent (one public port per socket, whatever the destination)"
            }
            Self::AddressDependent => {
                "address-dependent (a new public port for each destination address: symmetric NAT)"
            }
            Self::AddressAndPortDependent => {
                "address-and-port-dependent (a new public port for each destination address \
                 and port: symmetric NAT)"
            }
        })
    }
}

impl fmt::Display for Filtering {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::EndpointIndependent => {
                "endpoint-independent (anyone may send to a mapped port: full cone)"
            }
            Self::AddressDependent => {
                "address-dependent (only addresses this socket has sent to may answer)"
            }
            Self::AddressAndPortDependent => {
                "address-and-port-dependent (only the exact address and port this socket has \
                 sent to may answer)"
            }
        })
    }
}

/// Mapping and filtering of one NAT, as one report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NatBehaviour {
    /// The public address of the probing socket, when a test I answered.
    pub public: Option<SocketAddr>,
    /// The mapping behaviour, or why it is unknown.
    pub mapping: Result<Mapping, Undetermined>,
    /// The filtering behaviour, or why it is unknown.
    pub filtering: Result<Filtering, Undetermined>,
}

impl NatBehaviour {
    /// Combines the results of a [`super::MappingDiscovery`] and a
    /// [`super::FilteringDiscovery`].
    pub fn from_results(
        mapping: Result<Discovered, Undetermined>,
        filtering: Result<Discovered, Undetermined>,
    ) -> Self {
        let public = mapping
            .as_ref()
            .ok()
            .or(filtering.as_ref().ok())
            .map(|d| d.public);
        Self {
            public,
            mapping: mapping.and_then(|d| match d.behaviour {
                Behaviour::Mapping(m) => Ok(m),
                Behaviour::Filtering(_) => Err(Undetermined::Local(
                    "a filtering result given as the mapping".into(),
                )),
            }),
            filtering: filtering.and_then(|d| match d.behaviour {
                Behaviour::Filtering(f) => Ok(f),
                Behaviour::Mapping(_) => Err(Undetermined::Local(
                    "a mapping result given as the filtering".into(),
                )),
            }),
        }
    }

    /// Whether the router does what the guide calls "Symmetric NAT".
    pub fn is_symmetric(&self) -> bool {
        matches!(self.mapping, Ok(m) if m.is_symmetric())
    }

    /// The report, one line each: public address, mapping, filtering, and
    /// the guide's verdict. `router` names the router ("company internet
    /// router", "home router").
    pub fn report(&self, router: &str) -> Vec<String> {
        let mut lines = vec![match self.public {
            Some(public) => format!("public address: {public}"),
            None => "public address: unknown".to_owned(),
        }];
        lines.push(match &self.mapping {
            Ok(m) => format!("mapping: {m}"),
            Err(why) => format!("mapping: {why}"),
        });
        lines.push(match &self.filtering {
            Ok(f) => format!("filtering: {f}"),
            Err(why) => format!("filtering: {why}"),
        });
        lines.push(match &self.mapping {
            Ok(m) if m.is_symmetric() => format!(
                "WARNING: the {router} does symmetric NAT. Device@Home will not work with it \
                 (guide 1.3.2, 3.3, 5): change the router's NAT behaviour if it can be \
                 configured, or use another router or a VPN"
            ),
            Ok(_) => format!("the {router}'s NAT is compatible with Device@Home (not symmetric)"),
            Err(_) => format!(
                "the {router}'s NAT type could not be determined: Device@Home needs a router \
                 without symmetric NAT"
            ),
        });
        lines
    }
}
