//! The myPortal to go VoIP API (Ours): what the app and the gateway say to
//! each other over HTTPS on TCP 8802 (guide 1.3.3, 4.2, 6).
//!
//! The real app's protocol is not public; `docs/portal-api.md` describes
//! ours: REST-like JSON requests, and one server-sent event stream per
//! session that carries registration and call state to the app. This module
//! holds the bodies and events both sides serialise, and the login proof.
//! Everything here is plain data: no sockets, no clock.

pub mod api;
pub mod auth;
pub mod events;

pub use api::{
    ApiError, AppInfo, Challenge, ChallengeRequest, CodecOffer, DialRequest, DtmfRequest,
    ErrorCode, LoginRequest, Session, VoipRegistered, VoipRegistration,
};
pub use auth::{LoginNonce, login_proof, verify_login_proof};
pub use events::{CallState, CallView, Event, MediaTarget, RegistrationState};

/// Path prefix of every endpoint.
pub const API_PREFIX: &str = "/api/v1";

/// The payload types the myPortal to go VoIP client may use: G.711 only
/// (guide 1.3.3).
pub const G711_PAYLOAD_TYPES: [u8; 2] = [PCMU_PAYLOAD_TYPE, PCMA_PAYLOAD_TYPE];

/// RFC 3551 static payload type of G.711 µ-law.
pub const PCMU_PAYLOAD_TYPE: u8 = 0;
/// RFC 3551 static payload type of G.711 A-law.
pub const PCMA_PAYLOAD_TYPE: u8 = 8;
