//! Which STUN server the SBC uses to learn its public address (guide 2.4).
//!
//! "This STUN server configured in 'Edit STUN Configuration' will be used
//! only if no STUN server is configured for an ITSP": an ITSP with an
//! enabled STUN server wins (the first one in the file, if several), then
//! the system's `[stun]` server; with neither there is none.

use std::fmt;

use super::net::StunServer;

/// The STUN source in effect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EffectiveStun {
    /// The STUN server of an ITSP trunk with STUN enabled.
    Itsp {
        /// The trunk's name.
        trunk: String,
        /// Its STUN server.
        server: StunServer,
    },
    /// The system STUN configuration (`[stun] server`).
    System(StunServer),
    /// No STUN server: the public address cannot be detected.
    None,
}

impl EffectiveStun {
    /// The server to query, if any.
    pub fn server(&self) -> Option<&StunServer> {
        match self {
            Self::Itsp { server, .. } | Self::System(server) => Some(server),
            Self::None => None,
        }
    }
}

impl fmt::Display for EffectiveStun {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Itsp { trunk, server } => write!(f, "{server} (of ITSP {trunk})"),
            Self::System(server) => write!(f, "{server} (system STUN configuration)"),
            Self::None => f.write_str("none"),
        }
    }
}
