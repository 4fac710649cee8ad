//! The headless loops against the real gateway: its portal as the LAN
//! server, a port-forward to it as the WAN server.

use std::net::SocketAddr;

use shared::portal::CallState;
use shared::secret::Secret;

use super::*;
use crate::audio::NullBackend;
use crate::portal::client::CallRequest;
use crate::portal::testing::{DAN, EVE, Forward, HOME_IP, LAN_IP, OtherApp, TestGateway};

struct Servers {
    gateway: TestGateway,
    wan: Forward,
}

async fn servers() -> Servers {
    let gateway = TestGateway::start().await;
    let wan = Forward::start(LAN_IP, gateway.lan).await;
    Servers { gateway, wan }
}

fn settings(servers: &Servers, lan: SocketAddr) -> PortalSettings {
    PortalSettings::new(
        DAN.0,
        Secret::new(DAN.1),
        &servers.wan.address.to_string(),
        Some(&lan.to_string()),
        Network::CompanyWifi,
        servers.gateway.trust(),
    )
    .expect("settings")
}

fn fast() -> AgentTimers {
    let mut timers = AgentTimers::default();
    timers.selection.lan_timeout = Duration::from_millis(300);
    timers.selection.wan_timeout = Duration::from_secs(5);
    timers
}

fn media() -> MediaOptions {
    MediaOptions::g711(Box::new(NullBackend))
}

const BINDS: DemoBinds = DemoBinds {
    company: Some(LAN_IP),
    home: Some(HOME_IP),
};

fn statuses(results: &[DemoResult]) -> Vec<String> {
    results
        .iter()
        .map(|result| result.outcome.as_ref().expect("settled").0.clone())
        .collect()
}

#[tokio::test]
async fn the_demo_walks_the_guides_network_changes() {
    let servers = servers().await;
    let lan = servers.gateway.lan;
    let wan = servers.wan.address;
    let report = demo(settings(&servers, lan), media(), BINDS, None, fast())
        .await
        .expect("every step settles");
    assert_eq!(report.call, None);
    assert_eq!(
        statuses(&report.steps),
        [
            format!("Registered via LAN server {lan}"),
            "Not registered: VoIP in remote WiFi networks is off".to_owned(),
            format!("Registered via WAN server {wan}"),
            "Not registered: VoIP is not available on mobile data".to_owned(),
            format!("Registered via LAN server {lan}"),
        ]
    );
    // Only from home through the WAN server, and the gateway saw home.
    let peers = servers.wan.peers();
    assert!(!peers.is_empty());
    assert!(peers.iter().all(|ip| *ip == HOME_IP), "{peers:?}");
    // One session all along; the demo logged out at its end.
    assert_eq!(servers.gateway.counts().sessions, 0);
}

/// The silent LAN server stays a plain TCP listener: the gateway always
/// answers, and the point is a server that accepts and never speaks.
#[tokio::test]
async fn with_the_lan_server_silent_the_demo_shows_the_fall_back_and_its_time() {
    let servers = servers().await;
    let silent = tokio::net::TcpListener::bind((LAN_IP, 0))
        .await
        .expect("bind");
    let silent_address = silent.local_addr().expect("address");
    let wan = servers.wan.address;
    let report = demo(
        settings(&servers, silent_address),
        media(),
        BINDS,
        None,
        fast(),
    )
    .await
    .expect("every step settles");
    let (first, took) = report.steps[0].outcome.clone().expect("settled");
    assert_eq!(first, format!("Registered via WAN server {wan}"));
    assert!(took >= Duration::from_millis(300), "after the LAN timeout");
    drop(silent);
}

/// The gateway's echo test (`*98`, the office's default) sends back
/// every packet: media keeps coming in only if the call survived.
#[tokio::test]
async fn the_demo_with_a_call_carries_it_to_the_remote_wifi_and_walks_on() {
    let servers = servers().await;
    let lan = servers.gateway.lan;
    let wan = servers.wan.address;
    let report = demo(
        settings(&servers, lan),
        media(),
        BINDS,
        Some("*98".to_owned()),
        fast(),
    )
    .await
    .expect("every step settles and the call survives");
    let labels: Vec<&str> = report
        .steps
        .iter()
        .map(|step| step.label.as_str())
        .collect();
    assert_eq!(
        labels,
        [
            "start in the company WiFi (\"Use VoIP in remote WiFi networks\" on)",
            "call *98",
            "move to a remote WiFi with the call up",
            "hang up",
            "switch \"Use VoIP in remote WiFi networks\" off",
            "move to mobile data",
            "back in the company WiFi",
        ]
    );
    let outcome = |index: usize| report.steps[index].outcome.clone().expect("settled").0;
    assert_eq!(outcome(0), format!("Registered via LAN server {lan}"));
    assert!(outcome(1).starts_with("connected"), "{}", outcome(1));
    assert_eq!(outcome(2), format!("Registered via WAN server {wan}"));
    assert_eq!(outcome(3), "call ended", "hung up by the demo, not before");
    assert_eq!(
        outcome(4),
        "Not registered: VoIP in remote WiFi networks is off"
    );
    assert_eq!(
        outcome(5),
        "Not registered: VoIP is not available on mobile data"
    );
    assert_eq!(outcome(6), format!("Registered via LAN server {lan}"));
    let call = report
        .call
        .expect("a call was made")
        .expect("the call survived the move");
    assert!(call.before > 0, "media came in before the move: {call:?}");
    assert!(
        call.after > call.at_move,
        "media came in after the move: {call:?}"
    );
    // The move went through the WAN server from home, in one session;
    // the demo logged out at its end.
    let peers = servers.wan.peers();
    assert!(!peers.is_empty());
    assert!(peers.iter().all(|ip| *ip == HOME_IP), "{peers:?}");
    assert_eq!(servers.gateway.counts().sessions, 0);
}

#[tokio::test]
async fn portal_call_connects_with_media_to_the_other_app_and_hangs_up_as_planned() {
    let servers = servers().await;
    let mut eve = OtherApp::register(&servers.gateway, EVE).await;
    let answering = tokio::spawn(async move {
        let ringing = eve.call(|view| view.state == CallState::Ringing).await;
        assert_eq!(ringing.peer.as_deref(), Some("210 Dan"));
        eve.request(CallRequest::Answer).await;
        let connected = eve.call(|view| view.state == CallState::Connected).await;
        let dan_rtp = connected.media.expect("media to Dan").rtp;
        assert_eq!(eve.rtp_source().await, dan_rtp, "Dan's RTP reached Eve");
        let ended = eve.call(|view| view.state == CallState::Ended).await;
        ended.reason
    });
    let mut settings = settings(&servers, servers.gateway.lan);
    settings.bind = Some(LAN_IP);
    let plan = Plan::call(EVE.0, Duration::from_millis(300)).expect("plan");
    let end = run(settings, Some(plan), media()).await;
    assert_eq!(end, PortalEnd::Call(Outcome::Connected));
    let reason = tokio::time::timeout(crate::portal::testing::PATIENCE, answering)
        .await
        .expect("Eve's side in time")
        .expect("Eve's checks passed");
    assert_eq!(reason.as_deref(), Some("Call ended"), "Dan hung up");
}

#[tokio::test]
async fn portal_register_on_mobile_data_is_refused_with_the_status() {
    let servers = servers().await;
    let mut settings = settings(&servers, servers.gateway.lan);
    settings.network = Network::Mobile;
    let end = run(settings, Some(Plan::Answer { hangup_after: None }), media()).await;
    assert_eq!(
        end,
        PortalEnd::Refused("Not registered: VoIP is not available on mobile data".into())
    );
    assert_eq!(servers.gateway.counts().sessions, 0, "not even a login");
}
