//! What a scenario file says, as data: the parties (HFA phones and
//! myPortal to go apps with their accounts) and the steps, in order.
//!
//! Steps are one enum tagged by `action`, so a new kind of party (SIP
//! Device@Home) or step is a new variant, checked where parties are
//! matched to steps ([`Step::fits`]).

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

use crate::cli::PhoneType;
use crate::portal::Network;

/// The step timeout when the scenario gives none.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// A whole scenario file.
#[derive(Debug, Clone)]
pub struct Scenario {
    pub name: String,
    pub description: String,
    pub parties: Vec<Party>,
    pub steps: Vec<Step>,
}

/// The top of the file, before the parties and steps are read one by one
/// (so that an error names the party or step it is in).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Header {
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default, deserialize_with = "duration")]
    pub timeout: Option<Duration>,
    /// Defaults of the `${name}` variables; `--set` and the address
    /// options override them.
    #[serde(default)]
    pub vars: BTreeMap<String, String>,
    #[serde(default, rename = "party")]
    pub parties: Vec<toml::Value>,
    #[serde(default, rename = "step")]
    pub steps: Vec<toml::Value>,
}

/// One party: a named phone or app.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Party {
    /// An OpenStage HFA phone (guide 4.1).
    Hfa(HfaParty),
    /// The myPortal to go app's VoIP client (guide 4.2).
    Portal(PortalParty),
}

impl Party {
    pub fn name(&self) -> &str {
        match self {
            Self::Hfa(party) => &party.name,
            Self::Portal(party) => &party.name,
        }
    }
}

/// An HFA phone's account and identity.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HfaParty {
    pub name: String,
    /// The company's address with the forwarded port, e.g. `${gateway}`.
    pub gateway: String,
    pub number: String,
    /// The password itself (test accounts), or...
    #[serde(default)]
    pub password: Option<String>,
    /// ...the file whose first line is the password.
    #[serde(default)]
    pub password_file: Option<PathBuf>,
    #[serde(default)]
    pub phone_type: Option<PhoneType>,
    /// Firmware reported, e.g. V3R1.41.0.
    #[serde(default)]
    pub software_version: Option<String>,
    /// Local address to connect from (a home address registers "over the
    /// internet").
    #[serde(default)]
    pub bind: Option<IpAddr>,
}

/// A myPortal to go app's account and settings.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PortalParty {
    pub name: String,
    pub user: String,
    /// The password itself (test accounts), or...
    #[serde(default)]
    pub password: Option<String>,
    /// ...the file whose first line is the password.
    #[serde(default)]
    pub password_file: Option<PathBuf>,
    /// WAN server, e.g. `${portal}`.
    pub wan: String,
    /// LAN server (company WiFi).
    #[serde(default)]
    pub lan: Option<String>,
    #[serde(default = "company_wifi")]
    pub network: Network,
    /// "Use VoIP in remote WiFi networks".
    #[serde(default)]
    pub remote_wifi_voip: bool,
    /// Trust exactly this certificate (SHA-256, AB:CD:...).
    #[serde(default)]
    pub pin: Option<String>,
    /// Or trust the CA(s) in this PEM file.
    #[serde(default)]
    pub ca: Option<PathBuf>,
    /// Local address in the company WiFi.
    #[serde(default)]
    pub bind: Option<IpAddr>,
    /// Local address in a remote WiFi and on mobile data.
    #[serde(default)]
    pub home_bind: Option<IpAddr>,
}

fn company_wifi() -> Network {
    Network::CompanyWifi
}

/// One step: what to do or expect, by which party, within which time.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    /// 1-based, as reports name it.
    pub number: usize,
    pub action: Action,
    pub timeout: Duration,
}

/// A call state both kinds of party show (HFA phones by their display,
/// tones and media; apps by the gateway's call view).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CallStateName {
    Idle,
    /// Dial tone or digits being entered.
    Dialing,
    /// Our call rings at the other side.
    Calling,
    /// A call rings here.
    Ringing,
    Connected,
    /// A call is on hold (held here or by the other side).
    Held,
    /// Refused, busy or ended by the other side.
    Ended,
}

/// The call-progress tones of an HFA phone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ToneName {
    None,
    Dial,
    RingBack,
    Busy,
    Congestion,
}

/// What a step does. The `party` names one of the scenario's parties.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "action", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Action {
    /// Start the party and wait until it is registered, or, with
    /// `refused`, until the registration is refused with words that
    /// contain this text.
    Register {
        party: String,
        #[serde(default)]
        refused: Option<String>,
    },
    /// Dial a number: off-hook and the keys then `#` (HFA), a dial request
    /// (app).
    Dial {
        party: String,
        number: String,
    },
    /// Answer the ringing call.
    Answer {
        party: String,
    },
    /// Wait for display text (HFA): each given row contains its text.
    ExpectDisplay {
        party: String,
        #[serde(default)]
        top: Option<String>,
        #[serde(default)]
        bottom: Option<String>,
    },
    /// Wait for a call state.
    ExpectCall {
        party: String,
        state: CallStateName,
        /// The reason an app's ended call gives contains this.
        #[serde(default)]
        reason: Option<String>,
    },
    /// Wait for a tone (HFA).
    ExpectTone {
        party: String,
        tone: ToneName,
    },
    /// Wait for the app's status text (guide 4.2) to contain `text`.
    ExpectStatus {
        party: String,
        text: String,
    },
    /// Wait for a line the party prints (as the headless commands print
    /// them, e.g. "led: FPK4 Forward on", "registered: ...") containing
    /// `line`.
    WaitFor {
        party: String,
        line: String,
    },
    /// Send DTMF digits in the call.
    Dtmf {
        party: String,
        digits: String,
    },
    Hold {
        party: String,
    },
    Retrieve {
        party: String,
    },
    /// Connect the held party with the consultation call (HFA).
    Transfer {
        party: String,
    },
    /// Forward calls to `to` (HFA), or clear forwarding without `to`.
    Forward {
        party: String,
        #[serde(default)]
        to: Option<String>,
    },
    /// Press the function key labelled `label` (HFA).
    PressKey {
        party: String,
        label: String,
    },
    /// Move the app to another network (as `portal demo-switch` does).
    Network {
        party: String,
        network: Network,
    },
    /// Switch "Use VoIP in remote WiFi networks".
    RemoteWifiVoip {
        party: String,
        on: bool,
    },
    /// Wait for `packets` received in the call, then check its figures.
    Quality {
        party: String,
        #[serde(default)]
        min_mos: Option<f64>,
        #[serde(default)]
        max_loss_percent: Option<f64>,
        #[serde(default)]
        max_jitter_ms: Option<f64>,
        #[serde(default = "quality_packets")]
        packets: u64,
    },
    /// Hang up (on-hook, or the Release key while handsfree; hang-up
    /// request for an app).
    HangUp {
        party: String,
    },
    /// Stop the party (close its connection, log out).
    Stop {
        party: String,
    },
}

/// 100 packets: 2 s of 20 ms G.711, enough for loss and jitter to mean
/// something.
fn quality_packets() -> u64 {
    100
}

impl Action {
    /// The `action` value that names it.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Register { .. } => "register",
            Self::Dial { .. } => "dial",
            Self::Answer { .. } => "answer",
            Self::ExpectDisplay { .. } => "expect-display",
            Self::ExpectCall { .. } => "expect-call",
            Self::ExpectTone { .. } => "expect-tone",
            Self::ExpectStatus { .. } => "expect-status",
            Self::WaitFor { .. } => "wait-for",
            Self::Dtmf { .. } => "dtmf",
            Self::Hold { .. } => "hold",
            Self::Retrieve { .. } => "retrieve",
            Self::Transfer { .. } => "transfer",
            Self::Forward { .. } => "forward",
            Self::PressKey { .. } => "press-key",
            Self::Network { .. } => "network",
            Self::RemoteWifiVoip { .. } => "remote-wifi-voip",
            Self::Quality { .. } => "quality",
            Self::HangUp { .. } => "hang-up",
            Self::Stop { .. } => "stop",
        }
    }

    /// The party the step is about.
    pub fn party(&self) -> &str {
        match self {
            Self::Register { party, .. }
            | Self::Dial { party, .. }
            | Self::Answer { party }
            | Self::ExpectDisplay { party, .. }
            | Self::ExpectCall { party, .. }
            | Self::ExpectTone { party, .. }
            | Self::ExpectStatus { party, .. }
            | Self::WaitFor { party, .. }
            | Self::Dtmf { party, .. }
            | Self::Hold { party }
            | Self::Retrieve { party }
            | Self::Transfer { party }
            | Self::Forward { party, .. }
            | Self::PressKey { party, .. }
            | Self::Network { party, .. }
            | Self::RemoteWifiVoip { party, .. }
            | Self::Quality { party, .. }
            | Self::HangUp { party }
            | Self::Stop { party } => party,
        }
    }

    /// Whether a party of this kind can take the step; `Err` says why not.
    pub fn fits(&self, party: &Party) -> Result<(), WrongParty> {
        let hfa_only = matches!(
            self,
            Self::ExpectDisplay { .. }
                | Self::ExpectTone { .. }
                | Self::Transfer { .. }
                | Self::Forward { .. }
                | Self::PressKey { .. }
        );
        let portal_only = matches!(
            self,
            Self::ExpectStatus { .. } | Self::Network { .. } | Self::RemoteWifiVoip { .. }
        );
        match party {
            Party::Portal(_) if hfa_only => Err(WrongParty::HfaOnly {
                party: party.name().to_owned(),
                action: self.name(),
            }),
            Party::Hfa(_) if portal_only => Err(WrongParty::PortalOnly {
                party: party.name().to_owned(),
                action: self.name(),
            }),
            _ => Ok(()),
        }
    }
}

/// A humantime duration ("10s", "500ms", "1m 30s").
fn duration<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
    let text = String::deserialize(d)?;
    parse_duration(&text)
        .map(Some)
        .map_err(serde::de::Error::custom)
}

/// Parses a duration as the scenario file writes it.
pub fn parse_duration(text: &str) -> Result<Duration, NotADuration> {
    humantime::parse_duration(text).map_err(|source| NotADuration {
        text: text.to_owned(),
        source,
    })
}

/// A step that the kind of its party cannot take.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WrongParty {
    /// A display, tone or function-key step for an app.
    #[error(
        "party {party:?} is a myPortal to go app; {action} is for HFA phones (their display, \
         tones and function keys)"
    )]
    HfaOnly { party: String, action: &'static str },
    /// A status or network step for an HFA phone.
    #[error("party {party:?} is an HFA phone; {action} is for myPortal to go apps (guide 4.2)")]
    PortalOnly { party: String, action: &'static str },
}

/// A duration the scenario file wrote wrongly.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{text:?} is not a duration like 10s, 500ms or 1m: {source}")]
pub struct NotADuration {
    pub text: String,
    source: humantime::DurationError,
}
