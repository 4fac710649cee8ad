//! The HFA account: what a home worker types into an OpenStage phone's
//! administration menu for Device@Home (guide 1.2.3 and 4.1).

use std::fmt;
use std::net::IpAddr;

use shared::hfa::{MacAddress, PhoneId, Subscriber};
use shared::hfa_engine::phone::PhoneIdentity;
use shared::secret::Secret;
use shared::version::SoftwareVersion;

/// The system's HFA port (guide 2.5.1). Behind the company router the
/// phone is configured with the forwarded external port instead (4070 in
/// the guide, section 3.1).
pub const DEFAULT_HFA_PORT: u16 = 4060;

/// The firmware this softphone reports unless told otherwise: above the
/// guide's minimum for OpenStage HFA (V3R0.33.1, section 4).
pub const DEFAULT_SOFTWARE_VERSION: SoftwareVersion = SoftwareVersion::new(3, 1, 41, 0);

/// Where the gateway is: the company's public IP or DNS name and port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewayAddress {
    pub host: String,
    pub port: u16,
}

impl GatewayAddress {
    /// Parses `host`, `host:port`, `[v6]` or `[v6]:port`; the port defaults
    /// to [`DEFAULT_HFA_PORT`].
    pub fn parse(text: &str) -> Result<Self, AccountError> {
        let (host, port) =
            split_host_port(text, DEFAULT_HFA_PORT).ok_or_else(|| AccountError::Gateway {
                value: text.to_owned(),
            })?;
        Ok(Self { host, port })
    }
}

/// Splits `host`, `host:port`, `[v6]` or `[v6]:port` into host and port
/// (`default_port` when none is given); `None` for an empty host, a host
/// with white space, or a port that is not 1 to 65535.
pub(crate) fn split_host_port(text: &str, default_port: u16) -> Option<(String, u16)> {
    let (host, port) = if let Some(rest) = text.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        let port = match after {
            "" => None,
            _ => Some(after.strip_prefix(':')?),
        };
        (host, port)
    } else {
        match text.rsplit_once(':') {
            Some((host, port)) if !host.contains(':') => (host, Some(port)),
            Some(_) => (text, None), // a bare IPv6 address
            None => (text, None),
        }
    };
    let port = match port {
        Some(port) => port.parse::<u16>().ok().filter(|p| *p != 0)?,
        None => default_port,
    };
    if host.is_empty() || host.chars().any(char::is_whitespace) {
        return None;
    }
    Some((host.to_owned(), port))
}

impl fmt::Display for GatewayAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

/// An account setting that cannot work.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AccountError {
    /// Not `host[:port]`.
    #[error(
        "gateway = {value:?}: expected the company's public IP address or DNS name, \
         optionally with the forwarded port, e.g. company.example.com:4070 (guide 4.1)"
    )]
    Gateway { value: String },
    /// Not 1 to 32 digits.
    #[error("number = {value:?}: the subscriber number is 1 to 32 digits (guide 4.1)")]
    Number { value: String },
    /// Empty password.
    #[error(
        "password: empty; enter the HFA password configured for this subscriber in the system (guide 4.1)"
    )]
    EmptyPassword,
}

/// A setting that works but goes against the guide.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccountWarning {
    /// DLS/DLI are not supported for System Device@Home.
    DlsConfigured { value: String },
}

impl fmt::Display for AccountWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::DlsConfigured { value } => write!(
                f,
                "dls = {value:?}: leave the DLS address empty; DLS/DLI are not supported for \
                 System Device@Home (guide 1.2.3, 4.1)"
            ),
        }
    }
}

/// An OpenStage HFA phone's Device@Home settings.
#[derive(Debug, Clone)]
pub struct HfaAccount {
    pub gateway: GatewayAddress,
    pub number: Subscriber,
    pub password: Secret,
    pub mac: MacAddress,
    pub phone_id: PhoneId,
    pub software_version: SoftwareVersion,
    /// Update service (DLS) address: must stay empty for Device@Home.
    pub dls_address: Option<String>,
    /// Local address to connect from (multi-homed hosts, and tests that
    /// place a phone outside the company LAN); the system picks by default.
    pub bind_address: Option<IpAddr>,
    /// `--capture FILE`: the connection's bytes go into it.
    pub capture: Option<shared::capture::Capture>,
    /// Where the summaries of this phone's calls go (the feedback archive).
    pub call_log: Option<crate::feedback::CallLog>,
}

/// Whether a phone model has G.722 wideband audio: every OpenStage HFA
/// model does; the DeskPhone IP 55 and PC clients are taken as G.711 only.
pub fn has_g722(phone_id: PhoneId) -> bool {
    matches!(
        phone_id,
        PhoneId::OPENSTAGE_20
            | PhoneId::OPENSTAGE_40
            | PhoneId::OPENSTAGE_60
            | PhoneId::OPENSTAGE_80
    )
}

impl HfaAccount {
    /// An OpenStage 60 with a MAC derived from the number, reporting
    /// [`DEFAULT_SOFTWARE_VERSION`].
    pub fn new(
        gateway: GatewayAddress,
        number: &str,
        password: Secret,
    ) -> Result<Self, AccountError> {
        let number = Subscriber::new(number).map_err(|_| AccountError::Number {
            value: number.to_owned(),
        })?;
        if password.expose().is_empty() {
            return Err(AccountError::EmptyPassword);
        }
        Ok(Self {
            gateway,
            mac: mac_for(&number),
            number,
            password,
            phone_id: PhoneId::OPENSTAGE_60,
            software_version: DEFAULT_SOFTWARE_VERSION,
            dls_address: None,
            bind_address: None,
            capture: None,
            call_log: None,
        })
    }

    pub fn warnings(&self) -> Vec<AccountWarning> {
        self.dls_address
            .iter()
            .filter(|dls| !dls.trim().is_empty())
            .map(|dls| AccountWarning::DlsConfigured { value: dls.clone() })
            .collect()
    }

    /// What the protocol engine registers with.
    pub fn identity(&self) -> PhoneIdentity {
        PhoneIdentity {
            subscriber: self.number.clone(),
            password: self.password.clone(),
            mac: self.mac,
            phone_id: self.phone_id,
            software_version: self.software_version,
        }
    }
}

/// A locally administered MAC (02:…) made from the number, so each
/// emulated phone has its own, stable across runs.
fn mac_for(number: &Subscriber) -> MacAddress {
    let hash = number.as_str().bytes().fold(0x811c_9dc5u32, |hash, byte| {
        (hash ^ u32::from(byte)).wrapping_mul(0x0100_0193)
    });
    let [a, b, c, d] = hash.to_be_bytes();
    MacAddress([0x02, 0x1a, a, b, c, d])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gateway_addresses() {
        let parse = |text| GatewayAddress::parse(text).map(|g| (g.host, g.port));
        assert_eq!(
            parse("company.example.com"),
            Ok(("company.example.com".into(), 4060))
        );
        assert_eq!(
            parse("203.0.113.10:4070"),
            Ok(("203.0.113.10".into(), 4070))
        );
        assert_eq!(
            parse("[2001:db8::1]:4070"),
            Ok(("2001:db8::1".into(), 4070))
        );
        assert_eq!(parse("2001:db8::1"), Ok(("2001:db8::1".into(), 4060)));
        for bad in [
            "",
            "host:",
            "host:0",
            "host:70000",
            "[::1",
            "[::1]x",
            "a b:1",
        ] {
            assert!(
                matches!(
                    GatewayAddress::parse(bad),
                    Err(AccountError::Gateway { .. })
                ),
                "{bad}"
            );
        }
        let v6 = GatewayAddress::parse("[::1]:4060").unwrap();
        assert_eq!(v6.to_string(), "[::1]:4060");
    }

    #[test]
    fn account_checks_number_and_password() {
        let gateway = GatewayAddress::parse("127.0.0.1").unwrap();
        let err = HfaAccount::new(gateway.clone(), "20a", Secret::new("x")).unwrap_err();
        assert_eq!(
            err,
            AccountError::Number {
                value: "20a".into()
            }
        );
        let err = HfaAccount::new(gateway.clone(), "201", Secret::new("")).unwrap_err();
        assert_eq!(err, AccountError::EmptyPassword);
        let account = HfaAccount::new(gateway, "201", Secret::new("pw")).unwrap();
        assert!(account.software_version >= shared::version::OPENSTAGE_HFA_MIN);
        assert_eq!(account.mac.0[0], 0x02, "locally administered");
    }

    #[test]
    fn a_dls_address_draws_a_warning() {
        let gateway = GatewayAddress::parse("127.0.0.1").unwrap();
        let mut account = HfaAccount::new(gateway, "201", Secret::new("pw")).unwrap();
        assert!(account.warnings().is_empty());
        account.dls_address = Some("10.0.0.5".into());
        let warnings = account.warnings();
        assert_eq!(
            warnings,
            [AccountWarning::DlsConfigured {
                value: "10.0.0.5".into()
            }]
        );
        assert!(warnings[0].to_string().contains("guide 1.2.3"));
    }
}
