//! System clients (guide 2.2): the phones and apps that register with the
//! system, each under its own call number.

use std::fmt;

use serde::Deserialize;

use super::cos::{self, BarReason, CallClass, ClassOfService};
use super::secret::Secret;

/// One `[[clients]]` entry.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Client {
    /// Internal call number (digits), also the HFA subscriber identity.
    pub number: String,
    /// Display name.
    pub name: String,
    /// What registers under this number.
    pub kind: ClientKind,
    /// An IP user license is assigned (guide 1.2.1).
    #[serde(default)]
    pub ip_user_license: bool,
    /// HFA password (phones) or UC password (myPortal to go), guide 4.1, 6.
    #[serde(default)]
    pub password: Option<Secret>,
    /// "Internet Registration with internal SBC": may register over the
    /// internet (guide 2.2).
    #[serde(default)]
    pub internet_registration: bool,
    /// "Authentication": the password is checked at registration. On unless
    /// switched off, as the guide demands it whenever any client is
    /// internet-enabled (guide 2.2).
    #[serde(default = "enabled")]
    pub authentication: bool,
    /// How far the client may dial out (guide 2.2); internal only unless set.
    #[serde(default = "internal_only")]
    pub class_of_service: ClassOfService,
    /// May dial the premium-rate prefixes of `[dialing]` (guide 2.2).
    #[serde(default)]
    pub allow_premium: bool,
    /// May dial the ranges of international revenue share fraud (IRSF):
    /// satellite and international premium numbers, `[dialing]`
    /// `irsf_prefixes` and the built-in ones (guide 2.2).
    #[serde(default)]
    pub allow_irsf: bool,
    /// The user is a Deskshare user (refused with myPortal to go, guide 1.3.3).
    #[serde(default)]
    pub deskshare: bool,
}

fn enabled() -> bool {
    true
}

fn internal_only() -> ClassOfService {
    ClassOfService::InternalOnly
}

impl Client {
    /// Why this client may not dial a number of class `call`, if it may not.
    pub fn bar_reason(&self, call: &CallClass) -> Option<BarReason> {
        cos::bar_reason(
            self.class_of_service,
            self.allow_premium,
            self.allow_irsf,
            call,
        )
    }

    /// Names the client in messages: `client 201 (Anna)`.
    pub fn label(&self) -> String {
        format!("client {} ({})", self.number, self.name)
    }
}

/// What kind of device or app a client is. In TOML: `kind = { hfa =
/// "OpenStage 60" }`, `kind = "myportal_to_go"` or `kind = "sip"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClientKind {
    /// An HFA system device of the given type.
    Hfa(HfaDevice),
    /// The VoIP client of the myPortal to go app (over HTTPS, guide 1.3.3).
    #[serde(rename = "myportal_to_go")]
    MyPortalToGo,
    /// A SIP device.
    Sip,
}

impl fmt::Display for ClientKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Hfa(device) => write!(f, "{device} (HFA)"),
            Self::MyPortalToGo => f.write_str("myPortal to go VoIP"),
            Self::Sip => f.write_str("SIP device"),
        }
    }
}

/// The HFA phone types of the guide (section 4), by model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum HfaDevice {
    /// OpenStage 15 HFA.
    #[serde(rename = "OpenStage 15")]
    OpenStage15,
    /// OpenStage 20 HFA.
    #[serde(rename = "OpenStage 20")]
    OpenStage20,
    /// OpenStage 40 HFA.
    #[serde(rename = "OpenStage 40")]
    OpenStage40,
    /// OpenStage 60 HFA.
    #[serde(rename = "OpenStage 60")]
    OpenStage60,
    /// OpenStage 80 HFA.
    #[serde(rename = "OpenStage 80")]
    OpenStage80,
    /// Desk Phone IP 35G HFA.
    #[serde(rename = "DeskPhone IP 35G")]
    DeskPhoneIp35G,
    /// Desk Phone IP 55G HFA.
    #[serde(rename = "DeskPhone IP 55G")]
    DeskPhoneIp55G,
}

/// The two HFA phone families, which have separate minimum versions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HfaFamily {
    /// OpenStage HFA phones.
    OpenStage,
    /// Desk Phone IP HFA phones.
    DeskPhoneIp,
}

impl HfaDevice {
    /// The family whose minimum software version applies.
    pub fn family(self) -> HfaFamily {
        match self {
            Self::DeskPhoneIp35G | Self::DeskPhoneIp55G => HfaFamily::DeskPhoneIp,
            _ => HfaFamily::OpenStage,
        }
    }
}

impl fmt::Display for HfaDevice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::OpenStage15 => "OpenStage 15",
            Self::OpenStage20 => "OpenStage 20",
            Self::OpenStage40 => "OpenStage 40",
            Self::OpenStage60 => "OpenStage 60",
            Self::OpenStage80 => "OpenStage 80",
            Self::DeskPhoneIp35G => "DeskPhone IP 35G",
            Self::DeskPhoneIp55G => "DeskPhone IP 55G",
        })
    }
}
