//! The headless loops against fake LAN and WAN servers over real TLS.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, PoisonError};

use shared::secret::Secret;

use super::*;
use crate::audio::NullBackend;
use crate::portal::testing::{FakeGateway, FakePortal, PASSWORD, TestCert};

const COMPANY: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);
const HOME: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 1, 20));

struct Servers {
    gateway: Arc<FakeGateway>,
    lan: FakePortal,
    wan: FakePortal,
    cert: TestCert,
}

async fn servers() -> Servers {
    let cert = TestCert::self_signed();
    let gateway = Arc::new(FakeGateway::default());
    let serve = |gateway: Arc<FakeGateway>| move |request: &_| gateway.answer(request);
    let lan = FakePortal::start(COMPANY, &cert, serve(gateway.clone())).await;
    let wan = FakePortal::start(COMPANY, &cert, serve(gateway.clone())).await;
    Servers {
        gateway,
        lan,
        wan,
        cert,
    }
}

fn settings(servers: &Servers, lan: SocketAddr) -> PortalSettings {
    PortalSettings::new(
        "210",
        Secret::new(PASSWORD),
        &servers.wan.address().to_string(),
        Some(&lan.to_string()),
        Network::CompanyWifi,
        Trust::Pin(servers.cert.fingerprint()),
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
    company: Some(COMPANY),
    home: Some(HOME),
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
    let lan = servers.lan.address();
    let wan = servers.wan.address();
    let results = demo(settings(&servers, lan), media(), BINDS, fast())
        .await
        .expect("every step settles");
    assert_eq!(
        statuses(&results),
        [
            format!("Registered via LAN server {lan}"),
            "Not registered: VoIP in remote WiFi networks is off".to_owned(),
            format!("Registered via WAN server {wan}"),
            "Not registered: VoIP is not available on mobile data".to_owned(),
            format!("Registered via LAN server {lan}"),
        ]
    );
    // From home, the WAN server saw the home address (the best-effort
    // unregistration on mobile data may or may not have arrived yet).
    let register = servers.wan.requests_to("/api/v1/voip/register");
    let posts = register.iter().filter(|r| r.method == "POST").count();
    assert_eq!(posts, 1);
    assert!(register.iter().all(|request| request.peer.ip() == HOME));
}

#[tokio::test]
async fn with_the_lan_server_silent_the_demo_shows_the_fall_back_and_its_time() {
    let servers = servers().await;
    let silent = tokio::net::TcpListener::bind((COMPANY, 0))
        .await
        .expect("bind");
    let silent_address = silent.local_addr().expect("address");
    let wan = servers.wan.address();
    let results = demo(settings(&servers, silent_address), media(), BINDS, fast())
        .await
        .expect("every step settles");
    let (first, took) = results[0].outcome.clone().expect("settled");
    assert_eq!(first, format!("Registered via WAN server {wan}"));
    assert!(took >= Duration::from_millis(300), "after the LAN timeout");
    drop(silent);
}

#[tokio::test]
async fn portal_call_connects_with_media_and_hangs_up_as_planned() {
    let servers = servers().await;
    let peer = tokio::net::UdpSocket::bind((COMPANY, 0))
        .await
        .expect("peer");
    *servers
        .gateway
        .answer_with_media
        .lock()
        .unwrap_or_else(PoisonError::into_inner) = Some(peer.local_addr().expect("address"));
    let mut settings = settings(&servers, servers.lan.address());
    settings.bind = Some(COMPANY);
    let plan = Plan::call("201", Duration::from_millis(300)).expect("plan");
    let end = run(settings, Some(plan), media()).await;
    assert_eq!(end, PortalEnd::Call(Outcome::Connected));
    assert_eq!(servers.lan.requests_to("/api/v1/call/hangup").len(), 1);
    let mut buffer = [0u8; 1500];
    assert!(
        peer.try_recv_from(&mut buffer).is_ok(),
        "RTP reached the peer"
    );
}

#[tokio::test]
async fn portal_register_on_mobile_data_is_refused_with_the_status() {
    let servers = servers().await;
    let mut settings = settings(&servers, servers.lan.address());
    settings.network = Network::Mobile;
    let end = run(settings, Some(Plan::Answer { hangup_after: None }), media()).await;
    assert_eq!(
        end,
        PortalEnd::Refused("Not registered: VoIP is not available on mobile data".into())
    );
}
