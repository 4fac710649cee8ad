//! The demo walk against the real gateway: its portal as the LAN server, a
//! port-forward to it as the WAN server.

use super::*;
use crate::portal::testing::{HOME_IP, LAN_IP, fast, media, servers, settings};

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
    let call = report.call.expect("a call was made and survived the move");
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
