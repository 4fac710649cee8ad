//! Events of the server-sent event stream (`GET /api/v1/events`): the SSE
//! `event:` field is the variant name in snake case, `data:` the JSON.

use std::net::SocketAddr;

use serde::{Deserialize, Serialize};

/// One event to the app.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    /// The VoIP registration of this session changed.
    Registration {
        state: RegistrationState,
        /// Why, in words, when not registered.
        #[serde(default)]
        reason: Option<String>,
    },
    /// The line's call changed.
    Call(CallView),
    /// The session was ended by the gateway (the user logged in elsewhere,
    /// the configuration changed, the gateway stops).
    LoggedOut { reason: String },
}

impl Event {
    /// The SSE `event:` name.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Registration { .. } => "registration",
            Self::Call(_) => "call",
            Self::LoggedOut { .. } => "logged_out",
        }
    }

    /// The SSE `data:` line (JSON never contains a newline here).
    pub fn to_data(&self) -> String {
        // Serialising plain owned data into a string cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Reads an SSE `data:` payload; a malformed one is an error, never a
    /// panic.
    pub fn from_data(data: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(data)
    }
}

/// VoIP registration state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RegistrationState {
    Registered,
    Unregistered,
}

/// The state of the user's line, as the app shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CallState {
    /// No call.
    Idle,
    /// Dialling (dial tone or digits being collected).
    Dialing,
    /// The other side is ringing.
    Calling,
    /// An incoming call is ringing here.
    Ringing,
    /// Talking.
    Connected,
    /// The call is on hold (this side holds).
    Held,
    /// The call failed or ended; `reason` says why. Idle follows.
    Ended,
}

/// The line as the gateway's call control sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallView {
    pub state: CallState,
    /// The other party: `"201 Anna"` as the phone's display shows it.
    #[serde(default)]
    pub peer: Option<String>,
    /// Why the call failed or ended, in words (`"Busy"`, `"Not allowed"`).
    #[serde(default)]
    pub reason: Option<String>,
    /// Where to send RTP, while connected.
    #[serde(default)]
    pub media: Option<MediaTarget>,
}

/// Where and how the app sends media for the connected call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct MediaTarget {
    /// The SBC's public channel port, or the peer on the LAN.
    pub rtp: SocketAddr,
    pub rtcp_port: u16,
    pub payload_type: u8,
    pub ptime_ms: u8,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_round_trip_through_their_data_line() {
        let events = [
            Event::Registration {
                state: RegistrationState::Unregistered,
                reason: Some("VoIP in remote WiFi networks is off".into()),
            },
            Event::Call(CallView {
                state: CallState::Connected,
                peer: Some("201 Anna".into()),
                reason: None,
                media: Some(MediaTarget {
                    rtp: "192.0.2.1:30274".parse().expect("address"),
                    rtcp_port: 30275,
                    payload_type: 8,
                    ptime_ms: 20,
                }),
            }),
            Event::LoggedOut {
                reason: "logged in elsewhere".into(),
            },
        ];
        for event in events {
            let data = event.to_data();
            assert!(!data.contains('\n'));
            assert_eq!(Event::from_data(&data).expect("round trip"), event);
        }
    }

    #[test]
    fn malformed_data_is_an_error() {
        for data in ["", "{", r#"{"type":"call"}"#, r#"{"type":"nope"}"#, "[]"] {
            assert!(Event::from_data(data).is_err(), "{data}");
        }
    }
}
