//! The agent against the real gateway: its portal as the LAN server, a
//! port-forward to it as the WAN server (the gateway sees the app's own
//! source address), another app as the call's other party with plain UDP
//! sockets; the client binds to 127.0.0.1 "in the company LAN" and
//! 127.0.1.20 "at home".

use shared::portal::CallState;
use shared::secret::Secret;
use tokio::time::Instant;

use super::*;
use crate::audio::NullBackend;
use crate::portal::events::Backoff;
use crate::portal::selection::Status;
use crate::portal::testing::{
    DAN, EVE, Forward, HOME_IP, HOME_IP_2, LAN_IP, OtherApp, PATIENCE, TestGateway, android,
};
use crate::portal::trust::Trust;

struct Rig {
    gateway: TestGateway,
    wan: Forward,
    agent: PortalAgent,
    events: mpsc::UnboundedReceiver<AgentEvent>,
}

/// How a rig starts.
struct Start {
    network: Network,
    bind: IpAddr,
    /// Replaces the LAN server's address.
    lan: Option<SocketAddr>,
    /// Replaces pinning the gateway's certificate.
    trust: Option<Trust>,
    /// Appended to the gateway's configuration.
    config: &'static str,
    timers: AgentTimers,
}

impl Start {
    fn on(network: Network, bind: IpAddr) -> Self {
        let mut timers = AgentTimers::default();
        timers.selection.lan_timeout = Duration::from_millis(300);
        Self {
            network,
            bind,
            lan: None,
            trust: None,
            config: "",
            timers,
        }
    }
}

impl Rig {
    /// Starts on `network` from `bind`, with remote WiFi VoIP on.
    async fn start(network: Network, bind: IpAddr) -> Self {
        Self::start_with(Start::on(network, bind)).await
    }

    async fn start_with(start: Start) -> Self {
        let gateway = TestGateway::start_with(start.config).await;
        let wan = Forward::start(LAN_IP, gateway.lan).await;
        let lan_address = start.lan.unwrap_or(gateway.lan);
        let mut settings = PortalSettings::new(
            DAN.0,
            Secret::new(DAN.1),
            &wan.address.to_string(),
            Some(&lan_address.to_string()),
            start.network,
            start.trust.unwrap_or_else(|| gateway.trust()),
        )
        .expect("settings");
        settings.flags.remote_wifi = true;
        settings.bind = Some(start.bind);
        let media = MediaOptions::g711(Box::new(NullBackend));
        let (agent, events) = PortalAgent::spawn(settings, media, start.timers)
            .await
            .expect("agent");
        Self {
            gateway,
            wan,
            agent,
            events,
        }
    }

    /// The next event `pick` accepts (others skipped), within the patience.
    async fn wait<T>(&mut self, mut pick: impl FnMut(&AgentEvent) -> Option<T>) -> T {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let event = tokio::time::timeout_at(deadline, self.events.recv())
                .await
                .expect("the awaited event in time")
                .expect("agent alive");
            if let Some(found) = pick(&event) {
                return found;
            }
        }
    }

    async fn status(&mut self, text: &str) -> StatusChange {
        self.wait(|event| match event {
            AgentEvent::Status(change) if change.status.to_string() == text => Some(change.clone()),
            _ => None,
        })
        .await
    }

    /// The next registration: (announced RTP, internet, new login).
    async fn registered(&mut self) -> (SocketAddr, bool, bool) {
        self.wait(|event| match event {
            AgentEvent::Registered {
                rtp,
                internet,
                logged_in,
                ..
            } => Some((*rtp, *internet, *logged_in)),
            _ => None,
        })
        .await
    }

    fn wan_address(&self) -> SocketAddr {
        self.wan.address
    }
}

#[tokio::test]
async fn a_call_survives_the_move_from_company_wifi_to_home_and_mobile_data_ends_it() {
    let mut rig = Rig::start(Network::CompanyWifi, LAN_IP).await;
    let mut eve = OtherApp::register(&rig.gateway, EVE).await;
    let lan = rig.gateway.lan;
    rig.status(&format!("Registering via LAN server {lan}"))
        .await;
    let (first_rtp, internet, logged_in) = rig.registered().await;
    assert!(logged_in && !internet);
    assert_eq!(first_rtp.ip(), LAN_IP);
    rig.status(&format!("Registered via LAN server {lan}"))
        .await;

    // A call to Eve: she answers; the gateway connects it LAN to LAN,
    // directly, telling her Dan's RTCP at RTP + 1.
    rig.agent
        .send(AgentCommand::Call(CallRequest::Dial(EVE.0.into())));
    eve.call(|view| view.state == CallState::Ringing).await;
    eve.request(CallRequest::Answer).await;
    let to_dan = eve
        .call(|view| view.state == CallState::Connected)
        .await
        .media
        .expect("media");
    assert_eq!(
        (to_dan.rtp, to_dan.rtcp_port),
        (first_rtp, first_rtp.port() + 1)
    );
    let eve_rtp = eve.rtp.local_addr().expect("address");
    rig.wait(|event| match event {
        AgentEvent::Media(MediaReport::Started { remote, .. }) => {
            assert_eq!(*remote, eve_rtp);
            Some(())
        }
        _ => None,
    })
    .await;
    assert_eq!(eve.rtp_source().await, first_rtp);

    // Home: remote WiFi, another local address, through the WAN server in
    // the same session; the gateway anchors the call in its RTP proxy, the
    // media moves, the call goes on.
    rig.agent.send(AgentCommand::SetNetwork {
        network: Network::RemoteWifi,
        bind: Some(HOME_IP),
    });
    let wan = rig.wan_address();
    let (home_rtp, internet, logged_in) = rig.registered().await;
    assert!(
        internet && !logged_in,
        "from the internet, the same session"
    );
    assert_eq!(home_rtp.ip(), HOME_IP);
    rig.status(&format!("Registered via WAN server {wan}"))
        .await;
    assert!(rig.wan.peers().iter().all(|ip| *ip == HOME_IP));
    assert_eq!(
        rig.gateway.counts().sessions,
        2,
        "Dan's and Eve's: no new login"
    );
    let through_proxy = eve
        .call(|view| view.state == CallState::Connected)
        .await
        .media
        .expect("media")
        .rtp;
    assert_ne!(through_proxy, first_rtp, "no longer directly to Dan");
    // The proxy forwards what it receives from Dan's home address.
    let deadline = Instant::now() + PATIENCE;
    while eve.rtp_source().await != through_proxy {
        assert!(Instant::now() < deadline, "media moved home");
    }
    assert_eq!(rig.gateway.gateway.calls().calls(), 1, "the same call");

    // Held: the media stops; retrieved: it starts again.
    rig.agent.send(AgentCommand::Call(CallRequest::Hold));
    rig.wait(|event| matches!(event, AgentEvent::Media(MediaReport::Stopped(_))).then_some(()))
        .await;
    rig.agent.send(AgentCommand::Call(CallRequest::Retrieve));
    rig.wait(|event| matches!(event, AgentEvent::Media(MediaReport::Started { .. })).then_some(()))
        .await;

    // Mobile data: no VoIP; the media stops.
    rig.agent.send(AgentCommand::SetNetwork {
        network: Network::Mobile,
        bind: Some(HOME_IP),
    });
    rig.status("Not registered: VoIP is not available on mobile data")
        .await;
    rig.wait(|event| match event {
        AgentEvent::Media(MediaReport::Stopped(_)) => Some(()),
        AgentEvent::Media(MediaReport::Started { .. }) => panic!("media restarted"),
        _ => None,
    })
    .await;
    rig.agent.send(AgentCommand::Call(CallRequest::Hangup));
    let refused = rig
        .wait(|event| match event {
            AgentEvent::RequestFailed { reason, .. } => Some(reason.clone()),
            _ => None,
        })
        .await;
    assert_eq!(
        refused,
        "Not registered: VoIP is not available on mobile data"
    );
    rig.agent.stop().await;
}

#[tokio::test]
async fn a_new_address_on_the_same_kind_of_network_registers_again_in_the_same_session() {
    let mut rig = Rig::start(Network::RemoteWifi, HOME_IP).await;
    let wan = rig.wan_address();
    let (first, internet, logged_in) = rig.registered().await;
    assert!(internet && logged_in);
    assert_eq!(first.ip(), HOME_IP);
    rig.wait(|event| matches!(event, AgentEvent::StreamOpen).then_some(()))
        .await;
    rig.agent.send(AgentCommand::SetNetwork {
        network: Network::RemoteWifi,
        bind: Some(HOME_IP_2),
    });
    let (second, internet, logged_in) = rig.registered().await;
    assert!(internet && !logged_in, "the same session");
    assert_eq!(second.ip(), HOME_IP_2, "media from the new address");
    rig.status(&format!("Registered via WAN server {wan}"))
        .await;
    // The event stream reopens from the new address (replacing the old).
    rig.wait(|event| matches!(event, AgentEvent::StreamOpen).then_some(()))
        .await;
    assert!(
        rig.wan.peers().contains(&HOME_IP_2),
        "signalling from there"
    );
    let counts = rig.gateway.counts();
    assert_eq!((counts.sessions, counts.registrations), (1, 1));
    rig.agent.stop().await;
}

/// The LAN server stays a plain TCP listener: the gateway always answers,
/// and the point is a server that accepts and never speaks TLS.
#[tokio::test]
async fn a_lan_server_that_never_answers_sends_the_app_to_wan() {
    let silent = tokio::net::TcpListener::bind((LAN_IP, 0))
        .await
        .expect("bind");
    let silent_address = silent.local_addr().expect("address");
    let _hold = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((tcp, _)) = silent.accept().await {
            held.push(tcp);
        }
    });
    let mut rig = Rig::start_with(Start {
        lan: Some(silent_address),
        ..Start::on(Network::CompanyWifi, LAN_IP)
    })
    .await;
    let wan = rig.wan_address();
    let fallback = rig
        .status(&format!("Registering via WAN server {wan}"))
        .await;
    assert!(fallback.elapsed >= Duration::from_millis(300));
    let registered = rig
        .status(&format!("Registered via WAN server {wan}"))
        .await;
    assert!(registered.elapsed >= fallback.elapsed);
    rig.agent.stop().await;
}

#[tokio::test]
async fn an_unknown_certificate_is_reported_and_accepted_one_registers_on_retry() {
    let store = crate::portal::testing::temp_path("agent-tofu").join("known.toml");
    let trust = Trust::Tofu {
        store: store.clone(),
        accept: None,
    };
    let mut rig = Rig::start_with(Start {
        trust: Some(trust),
        ..Start::on(Network::RemoteWifi, HOME_IP)
    })
    .await;
    let wan = rig.wan_address().to_string();
    let fingerprint = rig.gateway.fingerprint;
    let (server, shown) = rig
        .wait(|event| match event {
            AgentEvent::CertificateUnknown {
                server,
                fingerprint,
            } => Some((server.clone(), *fingerprint)),
            _ => None,
        })
        .await;
    assert_eq!((server.as_str(), shown), (wan.as_str(), fingerprint));
    let failed = rig
        .wait(|event| match event {
            AgentEvent::Status(change) if matches!(change.status, Status::Failed(_)) => {
                Some(change.status.to_string())
            }
            _ => None,
        })
        .await;
    assert!(failed.contains("is not known yet"), "{failed}");
    // The user accepts it (what the CLI's prompt does), then retries.
    crate::portal::trust::KnownGateways::new(store.clone())
        .remember(&wan, fingerprint)
        .expect("remembered");
    rig.agent.send(AgentCommand::Retry);
    rig.status(&format!("Registered via WAN server {wan}"))
        .await;
    rig.agent.stop().await;
    let _ = std::fs::remove_dir_all(store.parent().expect("dir"));
}

#[tokio::test]
async fn a_one_second_session_is_refreshed_before_it_ends() {
    let mut rig = Rig::start_with(Start {
        config: "[portal]\nsession_lifetime_seconds = 1\n",
        ..Start::on(Network::CompanyWifi, LAN_IP)
    })
    .await;
    let lan = rig.gateway.lan;
    rig.status(&format!("Registered via LAN server {lan}"))
        .await;
    // Refreshed at 0.8 s, and again 0.8 s later; each time the gateway
    // moves the end on by the session's life.
    for _ in 0..2 {
        let expires_in = rig
            .wait(|event| match event {
                AgentEvent::SessionRefreshed { expires_in } => Some(*expires_in),
                _ => None,
            })
            .await;
        assert_eq!(expires_in, Duration::from_secs(1));
        // Within the refreshed life the session is alive at the gateway.
        rig.gateway.clock.advance(Duration::from_millis(900));
    }
    rig.wait(|event| matches!(event, AgentEvent::SessionRefreshed { .. }).then_some(()))
        .await;
    assert_eq!(rig.gateway.counts().sessions, 1);
    rig.agent.stop().await;
}

#[tokio::test]
async fn a_registration_the_gateway_ended_registers_again() {
    let mut rig = Rig::start(Network::RemoteWifi, HOME_IP).await;
    let wan = rig.wan_address();
    rig.status(&format!("Registered via WAN server {wan}"))
        .await;
    rig.wait(|event| matches!(event, AgentEvent::StreamOpen).then_some(()))
        .await;
    // The way home to the gateway is lost for a while: the gateway sees
    // no event stream for 30 s and ends the registration.
    rig.wan.hold();
    rig.gateway
        .until("the stream gone", |counts| counts.streams == 0)
        .await;
    rig.gateway.clock.advance(Duration::from_secs(31));
    rig.gateway
        .until("the registration ended", |counts| counts.registrations == 0)
        .await;
    rig.wan.release();
    rig.wait(|event| match event {
        AgentEvent::Notice(text)
            if text.contains("the gateway ended the VoIP registration: no event stream") =>
        {
            Some(())
        }
        _ => None,
    })
    .await;
    let (_, _, logged_in) = rig.registered().await;
    assert!(!logged_in, "the same session");
    rig.status(&format!("Registered via WAN server {wan}"))
        .await;
    assert_eq!(rig.gateway.counts().registrations, 1);
    rig.agent.stop().await;
}

#[tokio::test]
async fn an_event_stream_down_longer_than_the_grace_registers_again() {
    let timers = AgentTimers {
        stream_grace: Duration::from_millis(400),
        backoff: Backoff {
            first: Duration::from_millis(20),
            max: Duration::from_millis(50),
        },
        ..Start::on(Network::RemoteWifi, HOME_IP).timers
    };
    let mut rig = Rig::start_with(Start {
        timers,
        ..Start::on(Network::RemoteWifi, HOME_IP)
    })
    .await;
    let wan = rig.wan_address();
    rig.wait(|event| matches!(event, AgentEvent::StreamOpen).then_some(()))
        .await;
    rig.wan.hold();
    rig.wait(|event| match event {
        AgentEvent::Notice(text) if text.contains("down too long") => Some(()),
        _ => None,
    })
    .await;
    let again = rig
        .status(&format!("Registering via WAN server {wan}"))
        .await;
    assert_eq!(again.elapsed, Duration::ZERO, "timed from the loss");
    rig.wan.release();
    rig.status(&format!("Registered via WAN server {wan}"))
        .await;
    rig.wait(|event| matches!(event, AgentEvent::StreamOpen).then_some(()))
        .await;
    rig.agent.stop().await;
}

#[tokio::test]
async fn logged_out_by_a_login_elsewhere_is_reported_and_the_media_stops() {
    let mut rig = Rig::start(Network::CompanyWifi, LAN_IP).await;
    let mut eve = OtherApp::register(&rig.gateway, EVE).await;
    let lan = rig.gateway.lan;
    rig.status(&format!("Registered via LAN server {lan}"))
        .await;
    rig.wait(|event| matches!(event, AgentEvent::StreamOpen).then_some(()))
        .await;
    rig.agent
        .send(AgentCommand::Call(CallRequest::Dial(EVE.0.into())));
    eve.call(|view| view.state == CallState::Ringing).await;
    eve.request(CallRequest::Answer).await;
    rig.wait(|event| matches!(event, AgentEvent::Media(MediaReport::Started { .. })).then_some(()))
        .await;
    // Dan logs in on another device.
    rig.gateway
        .client(lan, Some(LAN_IP))
        .login(DAN.0, &Secret::new(DAN.1), &android())
        .await
        .expect("logged in elsewhere");
    let reason = rig
        .wait(|event| match event {
            AgentEvent::LoggedOut(reason) => Some(reason.clone()),
            _ => None,
        })
        .await;
    assert_eq!(reason, "logged in elsewhere");
    // It stays logged out rather than log the other device out in turn
    // (the status comes at once, the media task's last report after it).
    rig.status("Not registered: logged out: logged in elsewhere")
        .await;
    rig.wait(|event| matches!(event, AgentEvent::Media(MediaReport::Stopped(_))).then_some(()))
        .await;
    // The call ended for Eve with Dan's session.
    let ended = eve.call(|view| view.state == CallState::Ended).await;
    assert_eq!(ended.reason.as_deref(), Some("Call ended"));
    rig.agent.stop().await;
    assert_eq!(
        rig.gateway.counts().sessions,
        2,
        "the other device's session (and Eve's) stay"
    );
}

#[tokio::test]
async fn stop_logs_out_at_the_gateway() {
    let mut rig = Rig::start(Network::CompanyWifi, LAN_IP).await;
    rig.registered().await;
    let counts = rig.gateway.counts();
    assert_eq!((counts.sessions, counts.registrations), (1, 1));
    rig.agent.stop().await;
    let counts = rig.gateway.counts();
    assert_eq!(
        (counts.sessions, counts.registrations),
        (0, 0),
        "the session and its registration ended at once"
    );
}
