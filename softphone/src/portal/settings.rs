//! The myPortal to go VoIP client's settings (guide 4.2): the user account
//! (call number, UC password, WAN and optional LAN server), the VoIP flags
//! of the "More - VoIP settings" menu, the network the device is on, the
//! app's version, and how the gateway's certificate is trusted.
//!
//! [`PortalSettings::new`] checks what a user types, with messages that
//! name the field, the value and the guide's rule.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use shared::portal::AppInfo;
use shared::secret::Secret;
use shared::version::{MYPORTAL_TO_GO_ANDROID_MIN, SoftwareVersion};

use super::trust::Trust;
use crate::hfa::account::split_host_port;

/// The gateway's HTTPS port for the app (guide 1.3.3, 4.2).
pub const DEFAULT_PORTAL_PORT: u16 = 8802;

/// The app version reported unless told otherwise: the guide's minimum for
/// myPortal to go (Android) VoIP (guide 4).
pub const DEFAULT_APP_VERSION: SoftwareVersion = MYPORTAL_TO_GO_ANDROID_MIN;

/// A server of the user account: host (IP or DNS name) and port.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ServerAddress {
    pub host: String,
    pub port: u16,
}

impl ServerAddress {
    /// Parses `host`, `host:port`, `[v6]` or `[v6]:port`; the port defaults
    /// to [`DEFAULT_PORTAL_PORT`].
    pub fn parse(text: &str) -> Option<Self> {
        split_host_port(text, DEFAULT_PORTAL_PORT).map(|(host, port)| Self { host, port })
    }

    /// The host as an IP address, when it is one.
    pub fn ip(&self) -> Option<IpAddr> {
        self.host.parse().ok()
    }
}

impl fmt::Display for ServerAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

/// The network the device is on (guide 4.2, note: VoIP only in WiFi).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Network {
    /// The company's WiFi: the LAN server is reachable.
    CompanyWifi,
    /// Any other WiFi (home office, hotel): through the internet.
    RemoteWifi,
    /// Mobile data (3G/4G/...): no VoIP.
    Mobile,
}

impl Network {
    /// The name used on the command line and in status lines.
    pub fn name(self) -> &'static str {
        match self {
            Self::CompanyWifi => "company-wifi",
            Self::RemoteWifi => "remote-wifi",
            Self::Mobile => "mobile",
        }
    }
}

impl fmt::Display for Network {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Network {
    type Err = SettingsError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "company-wifi" => Ok(Self::CompanyWifi),
            "remote-wifi" => Ok(Self::RemoteWifi),
            "mobile" => Ok(Self::Mobile),
            _ => Err(SettingsError::Network {
                value: text.to_owned(),
            }),
        }
    }
}

/// The two VoIP flags of "More - VoIP settings" (guide 4.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VoipFlags {
    /// "VoIP".
    pub voip: bool,
    /// "Use VoIP in remote WiFi networks".
    pub remote_wifi: bool,
}

/// A setting that cannot work.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SettingsError {
    /// Not 1 to 32 digits.
    #[error(
        "user = {value:?}: the user is the call number, 1 to 32 digits (guide 4.2, user account)"
    )]
    User { value: String },
    /// Empty password.
    #[error(
        "password: empty; enter the user's UC password, which the app proves without sending it \
         (guide 6: authentication via encrypted UC password)"
    )]
    EmptyPassword,
    /// Not `host[:port]`.
    #[error(
        "wan = {value:?}: expected the public IP address or DNS name of the OpenScape Business, \
         with port 8802 or the port forwarded in the company Internet router, e.g. \
         company.example.com:8802 (guide 4.2)"
    )]
    Wan { value: String },
    /// Not `ip[:port]`.
    #[error(
        "lan = {value:?}: expected the internal IP address of the OpenScape Business in the \
         company WiFi, with port 8802, e.g. 10.10.0.2:8802 (guide 4.2)"
    )]
    Lan { value: String },
    /// Not one of the three networks.
    #[error(
        "network = {value:?}: expected company-wifi, remote-wifi or mobile (guide 4.2: VoIP in \
         WiFi environments only, not via mobile data)"
    )]
    Network { value: String },
    /// Not `VxRy.z.w`.
    #[error("app version = {value:?}: expected a version like V2R1.61.14 ({reason})")]
    Version { value: String, reason: String },
    /// Neither Android nor iOS.
    #[error("platform = {value:?}: expected android or ios (guide 4)")]
    Platform { value: String },
}

/// The app's settings, checked.
#[derive(Debug, Clone)]
pub struct PortalSettings {
    /// The user's call number.
    pub user: String,
    /// The UC password (never printed: [`Secret`]).
    pub password: Secret,
    /// "User Account - WAN server IP address / port".
    pub wan: ServerAddress,
    /// "User Account - LAN server IP address / port", optional.
    pub lan: Option<ServerAddress>,
    pub flags: VoipFlags,
    /// Where the device is now.
    pub network: Network,
    /// What the app reports at login.
    pub app: AppInfo,
    /// How the gateway's certificate is trusted.
    pub trust: Trust,
    /// Local address for signalling and media (default: chosen by the
    /// system); tests pick one per network to be "at home" or "in the LAN".
    pub bind: Option<IpAddr>,
    /// Where the summaries of the app's calls go (the feedback archive).
    pub call_log: Option<crate::feedback::CallLog>,
    /// `--capture FILE`: the app's HTTPS connections go into it.
    pub capture: Option<shared::capture::Capture>,
}

impl PortalSettings {
    /// Checks the user account; VoIP on, remote WiFi VoIP off, Android at
    /// [`DEFAULT_APP_VERSION`], no local binding.
    pub fn new(
        user: &str,
        password: Secret,
        wan: &str,
        lan: Option<&str>,
        network: Network,
        trust: Trust,
    ) -> Result<Self, SettingsError> {
        if user.is_empty() || user.len() > 32 || !user.bytes().all(|b| b.is_ascii_digit()) {
            return Err(SettingsError::User {
                value: user.to_owned(),
            });
        }
        if password.expose().is_empty() {
            return Err(SettingsError::EmptyPassword);
        }
        let wan = ServerAddress::parse(wan).ok_or_else(|| SettingsError::Wan {
            value: wan.to_owned(),
        })?;
        let lan = lan
            .map(|text| {
                ServerAddress::parse(text)
                    .filter(|server| server.ip().is_some())
                    .ok_or_else(|| SettingsError::Lan {
                        value: text.to_owned(),
                    })
            })
            .transpose()?;
        Ok(Self {
            user: user.to_owned(),
            password,
            wan,
            lan,
            flags: VoipFlags {
                voip: true,
                remote_wifi: false,
            },
            network,
            app: AppInfo {
                platform: "android".to_owned(),
                version: DEFAULT_APP_VERSION.to_string(),
            },
            trust,
            bind: None,
            call_log: None,
            capture: None,
        })
    }

    /// Sets the app's platform and version, checked (an older version is
    /// allowed here: the gateway refuses it with `version_too_old`, which
    /// is what a test of that refusal needs).
    pub fn set_app(&mut self, platform: &str, version: &str) -> Result<(), SettingsError> {
        if !matches!(platform, "android" | "ios") {
            return Err(SettingsError::Platform {
                value: platform.to_owned(),
            });
        }
        let parsed: SoftwareVersion =
            version
                .parse()
                .map_err(
                    |error: shared::version::VersionError| SettingsError::Version {
                        value: version.to_owned(),
                        reason: error.to_string(),
                    },
                )?;
        self.app = AppInfo {
            platform: platform.to_owned(),
            version: parsed.to_string(),
        };
        Ok(())
    }

    /// Settings that work but go against the guide, one line each.
    pub fn warnings(&self) -> Vec<String> {
        let mut warnings = Vec::new();
        if let Ok(version) = self.app.version.parse::<SoftwareVersion>()
            && version < MYPORTAL_TO_GO_ANDROID_MIN
        {
            warnings.push(format!(
                "app version = {version}: older than {MYPORTAL_TO_GO_ANDROID_MIN}, the guide's \
                 minimum for myPortal to go VoIP (guide 4); the gateway will refuse it"
            ));
        }
        if let Some(lan) = &self.lan
            && lan.port != DEFAULT_PORTAL_PORT
        {
            warnings.push(format!(
                "lan = {lan}: the guide's LAN server port is {DEFAULT_PORTAL_PORT} (guide 4.2)"
            ));
        }
        warnings
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(user: &str, wan: &str, lan: Option<&str>) -> Result<PortalSettings, SettingsError> {
        PortalSettings::new(
            user,
            Secret::new("Portal-Pass-2026!"),
            wan,
            lan,
            Network::CompanyWifi,
            Trust::Pin("AB".repeat(32).parse().expect("fingerprint")),
        )
    }

    #[test]
    fn servers_default_to_port_8802_and_keep_a_forwarded_port() {
        let ok = settings("210", "company.example.com", Some("10.10.0.2")).expect("valid");
        assert_eq!(ok.wan.to_string(), "company.example.com:8802");
        assert_eq!(ok.lan.expect("lan").to_string(), "10.10.0.2:8802");
        let forwarded = settings("210", "203.0.113.7:18802", None).expect("valid");
        assert_eq!(forwarded.wan.port, 18802);
        assert!(forwarded.lan.is_none());
        assert!(forwarded.flags.voip && !forwarded.flags.remote_wifi);
        assert_eq!(forwarded.app.version, "V2R1.61.14");
        assert_eq!(forwarded.app.platform, "android");
    }

    #[test]
    fn errors_name_the_field_the_value_and_the_rule() {
        let user = settings("21a", "company.example.com", None).expect_err("bad user");
        assert_eq!(
            user,
            SettingsError::User {
                value: "21a".into()
            }
        );
        assert!(user.to_string().starts_with("user = \"21a\""));
        let wan = settings("210", "company.example.com:0", None).expect_err("bad port");
        assert!(wan.to_string().contains("\"company.example.com:0\""));
        assert!(wan.to_string().contains("guide 4.2"));
        let lan = settings("210", "company.example.com", Some("osbiz.local")).expect_err("a name");
        assert!(
            lan.to_string()
                .starts_with("lan = \"osbiz.local\": expected the internal IP")
        );
        let empty = PortalSettings::new(
            "210",
            Secret::new(""),
            "company.example.com",
            None,
            Network::Mobile,
            Trust::Pin("AB".repeat(32).parse().expect("fingerprint")),
        )
        .expect_err("empty password");
        assert!(empty.to_string().contains("guide 6"));
        let network = "lte".parse::<Network>().expect_err("not a network");
        assert!(
            network
                .to_string()
                .starts_with("network = \"lte\": expected company-wifi")
        );
    }

    #[test]
    fn app_version_is_checked_and_an_old_one_warns() {
        let mut ok = settings("210", "company.example.com", Some("10.10.0.2:8803")).expect("valid");
        assert_eq!(ok.warnings().len(), 1, "the LAN port");
        let bad = ok.set_app("android", "2.1").expect_err("no V");
        assert!(bad.to_string().starts_with("app version = \"2.1\""));
        assert!(ok.set_app("symbian", "V2R1.61.14").is_err());
        ok.set_app("android", "V2R1.60.0").expect("parses");
        let warnings = ok.warnings();
        assert_eq!(warnings.len(), 2);
        assert!(warnings[0].contains("older than V2R1.61.14"));
    }

    #[test]
    fn the_password_never_prints() {
        let settings = settings("210", "company.example.com", None).expect("valid");
        let shown = format!("{settings:?}");
        assert!(!shown.contains("Portal-Pass-2026!"));
        assert!(shown.contains("password: ***"));
    }

    #[test]
    fn networks_round_trip_through_their_names() {
        for network in [Network::CompanyWifi, Network::RemoteWifi, Network::Mobile] {
            assert_eq!(network.name().parse::<Network>(), Ok(network));
        }
    }
}
