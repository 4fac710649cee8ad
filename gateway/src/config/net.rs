//! Addresses written as text: the system's public address (a fixed IP or a
//! dynamic DNS name, guide 3.2, 4.1) and STUN servers (`host[:port]`,
//! guide 2.4). Parsed during validation so that a mistake is reported with
//! its field path.

use std::fmt;
use std::net::{IpAddr, SocketAddr};

/// The default STUN port (RFC 8489).
pub const STUN_DEFAULT_PORT: u16 = 3478;

/// An IP address or a DNS name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Host {
    /// A literal IPv4 or IPv6 address.
    Ip(IpAddr),
    /// A syntactically valid DNS name, lower-cased, without a trailing dot.
    Dns(String),
}

/// Why a host or `host:port` text was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HostError {
    /// Nothing was written.
    #[error("empty")]
    Empty,
    /// The whole name is longer than 253 characters.
    #[error("a DNS name has at most 253 characters")]
    NameTooLong,
    /// Two dots in a row, or a leading dot.
    #[error("a DNS name has no empty labels (\"..\" or a leading dot)")]
    EmptyLabel,
    /// A label is longer than 63 characters.
    #[error("a DNS label has at most 63 characters")]
    LabelTooLong,
    /// A character other than letters, digits and `-`.
    #[error("a DNS label holds only letters, digits and '-'")]
    BadCharacter,
    /// A label starts or ends with `-`.
    #[error("a DNS label neither starts nor ends with '-'")]
    HyphenAtEdge,
    /// The last label is all digits, which no top-level domain is: most
    /// likely a mistyped IPv4 address.
    #[error("not a valid IP address, and the last label of a DNS name is never all digits")]
    NumericTopLabel,
    /// The part after the last `:` is not a port number 1-65535.
    #[error("the port must be a number from 1 to 65535")]
    BadPort,
}

impl Host {
    /// Parses an IP address or checks DNS name syntax (RFC 1035 with the
    /// RFC 1123 relaxation that labels may start with a digit).
    pub fn parse(text: &str) -> Result<Self, HostError> {
        if text.is_empty() {
            return Err(HostError::Empty);
        }
        if let Ok(ip) = text.parse::<IpAddr>() {
            return Ok(Self::Ip(ip));
        }
        let name = text.strip_suffix('.').unwrap_or(text);
        if name.len() > 253 {
            return Err(HostError::NameTooLong);
        }
        for label in name.split('.') {
            check_label(label)?;
        }
        if name
            .rsplit('.')
            .next()
            .is_some_and(|top| top.bytes().all(|b| b.is_ascii_digit()))
        {
            return Err(HostError::NumericTopLabel);
        }
        Ok(Self::Dns(name.to_ascii_lowercase()))
    }
}

fn check_label(label: &str) -> Result<(), HostError> {
    if label.is_empty() {
        return Err(HostError::EmptyLabel);
    }
    if label.len() > 63 {
        return Err(HostError::LabelTooLong);
    }
    if !label
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-')
    {
        return Err(HostError::BadCharacter);
    }
    if label.starts_with('-') || label.ends_with('-') {
        return Err(HostError::HyphenAtEdge);
    }
    Ok(())
}

impl fmt::Display for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Ip(ip) => write!(f, "{ip}"),
            Self::Dns(name) => f.write_str(name),
        }
    }
}

/// A STUN server: host and UDP port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StunServer {
    /// Where the server is.
    pub host: Host,
    /// Its UDP port.
    pub port: u16,
}

impl StunServer {
    /// Parses `host`, `host:port`, `ip:port` or `[ipv6]:port`; the port
    /// defaults to [`STUN_DEFAULT_PORT`].
    pub fn parse(text: &str) -> Result<Self, HostError> {
        if let Ok(addr) = text.parse::<SocketAddr>() {
            return Self::checked(Host::Ip(addr.ip()), addr.port());
        }
        if let Ok(ip) = text.parse::<IpAddr>() {
            return Self::checked(Host::Ip(ip), STUN_DEFAULT_PORT);
        }
        match text.rsplit_once(':') {
            Some((host, port)) => {
                let port = port.parse().map_err(|_| HostError::BadPort)?;
                Self::checked(Host::parse(host)?, port)
            }
            None => Self::checked(Host::parse(text)?, STUN_DEFAULT_PORT),
        }
    }

    fn checked(host: Host, port: u16) -> Result<Self, HostError> {
        if port == 0 {
            return Err(HostError::BadPort);
        }
        Ok(Self { host, port })
    }
}

impl fmt::Display for StunServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.host {
            Host::Ip(IpAddr::V6(ip)) => write!(f, "[{ip}]:{}", self.port),
            _ => write!(f, "{}:{}", self.host, self.port),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts() {
        assert_eq!(
            Host::parse("87.173.127.147"),
            Ok(Host::Ip([87, 173, 127, 147].into()))
        );
        assert_eq!(
            Host::parse("Company.COM."),
            Ok(Host::Dns("company.com".into()))
        );
        assert_eq!(
            Host::parse("my-office.dyndns.org").map(|h| h.to_string()),
            Ok("my-office.dyndns.org".into())
        );
        assert_eq!(Host::parse("localhost"), Ok(Host::Dns("localhost".into())));
        assert_eq!(
            Host::parse("2001:db8::1"),
            Ok(Host::Ip("2001:db8::1".parse().expect("ip")))
        );
    }

    #[test]
    fn bad_hosts() {
        assert_eq!(Host::parse(""), Err(HostError::Empty));
        assert_eq!(Host::parse("a..b"), Err(HostError::EmptyLabel));
        assert_eq!(Host::parse(".a"), Err(HostError::EmptyLabel));
        assert_eq!(Host::parse("-a.com"), Err(HostError::HyphenAtEdge));
        assert_eq!(Host::parse("a-.com"), Err(HostError::HyphenAtEdge));
        assert_eq!(Host::parse("under_score.com"), Err(HostError::BadCharacter));
        assert_eq!(Host::parse("http://x.com"), Err(HostError::BadCharacter));
        assert_eq!(
            Host::parse("87.173.127.300"),
            Err(HostError::NumericTopLabel)
        );
        assert_eq!(Host::parse(&"a".repeat(64)), Err(HostError::LabelTooLong));
        let long = [
            "a".repeat(63),
            "b".repeat(63),
            "c".repeat(63),
            "d".repeat(63),
        ]
        .join(".");
        assert_eq!(Host::parse(&long), Err(HostError::NameTooLong));
    }

    #[test]
    fn stun_servers() {
        let s = |t: &str| StunServer::parse(t).map(|s| s.to_string());
        assert_eq!(
            s("stun.example.net:3478"),
            Ok("stun.example.net:3478".into())
        );
        assert_eq!(s("stun.example.net"), Ok("stun.example.net:3478".into()));
        assert_eq!(s("127.0.0.1:19302"), Ok("127.0.0.1:19302".into()));
        assert_eq!(s("[::1]:3479"), Ok("[::1]:3479".into()));
        assert_eq!(s("::1"), Ok("[::1]:3478".into()));
        assert_eq!(s("stun.example.net:0"), Err(HostError::BadPort));
        assert_eq!(s("stun.example.net:x"), Err(HostError::BadPort));
        assert_eq!(s("stun.example.net:70000"), Err(HostError::BadPort));
        assert_eq!(s(":3478"), Err(HostError::Empty));
    }
}
