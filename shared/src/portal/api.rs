//! Request and response bodies of the myPortal to go API (JSON).
//!
//! Field names are the wire names. Unknown fields are refused in requests
//! (a client bug shows at once) and ignored in responses and events (an
//! older app keeps working against a newer gateway).

use std::fmt;
use std::net::SocketAddr;

use serde::{Deserialize, Serialize};

/// `POST /api/v1/login/challenge`: asks for a server nonce.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChallengeRequest {
    /// The user's call number.
    pub user: String,
}

/// The answer to a [`ChallengeRequest`]: one login attempt within 30 s.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Challenge {
    /// Names the challenge in the login that answers it.
    pub challenge_id: String,
    /// The server nonce, 64 hex digits.
    pub nonce: String,
    /// Seconds the challenge stays valid.
    pub expires_in_s: u64,
}

/// Which app logs in: the gateway checks the version against the guide's
/// minimum for VoIP (guide 4: myPortal to go (Android) VoIP V2R1.61.14).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppInfo {
    /// `"android"` or `"ios"`.
    pub platform: String,
    /// The app's version, e.g. `"V2R1.61.14"`.
    pub version: String,
}

/// `POST /api/v1/login`: the proof of the UC password.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub user: String,
    pub challenge_id: String,
    /// The app's own nonce, 64 hex digits.
    pub client_nonce: String,
    /// `HMAC-SHA256` proof, 64 hex digits (see [`super::auth`]).
    pub proof: String,
    pub app: AppInfo,
}

/// A session: sent as `Authorization: Bearer <token>` on every further
/// request. `Debug` never shows the token (it is as good as the password
/// until the session ends).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    pub token: String,
    /// Seconds until the session ends unless refreshed
    /// (`POST /api/v1/session/refresh`).
    pub expires_in_s: u64,
    /// The user's call number and name.
    pub number: String,
    pub name: String,
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("token", &"***")
            .field("expires_in_s", &self.expires_in_s)
            .field("number", &self.number)
            .field("name", &self.name)
            .finish()
    }
}

/// One codec the app offers, in its order of preference.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CodecOffer {
    /// Encoding name: `"PCMA"`, `"PCMU"` (anything else is refused).
    pub name: String,
    /// RTP payload type.
    pub payload_type: u8,
    /// Packet size wanted, in ms.
    pub ptime_ms: u8,
}

/// `POST /api/v1/voip/register`: the app's media, once logged in. Sent
/// again, with a new address, after every change of network: the call in
/// progress stays up and its media is re-anchored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VoipRegistration {
    /// Where the app receives RTP (RTCP on the next port).
    pub rtp: SocketAddr,
    pub codecs: Vec<CodecOffer>,
}

/// The answer to a [`VoipRegistration`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VoipRegistered {
    pub number: String,
    /// The offered codecs the gateway accepted, in the app's order.
    pub codecs: Vec<CodecOffer>,
    /// Whether the gateway sees this registration as coming over the
    /// internet (its calls then go through the SBC).
    pub internet: bool,
}

/// `POST /api/v1/call/dial`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DialRequest {
    /// Digits as dialled (`0`-`9`, `*`, `#`), e.g. `"201"` or `"0089..."`.
    pub number: String,
}

/// `POST /api/v1/call/dtmf`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DtmfRequest {
    /// `0`-`9`, `*`, `#`, `A`-`D`.
    pub digits: String,
}

/// Why a request was refused: the body of every 4xx/5xx answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiError {
    pub code: ErrorCode,
    /// For the user, in words (names the guide's rule where one applies).
    pub message: String,
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// Machine-readable reason of an [`ApiError`]. An unknown code from a
/// newer gateway reads as [`ErrorCode::Other`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The body or a parameter is malformed.
    BadRequest,
    /// The challenge is unknown, used or expired: ask for a new one.
    ChallengeExpired,
    /// No such user, or the proof is wrong (the two are not told apart).
    LoginFailed,
    /// Too many failed logins from this address or for this user.
    LockedOut,
    /// The user is not a myPortal to go client.
    WrongClientKind,
    /// The user has no IP user license (guide 1.2.1).
    NoLicense,
    /// "Internet Registration with internal SBC" is off (guide 2.2).
    InternetRegistrationDisabled,
    /// The app is older than the guide's minimum (guide 4).
    VersionTooOld,
    /// Deskshare users cannot use myPortal to go VoIP (guide 1.3.3).
    DeskshareUser,
    /// A codec other than G.711 was offered (guide 1.3.3).
    CodecNotSupported,
    /// No `Authorization`, or the session ended or expired.
    Unauthorized,
    /// The request needs a VoIP registration first.
    NotRegistered,
    /// Nothing to answer, hang up, hold or retrieve.
    NoCall,
    /// Anything else (a newer gateway's code).
    #[serde(other)]
    Other,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_debugs_without_its_token() {
        let session = Session {
            token: "b7f3c9e1-bearer".into(),
            expires_in_s: 3600,
            number: "210".into(),
            name: "Dan".into(),
        };
        let shown = format!("{session:?} {session:#?}");
        assert!(!shown.contains("b7f3c9e1"), "{shown}");
        assert!(shown.contains("***") && shown.contains("3600") && shown.contains("\"210\""));
    }

    #[test]
    fn unknown_error_codes_from_a_newer_gateway_read_as_other() {
        let error: ApiError =
            serde_json::from_str(r#"{"code":"moon_phase","message":"try later"}"#)
                .expect("an unknown code still parses");
        assert_eq!(error.code, ErrorCode::Other);
        let known: ApiError =
            serde_json::from_str(r#"{"code":"codec_not_supported","message":"G.711 only"}"#)
                .expect("known code");
        assert_eq!(known.code, ErrorCode::CodecNotSupported);
    }

    #[test]
    fn requests_refuse_unknown_fields() {
        let error = serde_json::from_str::<DialRequest>(r#"{"number":"201","cc":"1"}"#);
        assert!(error.is_err());
    }
}
