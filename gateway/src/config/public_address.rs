//! What guide 4.1 asks of the public address (the company's public IPv4
//! address or a DNS name), and the company router's port forwards that
//! guide 3.1 requires, as `check-config` prints them.

use std::net::IpAddr;

use super::net::Host;
use super::validated::ValidatedConfig;
use super::warning::ConfigWarning;

/// The external HFA port the guide's example forwards to the system's
/// 4060 (guide 3.1: it SHOULD differ from the internal port).
pub const EXTERNAL_HFA_PORT: u16 = 4070;

/// A warning when `host` is an IP address that devices at home cannot
/// reach over the internet, or an IPv6 address (guide 4.1 asks for IPv4).
/// A system listening on loopback only (the built-in demo, tests) is a
/// one-machine setup whose loopback public address is consistent: no warning.
pub fn not_public(host: &Host, listen: IpAddr) -> Option<ConfigWarning> {
    let Host::Ip(ip) = host else {
        return None;
    };
    if listen.is_loopback() && ip.is_loopback() {
        return None;
    }
    reason(*ip).map(|reason| ConfigWarning::PublicAddressNotPublic {
        value: ip.to_string(),
        reason,
    })
}

/// Why `ip` is not a public IPv4 address, if it is not.
pub fn reason(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V6(_) => Some("an IPv6 address"),
        IpAddr::V4(v4) if v4.is_loopback() => Some("a loopback address"),
        IpAddr::V4(v4) if v4.is_private() => Some("a private address (RFC 1918)"),
        IpAddr::V4(v4) if v4.octets()[0] == 100 && (v4.octets()[1] & 0xc0) == 64 => {
            Some("a carrier-grade NAT address (RFC 6598), behind the provider's NAT")
        }
        IpAddr::V4(v4) if v4.is_link_local() => Some("a link-local address"),
        IpAddr::V4(v4) if v4.is_unspecified() || v4.is_broadcast() || v4.is_multicast() => {
            Some("not a unicast address")
        }
        IpAddr::V4(_) => None,
    }
}

/// The company router's port forwards (guide 3.1), one line each.
pub fn router_forwards(config: &ValidatedConfig) -> Vec<String> {
    let hfa = config.hfa_addr().port();
    let https = config.https_addr().port();
    let rtp = config.rtp_ports();
    vec![
        format!(
            "TCP {EXTERNAL_HFA_PORT} (or the external port you choose; devices at home enter it \
             as gateway port) -> system TCP {hfa} (HFA phones)"
        ),
        format!("TCP {https} -> system TCP {https} (myPortal to go HTTPS)"),
        format!(
            "UDP {rtp} -> system UDP {rtp} (RTP, the same range 1:1, model {})",
            config.config().system.model
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    const ANY: IpAddr = IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED);

    #[test]
    fn a_loopback_only_system_may_have_a_loopback_public_address() {
        let loopback: IpAddr = "127.0.0.1".parse().expect("ip");
        assert_eq!(not_public(&host("127.0.0.1"), loopback), None);
        assert!(not_public(&host("192.168.1.2"), loopback).is_some());
        assert!(not_public(&host("127.0.0.1"), ANY).is_some());
    }

    fn host(text: &str) -> Host {
        Host::parse(text).expect("a host")
    }

    #[test]
    fn public_ipv4_addresses_and_dns_names_pass() {
        for ok in ["87.173.127.147", "203.0.113.10", "company.example.com"] {
            assert_eq!(not_public(&host(ok), ANY), None, "{ok}");
        }
    }

    #[test]
    fn private_loopback_shared_and_ipv6_addresses_are_warned_about() {
        for (text, words) in [
            ("127.0.0.1", "loopback"),
            ("192.168.178.1", "private"),
            ("10.1.2.3", "private"),
            ("172.20.0.1", "private"),
            ("100.64.1.1", "carrier-grade NAT"),
            ("169.254.0.9", "link-local"),
            ("2001:db8::1", "IPv6"),
        ] {
            let warning = not_public(&host(text), ANY).expect("a warning").to_string();
            assert!(warning.contains(words), "{text}: {warning}");
            assert!(warning.contains("network.public_address"), "{warning}");
            assert!(warning.contains("guide 4.1"), "{warning}");
        }
    }
}
