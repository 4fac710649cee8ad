//! The path view's model: what the client knows of its registration and
//! call, and what an in-process gateway adds (its port, RTP range and the
//! SBC channel's latch), turned into the hops of the guide's Figure 1 and
//! one sentence that describes them. What nobody told us is shown as
//! unknown, never guessed.

use std::net::{IpAddr, SocketAddr};

/// Which of the gateway's addresses the client uses (guide 4.2: myPortal
/// to go's LAN or WAN server; an HFA phone at home reaches the company's
/// public address, over the internet).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// Inside the company LAN: no router, no SBC.
    Lan,
    /// From outside: home router, internet, the company router's forwards.
    Wan,
}

/// What the client itself knows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientFacts {
    /// "HFA" or "myPortal to go".
    pub personality: &'static str,
    /// The route of the registration, while registered.
    pub route: Option<Route>,
    /// The server it registers with, as configured ("host:port").
    pub server: Option<String>,
    /// The address its sockets are bound to, if a specific one.
    pub local_ip: Option<IpAddr>,
    /// Where its RTP socket receives (and sends from).
    pub local_media: Option<SocketAddr>,
    /// Where the call's media goes, while a call's media runs.
    pub media_remote: Option<SocketAddr>,
    pub codec: Option<String>,
    /// The other party, as the phone shows it.
    pub party: Option<String>,
}

/// The SBC channel's latch (gateway/docs/sbc.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Latch {
    /// Anchored, no learning window open, nothing latched.
    Idle,
    /// Learning: sources from the device's address are on probation.
    Probation,
    /// The device's RTP source is latched.
    Latched { from: SocketAddr },
}

/// The SBC channel that carries this client's call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChannelFacts {
    pub number: u16,
    pub latch: Latch,
    /// The address the gateway sees the device at (its NAT's public one).
    pub device_ip: Option<IpAddr>,
    /// Where the channel's inner side sends: the other party's media.
    pub inner_peer: Option<SocketAddr>,
}

/// What an in-process gateway (the demo's) tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GatewayFacts {
    /// The port the client's server listens on inside the company (4060,
    /// 8802); `None`: that server does not run.
    pub internal_port: Option<u16>,
    /// The RTP port range of the model, forwarded 1:1 by the company router.
    pub rtp_range: (u16, u16),
    /// The channel of the current call, if one is anchored for it.
    pub channel: Option<ChannelFacts>,
}

/// One box of the picture.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HopKind {
    ThisPc,
    HomeRouter,
    Internet,
    CompanyRouter,
    Gateway,
    OtherParty,
}

impl HopKind {
    pub const ALL: [Self; 6] = [
        Self::ThisPc,
        Self::HomeRouter,
        Self::Internet,
        Self::CompanyRouter,
        Self::Gateway,
        Self::OtherParty,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Self::ThisPc => "This PC",
            Self::HomeRouter => "Home router",
            Self::Internet => "Internet",
            Self::CompanyRouter => "Company router",
            Self::Gateway => "Gateway",
            Self::OtherParty => "Other party",
        }
    }
}

/// One hop as drawn.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hop {
    pub kind: HopKind,
    /// What is known about it, a line each.
    pub lines: Vec<String>,
    /// Whether the registration passes it.
    pub on_path: bool,
    /// Whether the call's media passes it.
    pub media: bool,
}

/// The whole picture.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PathModel {
    pub client: ClientFacts,
    /// `None`: a remote gateway, which tells the client nothing of its SBC.
    pub gateway: Option<GatewayFacts>,
}

impl PathModel {
    /// The six hops with what is known of each.
    pub fn hops(&self) -> Vec<Hop> {
        HopKind::ALL
            .into_iter()
            .map(|kind| {
                let on_path = self.on_path(kind);
                // A call's media follows the registration's path (from
                // home: through the company router's RTP forward and the SBC).
                let media = on_path && self.in_call();
                Hop {
                    kind,
                    lines: self.lines(kind),
                    on_path,
                    media,
                }
            })
            .collect()
    }

    pub fn in_call(&self) -> bool {
        self.client.media_remote.is_some()
    }

    /// The channel of the call, when the gateway reported one.
    pub fn channel(&self) -> Option<&ChannelFacts> {
        self.gateway.as_ref().and_then(|g| g.channel.as_ref())
    }

    fn on_path(&self, kind: HopKind) -> bool {
        match (self.client.route, kind) {
            (None, HopKind::ThisPc) => true,
            (None, _) => false,
            (
                Some(Route::Lan),
                HopKind::HomeRouter | HopKind::Internet | HopKind::CompanyRouter,
            ) => false,
            (Some(_), HopKind::OtherParty) => self.in_call(),
            (Some(_), _) => true,
        }
    }

    fn lines(&self, kind: HopKind) -> Vec<String> {
        let client = &self.client;
        let wan = client.route == Some(Route::Wan);
        match kind {
            HopKind::ThisPc => {
                let mut lines = vec![format!("{} app", client.personality)];
                match (client.local_media, client.local_ip) {
                    (Some(media), _) if self.in_call() => lines.push(format!("RTP {media}")),
                    (Some(media), _) => lines.push(media.ip().to_string()),
                    (None, Some(ip)) => lines.push(ip.to_string()),
                    (None, None) => lines.push("address: any interface".to_owned()),
                }
                lines
            }
            HopKind::HomeRouter if !wan => vec!["not on the path".to_owned()],
            HopKind::HomeRouter => {
                let seen = self.channel().and_then(|channel| channel.device_ip);
                let local = client.local_media.map(|a| a.ip()).or(client.local_ip);
                match (seen, local) {
                    (Some(seen), Some(local)) if seen == local => {
                        vec!["no NAT".to_owned(), format!("gateway sees {seen}")]
                    }
                    (Some(seen), _) => vec!["NAT".to_owned(), format!("public {seen}")],
                    (None, _) => vec!["public address".to_owned(), "unknown".to_owned()],
                }
            }
            HopKind::Internet if !wan => vec!["not on the path".to_owned()],
            HopKind::Internet => client
                .server
                .iter()
                .map(|server| format!("to {server}"))
                .collect(),
            HopKind::CompanyRouter if !wan => vec!["not on the path".to_owned()],
            HopKind::CompanyRouter => {
                let external = client
                    .server
                    .as_deref()
                    .and_then(|server| server.rsplit_once(':'))
                    .map_or("?", |(_, port)| port);
                let internal = self
                    .gateway
                    .and_then(|g| g.internal_port)
                    .map_or_else(|| "?".to_owned(), |port| port.to_string());
                let rtp = self.gateway.map_or_else(
                    || "UDP RTP range unknown".to_owned(),
                    |g| format!("UDP {}-{}", g.rtp_range.0, g.rtp_range.1),
                );
                vec![format!("TCP {external} -> {internal}"), rtp]
            }
            HopKind::Gateway => {
                let mut lines = Vec::new();
                if let (Some(route), Some(server)) = (client.route, &client.server) {
                    let which = match route {
                        Route::Lan => "LAN server",
                        Route::Wan => "WAN server",
                    };
                    lines.push(format!("{which} {server}"));
                }
                if self.in_call() {
                    lines.push(self.sbc_line());
                }
                lines
            }
            HopKind::OtherParty => {
                let mut lines = vec![client.party.clone().unwrap_or_else(|| "no call".to_owned())];
                if let Some(peer) = self.channel().and_then(|channel| channel.inner_peer) {
                    lines.push(format!("RTP {peer}"));
                }
                lines
            }
        }
    }

    /// The SBC's part, during a call.
    fn sbc_line(&self) -> String {
        match (&self.gateway, self.channel()) {
            (None, _) => "SBC: unknown (remote gateway)".to_owned(),
            (Some(_), None) if self.client.route == Some(Route::Lan) => {
                "no SBC (company LAN)".to_owned()
            }
            (Some(_), None) => "SBC: no channel for this call".to_owned(),
            (Some(_), Some(channel)) => {
                let number = channel.number;
                match channel.latch {
                    Latch::Latched { from } => format!("SBC channel {number} latched from {from}"),
                    Latch::Probation => format!("SBC channel {number} in probation"),
                    Latch::Idle => format!("SBC channel {number} idle"),
                }
            }
        }
    }

    /// The picture in one paragraph, for screen readers and tests.
    pub fn describe(&self) -> String {
        let client = &self.client;
        let head = match (client.route, &client.server) {
            (Some(Route::Wan), Some(server)) => format!("Registered via WAN server {server}"),
            (Some(Route::Lan), Some(server)) => format!("Registered via LAN server {server}"),
            _ => "Not registered".to_owned(),
        };
        let path: Vec<String> = self
            .hops()
            .into_iter()
            .filter(|hop| hop.on_path)
            .map(|hop| format!("{} ({})", hop.kind.title(), hop.lines.join(", ")))
            .collect();
        let media = match (&client.codec, client.media_remote) {
            (Some(codec), Some(remote)) => format!("Media: {codec} to {remote}."),
            _ => "No call.".to_owned(),
        };
        format!("{head}. Path: {}. {media}", path.join(" → "))
    }
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use super::*;

    const HOME: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 1, 10));

    fn at_home() -> ClientFacts {
        ClientFacts {
            personality: "HFA",
            route: Some(Route::Wan),
            server: Some("127.0.0.1:4060".into()),
            local_ip: Some(HOME),
            local_media: Some(SocketAddr::new(HOME, 40000)),
            ..ClientFacts::default()
        }
    }

    fn in_call(mut client: ClientFacts) -> ClientFacts {
        client.media_remote = Some("127.0.0.1:30280".parse().expect("address"));
        client.codec = Some("PCMA".into());
        client.party = Some("Echo test".into());
        client
    }

    fn demo_gateway(latch: Latch) -> GatewayFacts {
        GatewayFacts {
            internal_port: Some(4060),
            rtp_range: (30274, 30529),
            channel: Some(ChannelFacts {
                number: 3,
                latch,
                device_ip: Some(HOME),
                inner_peer: Some("127.0.0.1:45000".parse().expect("address")),
            }),
        }
    }

    #[test]
    fn a_phone_at_home_in_the_demo_goes_through_the_latched_sbc_channel() {
        let mut model = PathModel {
            client: in_call(at_home()),
            gateway: Some(demo_gateway(Latch::Probation)),
        };
        assert!(model.describe().contains("SBC channel 3 in probation"));
        let from = SocketAddr::new(HOME, 40000);
        model.gateway = Some(demo_gateway(Latch::Latched { from }));
        let description = model.describe();
        assert!(
            description.starts_with("Registered via WAN server 127.0.0.1:4060. Path: This PC"),
            "{description}"
        );
        for part in [
            "Home router (no NAT, gateway sees 127.0.1.10)",
            "Company router (TCP 4060 -> 4060, UDP 30274-30529)",
            "SBC channel 3 latched from 127.0.1.10:40000",
            "Other party (Echo test, RTP 127.0.0.1:45000)",
            "Media: PCMA to 127.0.0.1:30280.",
        ] {
            assert!(description.contains(part), "{part:?} in {description}");
        }
        assert!(model.hops().iter().all(|hop| hop.on_path && hop.media));
    }

    #[test]
    fn a_remote_gateway_leaves_what_only_it_knows_unknown() {
        let mut client = in_call(at_home());
        client.server = Some("office.example.com:4070".into());
        let model = PathModel {
            client,
            gateway: None,
        };
        let description = model.describe();
        for part in [
            "Home router (public address, unknown)",
            "Company router (TCP 4070 -> ?, UDP RTP range unknown)",
            "SBC: unknown (remote gateway)",
        ] {
            assert!(description.contains(part), "{part:?} in {description}");
        }
        assert!(!description.contains("channel"));
    }

    #[test]
    fn in_the_company_lan_the_routers_are_off_the_path_and_nat_shows_when_present() {
        let mut client = at_home();
        client.route = Some(Route::Lan);
        client.server = Some("10.10.0.2:8802".into());
        let model = PathModel {
            client: client.clone(),
            gateway: None,
        };
        let on: Vec<HopKind> = model
            .hops()
            .into_iter()
            .filter(|hop| hop.on_path)
            .map(|hop| hop.kind)
            .collect();
        assert_eq!(on, [HopKind::ThisPc, HopKind::Gateway]);
        assert!(
            model
                .describe()
                .starts_with("Registered via LAN server 10.10.0.2:8802")
        );
        assert!(model.describe().ends_with("No call."));

        // Behind a NAT the gateway sees another address than ours.
        client.route = Some(Route::Wan);
        let mut gateway = demo_gateway(Latch::Idle);
        if let Some(channel) = &mut gateway.channel {
            channel.device_ip = Some("203.0.113.7".parse().expect("address"));
        }
        let model = PathModel {
            client: in_call(client),
            gateway: Some(gateway),
        };
        assert!(
            model
                .describe()
                .contains("Home router (NAT, public 203.0.113.7)")
        );

        let nowhere = PathModel::default();
        assert!(nowhere.describe().starts_with("Not registered"));
        assert_eq!(nowhere.hops().iter().filter(|hop| hop.on_path).count(), 1);
    }
}
