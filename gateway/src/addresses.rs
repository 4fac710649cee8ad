//! Which local addresses the system's media uses when the servers listen
//! on "any" (`listen_address = "0.0.0.0"`, as a real system does).
//!
//! - The RTP proxy's public side binds the listen address itself: "any"
//!   receives what the company router forwards, on whatever interface.
//! - Its inner side and the system's own media ends (echo, announcement)
//!   are announced to phones in the company LAN, so they need a concrete
//!   address those phones can reach: the listen address when it is one, or
//!   else this host's own address inside a `company_lan` prefix. Loopback
//!   only when the host has none (a LAN phone could not reach it: said in
//!   a warning).

use std::net::{IpAddr, Ipv4Addr};

use ipnet::IpNet;

/// The LAN-facing media address for `listen`, among this host's interface
/// `addresses`; `None` when `listen` is "any" and no address lies in
/// `company_lan`.
pub fn lan_media_ip(listen: IpAddr, company_lan: &[IpNet], addresses: &[IpAddr]) -> Option<IpAddr> {
    if !listen.is_unspecified() {
        return Some(listen);
    }
    addresses
        .iter()
        .copied()
        .filter(|ip| ip.is_ipv4() == listen.is_ipv4())
        .find(|ip| company_lan.iter().any(|net| net.contains(ip)))
}

/// This host's interface addresses (empty if the system will not say).
pub fn interface_addresses() -> Vec<IpAddr> {
    let Ok(interfaces) = nix::ifaddrs::getifaddrs() else {
        return Vec::new();
    };
    interfaces
        .filter_map(|interface| interface.address)
        .filter_map(|address| {
            if let Some(v4) = address.as_sockaddr_in() {
                Some(IpAddr::V4(v4.ip()))
            } else {
                address.as_sockaddr_in6().map(|v6| IpAddr::V6(v6.ip()))
            }
        })
        .collect()
}

/// IPv4 loopback, the last resort.
pub fn loopback() -> IpAddr {
    IpAddr::V4(Ipv4Addr::LOCALHOST)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("address")
    }

    fn net(text: &str) -> IpNet {
        text.parse().expect("prefix")
    }

    #[test]
    fn a_specific_listen_address_is_used_as_it_is() {
        let lan = [net("192.168.1.0/24")];
        assert_eq!(
            lan_media_ip(ip("10.0.0.5"), &lan, &[ip("192.168.1.20")]),
            Some(ip("10.0.0.5"))
        );
    }

    #[test]
    fn listening_on_any_picks_the_hosts_address_in_the_company_lan() {
        let lan = [net("192.168.1.0/24"), net("10.20.0.0/16")];
        let host = [
            ip("127.0.0.1"),
            ip("203.0.113.7"),
            ip("fe80::1"),
            ip("10.20.3.4"),
        ];
        assert_eq!(
            lan_media_ip(ip("0.0.0.0"), &lan, &host),
            Some(ip("10.20.3.4"))
        );
        assert_eq!(lan_media_ip(ip("0.0.0.0"), &lan, &host[..3]), None);
        let v6 = [net("2001:db8::/64")];
        assert_eq!(
            lan_media_ip(ip("::"), &v6, &[ip("10.20.3.4"), ip("2001:db8::9")]),
            Some(ip("2001:db8::9"))
        );
    }

    #[test]
    fn this_host_lists_its_loopback() {
        assert!(interface_addresses().contains(&ip("127.0.0.1")));
    }
}
