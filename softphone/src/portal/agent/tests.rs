//! The agent against two fake portal servers (LAN and WAN) over real TLS,
//! with a real RTP peer: the client binds to 127.0.0.1 "in the company
//! LAN" and 127.0.1.20 "at home".

use std::net::Ipv4Addr;
use std::sync::{Arc, PoisonError};

use shared::portal::{CallState, Event, MediaTarget, RegistrationState, VoipRegistration};
use shared::secret::Secret;
use tokio::net::UdpSocket;
use tokio::time::Instant;

use super::*;
use crate::audio::NullBackend;
use crate::portal::events::Backoff;
use crate::portal::selection::Status;
use crate::portal::testing::{FakeGateway, FakePortal, TestCert};
use crate::portal::trust::Trust;

const LAN_IP: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);
const HOME_IP: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 1, 20));
const PATIENCE: Duration = Duration::from_secs(10);

struct Rig {
    gateway: Arc<FakeGateway>,
    lan: FakePortal,
    wan: FakePortal,
    agent: PortalAgent,
    events: mpsc::UnboundedReceiver<AgentEvent>,
}

async fn portal(gateway: &Arc<FakeGateway>, cert: &TestCert) -> FakePortal {
    let gateway = gateway.clone();
    FakePortal::start(LAN_IP, cert, move |request| gateway.answer(request)).await
}

impl Rig {
    /// Starts on `network` from `bind`, with remote WiFi VoIP on; `lan`
    /// replaces the LAN server's address.
    async fn start(network: Network, bind: IpAddr, lan: Option<SocketAddr>) -> Self {
        let cert = TestCert::self_signed();
        let trust = Trust::Pin(cert.fingerprint());
        Self::start_with(network, bind, lan, cert, trust, FakeGateway::default()).await
    }

    async fn start_with(
        network: Network,
        bind: IpAddr,
        lan: Option<SocketAddr>,
        cert: TestCert,
        trust: Trust,
        gateway: FakeGateway,
    ) -> Self {
        let mut timers = AgentTimers::default();
        timers.selection.lan_timeout = Duration::from_millis(300);
        Self::start_timed(network, bind, lan, cert, trust, gateway, timers).await
    }

    async fn start_timed(
        network: Network,
        bind: IpAddr,
        lan: Option<SocketAddr>,
        cert: TestCert,
        trust: Trust,
        gateway: FakeGateway,
        timers: AgentTimers,
    ) -> Self {
        let gateway = Arc::new(gateway);
        let lan_portal = portal(&gateway, &cert).await;
        let wan = portal(&gateway, &cert).await;
        let lan_address = lan.unwrap_or(lan_portal.address());
        let mut settings = PortalSettings::new(
            "210",
            Secret::new(crate::portal::testing::PASSWORD),
            &wan.address().to_string(),
            Some(&lan_address.to_string()),
            network,
            trust,
        )
        .expect("settings");
        settings.flags.remote_wifi = true;
        settings.bind = Some(bind);
        let media = MediaOptions::g711(Box::new(NullBackend));
        let (agent, events) = PortalAgent::spawn(settings, media, timers)
            .await
            .expect("agent");
        Self {
            gateway,
            lan: lan_portal,
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
}

fn connected(rtp: SocketAddr) -> Event {
    Event::Call(CallView {
        state: CallState::Connected,
        peer: Some("201 Anna".into()),
        reason: None,
        media: Some(MediaTarget {
            rtp,
            rtcp_port: rtp.port() + 1,
            payload_type: 8,
            ptime_ms: 20,
        }),
    })
}

/// The source of the next RTP packet `peer` receives.
async fn rtp_source(peer: &UdpSocket) -> SocketAddr {
    let mut buffer = [0u8; 1500];
    let (_, from) = tokio::time::timeout(PATIENCE, peer.recv_from(&mut buffer))
        .await
        .expect("RTP in time")
        .expect("received");
    from
}

#[tokio::test]
async fn a_call_survives_the_move_from_company_wifi_to_home_and_mobile_data_ends_it() {
    let mut rig = Rig::start(Network::CompanyWifi, LAN_IP, None).await;
    let lan = rig.lan.address();
    rig.status(&format!("Registering via LAN server {lan}"))
        .await;
    let first_rtp = rig
        .wait(|event| match event {
            AgentEvent::Registered { rtp, logged_in, .. } => {
                assert!(*logged_in);
                Some(*rtp)
            }
            _ => None,
        })
        .await;
    assert_eq!(first_rtp.ip(), LAN_IP);
    rig.status(&format!("Registered via LAN server {lan}"))
        .await;
    let sent: VoipRegistration = rig.lan.requests_to("/api/v1/voip/register")[0].json();
    assert_eq!(sent.rtp, first_rtp);

    // A call: dial, then the gateway connects it with media to our peer.
    rig.agent
        .send(AgentCommand::Call(CallRequest::Dial("201".into())));
    let peer = UdpSocket::bind((LAN_IP, 0)).await.expect("peer");
    let peer_address = peer.local_addr().expect("address");
    rig.wait(|event| match event {
        AgentEvent::Call(view) if view.state == CallState::Calling => Some(()),
        _ => None,
    })
    .await;
    rig.gateway.push(&connected(peer_address));
    rig.wait(|event| match event {
        AgentEvent::Media(MediaReport::Started { remote, codec }) => {
            assert_eq!((*remote, codec.as_str()), (peer_address, "PCMA"));
            Some(())
        }
        _ => None,
    })
    .await;
    assert_eq!(rtp_source(&peer).await, first_rtp);

    // Home: remote WiFi, another local address, through the WAN server in
    // the same session; the media moves, the call goes on.
    rig.agent.send(AgentCommand::SetNetwork {
        network: Network::RemoteWifi,
        bind: Some(HOME_IP),
    });
    let wan = rig.wan.address();
    let moved = rig
        .status(&format!("Registered via WAN server {wan}"))
        .await;
    assert!(moved.elapsed < PATIENCE);
    let register = rig.wan.requests_to("/api/v1/voip/register");
    assert_eq!(register.len(), 1);
    assert_eq!(register[0].peer.ip(), HOME_IP, "signalling from home");
    let announced: VoipRegistration = register[0].json();
    assert_eq!(announced.rtp.ip(), HOME_IP);
    assert_eq!(
        *rig.gateway
            .logins
            .lock()
            .unwrap_or_else(PoisonError::into_inner),
        1,
        "the same session"
    );
    let deadline = Instant::now() + PATIENCE;
    loop {
        let from = rtp_source(&peer).await;
        if from == announced.rtp {
            break;
        }
        assert!(Instant::now() < deadline, "media moved home");
    }

    // Held: the media stops; retrieved: it starts again.
    rig.gateway.push(&Event::Call(CallView {
        state: CallState::Held,
        peer: Some("201 Anna".into()),
        reason: None,
        media: None,
    }));
    rig.wait(|event| matches!(event, AgentEvent::Media(MediaReport::Stopped(_))).then_some(()))
        .await;
    rig.gateway.push(&connected(peer_address));
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
async fn a_lan_server_that_never_answers_sends_the_app_to_wan() {
    // Accepts TCP, never speaks TLS.
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
    let mut rig = Rig::start(Network::CompanyWifi, LAN_IP, Some(silent_address)).await;
    let wan = rig.wan.address();
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
    let cert = TestCert::self_signed();
    let fingerprint = cert.fingerprint();
    let store = crate::portal::testing::temp_path("agent-tofu").join("known.toml");
    let trust = Trust::Tofu {
        store: store.clone(),
        accept: None,
    };
    let mut rig = Rig::start_with(
        Network::RemoteWifi,
        HOME_IP,
        None,
        cert,
        trust,
        FakeGateway::default(),
    )
    .await;
    let wan = rig.wan.address().to_string();
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
async fn the_session_is_refreshed_and_an_ended_registration_registers_again() {
    let gateway = FakeGateway::default();
    *gateway
        .expires_in_s
        .lock()
        .unwrap_or_else(PoisonError::into_inner) = Some(1);
    let cert = TestCert::self_signed();
    let trust = Trust::Pin(cert.fingerprint());
    let mut rig = Rig::start_with(Network::CompanyWifi, LAN_IP, None, cert, trust, gateway).await;
    let lan = rig.lan.address();
    rig.status(&format!("Registered via LAN server {lan}"))
        .await;
    rig.wait(|event| matches!(event, AgentEvent::StreamOpen).then_some(()))
        .await;
    // The gateway ends the registration: the app registers again.
    rig.gateway.push(&Event::Registration {
        state: RegistrationState::Unregistered,
        reason: Some("configuration changed".into()),
    });
    rig.wait(|event| match event {
        AgentEvent::Notice(text) if text.contains("configuration changed") => Some(()),
        _ => None,
    })
    .await;
    rig.status(&format!("Registered via LAN server {lan}"))
        .await;
    // A 1 s session is refreshed at 0.8 s, and again 0.8 s later.
    for _ in 0..2 {
        let expires_in = rig
            .wait(|event| match event {
                AgentEvent::SessionRefreshed { expires_in } => Some(*expires_in),
                _ => None,
            })
            .await;
        assert_eq!(expires_in, Duration::from_secs(1));
    }
    assert!(rig.lan.requests_to("/api/v1/session/refresh").len() >= 2);
    rig.agent.stop().await;
}

#[tokio::test]
async fn an_event_stream_down_longer_than_the_grace_registers_again() {
    let cert = TestCert::self_signed();
    let trust = Trust::Pin(cert.fingerprint());
    let timers = AgentTimers {
        stream_grace: Duration::from_millis(400),
        backoff: Backoff {
            first: Duration::from_millis(20),
            max: Duration::from_millis(50),
        },
        ..AgentTimers::default()
    };
    let mut rig = Rig::start_timed(
        Network::CompanyWifi,
        LAN_IP,
        None,
        cert,
        trust,
        FakeGateway::default(),
        timers,
    )
    .await;
    let lan = rig.lan.address();
    rig.wait(|event| matches!(event, AgentEvent::StreamOpen).then_some(()))
        .await;
    rig.gateway
        .refuse_streams
        .store(true, std::sync::atomic::Ordering::SeqCst);
    rig.gateway.close_streams();
    rig.wait(|event| match event {
        AgentEvent::Notice(text) if text.contains("down too long") => Some(()),
        _ => None,
    })
    .await;
    let again = rig
        .status(&format!("Registering via LAN server {lan}"))
        .await;
    assert_eq!(again.elapsed, Duration::ZERO, "timed from the loss");
    rig.gateway
        .refuse_streams
        .store(false, std::sync::atomic::Ordering::SeqCst);
    rig.status(&format!("Registered via LAN server {lan}"))
        .await;
    rig.wait(|event| matches!(event, AgentEvent::StreamOpen).then_some(()))
        .await;
    rig.agent.stop().await;
}
