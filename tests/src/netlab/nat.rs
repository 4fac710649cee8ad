//! The routers' nftables rule sets (netlab.md): the company router's port
//! forwards, and the home router's NAT in the three modes the tests need.

use std::fmt;

/// How the home router translates (RFC 4787 terms).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HomeNat {
    /// A normal home router: one public port per socket, whatever the
    /// destination; only answers from where the socket sent get in.
    EndpointIndependent,
    /// Not supported by Device@Home (guide section 5): a new public port
    /// for every destination.
    Symmetric,
    /// Endpoint-independent mapping and filtering: anyone may send to a
    /// mapped port.
    FullCone,
}

impl HomeNat {
    pub const ALL: [Self; 3] = [Self::EndpointIndependent, Self::Symmetric, Self::FullCone];

    /// The name on the `netlab` command line.
    pub fn name(self) -> &'static str {
        match self {
            Self::EndpointIndependent => "endpoint-independent",
            Self::Symmetric => "symmetric",
            Self::FullCone => "full-cone",
        }
    }

    /// The mode named `name` on the command line.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|mode| mode.name() == name)
    }
}

impl fmt::Display for HomeNat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A router's stateful filter: forwarding from the LAN to the WAN, answers,
/// and what a `dnat` rule let in.
pub const FORWARD_FILTER: &str = r#"
table inet filter {
  chain forward {
    type filter hook forward priority filter; policy drop;
    ct state established,related accept
    ct status dnat accept
    iifname "lan0" oifname "wan0" accept
  }
}
"#;

/// The company router's NAT: HFA 4070 → 4060, the portal's 8802, the X
/// models' RTP range 1:1 to the gateway, on each of its `public`
/// addresses; what leaves goes out as the first of them. Replaces the one
/// loaded before in one transaction.
pub fn company_nat(public: &[String], gateway: &str, rtp: (u16, u16)) -> String {
    let (first, last) = rtp;
    let addresses = public.join(", ");
    let outgoing = public
        .first()
        .map_or("masquerade".to_owned(), |ip| format!("snat to {ip}"));
    format!(
        r#"table ip nat
delete table ip nat
table ip nat {{
  chain prerouting {{
    type nat hook prerouting priority dstnat; policy accept;
    iifname "wan0" ip daddr {{ {addresses} }} tcp dport 4070 dnat to {gateway}:4060
    iifname "wan0" ip daddr {{ {addresses} }} tcp dport 8802 dnat to {gateway}:8802
    iifname "wan0" ip daddr {{ {addresses} }} udp dport {first}-{last} dnat to {gateway}
  }}
  chain postrouting {{
    type nat hook postrouting priority srcnat; policy accept;
    oifname "wan0" {outgoing}
  }}
}}
"#
    )
}

/// The home router's NAT table in `mode`, replacing the one loaded before
/// in one transaction.
pub fn home_nat(mode: HomeNat) -> String {
    let body = match mode {
        HomeNat::EndpointIndependent => {
            r#"
  chain postrouting {
    type nat hook postrouting priority srcnat; policy accept;
    oifname "wan0" masquerade
  }"#
        }
        HomeNat::Symmetric => {
            r#"
  chain postrouting {
    type nat hook postrouting priority srcnat; policy accept;
    oifname "wan0" masquerade fully-random
  }"#
        }
        // Masquerade keeps the source port when it is free, so the map
        // learned before translation (every outgoing UDP packet refreshes
        // it) sends whatever arrives at a mapped port to the socket behind.
        HomeNat::FullCone => {
            r#"
  map cone {
    type inet_service : ipv4_addr . inet_service
    flags dynamic,timeout
    timeout 120s
  }
  chain prerouting {
    type nat hook prerouting priority dstnat; policy accept;
    iifname "wan0" meta l4proto udp dnat ip to udp dport map @cone
  }
  chain learn {
    type filter hook postrouting priority srcnat - 1; policy accept;
    oifname "wan0" meta l4proto udp update @cone { udp sport : ip saddr . udp sport }
  }
  chain postrouting {
    type nat hook postrouting priority srcnat; policy accept;
    oifname "wan0" masquerade
  }"#
        }
    };
    format!("table ip nat\ndelete table ip nat\ntable ip nat {{{body}\n}}\n")
}
