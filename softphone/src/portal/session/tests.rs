//! The headless loops against the real gateway: its portal as the LAN
//! server, a port-forward to it as the WAN server.

use std::time::Duration;

use shared::portal::CallState;

use super::*;
use crate::portal::client::CallRequest;
use crate::portal::settings::Network;
use crate::portal::testing::{EVE, LAN_IP, OtherApp, media, servers, settings};

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
