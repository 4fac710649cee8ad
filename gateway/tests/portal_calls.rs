//! Calls between two myPortal to go apps through the API over real HTTPS:
//! dial, ring, answer, hold, retrieve, hang up, reject, each seen in order
//! on both event streams; an app that changes network mid-call keeps its
//! call; an app that vanishes mid-call ends it for the other party.

mod portal_support;

use std::time::Duration;

use portal_support::{
    App, DAN, EVE, Events, HOME_IP, LAN_IP, Rig, TempDir, office, pcma, stored_certificate,
    temp_dir,
};
use shared::portal::{CallState, CallView, Event};

/// Two registered apps with open streams, past their first events.
async fn two_apps(tag: &str, dan_from: std::net::IpAddr) -> (Rig, TempDir, [(App, Events); 2]) {
    let dir = temp_dir(tag);
    let rig = Rig::start(office(dir.path(), "")).await;
    let certificate = stored_certificate(dir.path());
    let mut dan = rig.app_trusting(dan_from, &certificate);
    let mut eve = rig.app_trusting(LAN_IP, &certificate);
    dan.login(DAN).await.expect("210 logged in");
    eve.login(EVE).await.expect("211 logged in");
    let rtp = |ip: std::net::IpAddr, port| format!("{ip}:{port}");
    dan.register(&rtp(dan_from, 41000), vec![pcma()])
        .await
        .expect("210 registered");
    eve.register(&rtp(LAN_IP, 42000), vec![pcma()])
        .await
        .expect("211 registered");
    let mut dan_events = dan.events().await.expect("a stream");
    let mut eve_events = eve.events().await.expect("a stream");
    for events in [&mut dan_events, &mut eve_events] {
        assert!(matches!(
            events.next().await,
            Some(Event::Registration { .. })
        ));
        assert!(matches!(
            events.next().await,
            Some(Event::Call(CallView {
                state: CallState::Idle,
                ..
            }))
        ));
    }
    (rig, dir, [(dan, dan_events), (eve, eve_events)])
}

/// The next call event: (state, peer, reason).
async fn next_call(events: &mut Events) -> (CallState, String, String, Option<String>) {
    match events.until(|event| matches!(event, Event::Call(_))).await {
        Event::Call(view) => (
            view.state,
            view.peer.unwrap_or_default(),
            view.reason.unwrap_or_default(),
            view.media.map(|media| media.rtp.to_string()),
        ),
        _ => unreachable!("filtered"),
    }
}

async fn expect_call(
    events: &mut Events,
    state: CallState,
    peer: &str,
    reason: &str,
) -> Option<String> {
    let (got, got_peer, got_reason, media) = next_call(events).await;
    assert_eq!(
        (got, got_peer.as_str(), got_reason.as_str()),
        (state, peer, reason)
    );
    media
}

/// Waits (up to 5 s) until `condition` holds.
async fn wait_for(condition: impl Fn() -> bool) {
    tokio::time::timeout(Duration::from_secs(5), async {
        while !condition() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .expect("the condition within 5 s");
}

fn no_body() -> serde_json::Value {
    serde_json::json!({})
}

#[tokio::test]
async fn dial_ring_answer_hold_retrieve_and_hang_up_in_order() {
    use CallState::*;
    let (rig, _dir, [(dan, mut dan_events), (eve, mut eve_events)]) =
        two_apps("calls-flow", LAN_IP).await;
    dan.call("dial", serde_json::json!({"number": "211"}))
        .await
        .expect("dialled");
    expect_call(&mut dan_events, Calling, "211 Eve", "").await;
    expect_call(&mut eve_events, Ringing, "210 Dan", "").await;
    eve.call("answer", no_body()).await.expect("answered");
    let to_dan = expect_call(&mut eve_events, Connected, "210 Dan", "").await;
    let to_eve = expect_call(&mut dan_events, Connected, "211 Eve", "").await;
    assert_eq!(
        to_dan.as_deref(),
        Some("127.0.0.1:41000"),
        "LAN to LAN: direct"
    );
    assert_eq!(to_eve.as_deref(), Some("127.0.0.1:42000"));
    assert_eq!(rig.gateway.calls().calls(), 1);

    dan.call("hold", no_body()).await.expect("held");
    assert_eq!(
        expect_call(&mut dan_events, Held, "211 Eve", "").await,
        None
    );
    assert_eq!(
        expect_call(&mut eve_events, Connected, "210 Dan", "On hold").await,
        None
    );
    dan.call("retrieve", no_body()).await.expect("retrieved");
    expect_call(&mut dan_events, Connected, "211 Eve", "").await;
    expect_call(&mut eve_events, Connected, "210 Dan", "").await;
    dan.call("dtmf", serde_json::json!({"digits": "12#"}))
        .await
        .expect("digits taken");

    eve.call("hangup", no_body()).await.expect("hung up");
    expect_call(&mut eve_events, Ended, "210 Dan", "Call ended").await;
    expect_call(&mut eve_events, Idle, "", "").await;
    expect_call(&mut dan_events, Ended, "211 Eve", "Call ended").await;
    expect_call(&mut dan_events, Idle, "", "").await;
    assert_eq!(rig.gateway.calls().calls(), 0);
    rig.gateway.stop().await;
}

#[tokio::test]
async fn a_rejected_call_ends_for_the_caller_with_the_reason() {
    use CallState::*;
    let (rig, _dir, [(dan, mut dan_events), (eve, mut eve_events)]) =
        two_apps("calls-reject", LAN_IP).await;
    dan.call("dial", serde_json::json!({"number": "211"}))
        .await
        .expect("dialled");
    expect_call(&mut eve_events, Ringing, "210 Dan", "").await;
    eve.call("reject", no_body()).await.expect("rejected");
    expect_call(&mut dan_events, Calling, "211 Eve", "").await;
    expect_call(&mut dan_events, Ended, "", "211 rejected").await;
    expect_call(&mut eve_events, Ended, "210 Dan", "Call ended").await;
    expect_call(&mut eve_events, Idle, "", "").await;
    dan.call("hangup", no_body())
        .await
        .expect("clears the failure");
    expect_call(&mut dan_events, Idle, "", "").await;
    rig.gateway.stop().await;
}

#[tokio::test]
async fn an_app_at_home_calls_through_the_rtp_proxy_and_keeps_its_call_when_it_comes_to_the_office()
{
    use CallState::*;
    let (rig, dir, [(mut dan, mut dan_events), (eve, mut eve_events)]) =
        two_apps("calls-move", HOME_IP).await;
    dan.call("dial", serde_json::json!({"number": "211"}))
        .await
        .expect("dialled");
    expect_call(&mut eve_events, Ringing, "210 Dan", "").await;
    eve.call("answer", no_body()).await.expect("answered");
    expect_call(&mut dan_events, Calling, "211 Eve", "").await;
    let to_eve = expect_call(&mut dan_events, Connected, "211 Eve", "").await;
    let to_dan = expect_call(&mut eve_events, Connected, "210 Dan", "").await;
    let public: std::net::SocketAddr = to_eve.expect("media").parse().expect("an address");
    assert_eq!(
        public.ip().to_string(),
        "127.0.0.1",
        "the company's public address"
    );
    assert_ne!(public.port(), 42000, "the channel's public port, not Eve");
    assert_ne!(
        to_dan.as_deref(),
        Some("127.0.1.20:41000"),
        "not directly to home"
    );
    assert_eq!(rig.gateway.calls().channel_figures().in_use, 1);

    // Dan walks into the office: the same session registers again from the
    // LAN, with a new address. The call stays up, the channel is freed,
    // and both sides are told the new, direct targets.
    let mut in_office = rig.app_trusting(LAN_IP, &stored_certificate(dir.path()));
    in_office.token = dan.token.take();
    let registered = in_office
        .register("127.0.0.1:43000", vec![pcma()])
        .await
        .expect("registered again");
    assert!(!registered.internet);
    let to_eve = expect_call(&mut dan_events, Connected, "211 Eve", "").await;
    let to_dan = expect_call(&mut eve_events, Connected, "210 Dan", "").await;
    assert_eq!(to_eve.as_deref(), Some("127.0.0.1:42000"));
    assert_eq!(to_dan.as_deref(), Some("127.0.0.1:43000"));
    assert_eq!(rig.gateway.calls().calls(), 1, "the call survived the move");
    assert_eq!(rig.gateway.calls().channel_figures().in_use, 0);
    in_office.call("hangup", no_body()).await.expect("hung up");
    expect_call(&mut eve_events, Ended, "210 Dan", "Call ended").await;
    rig.gateway.stop().await;
}

#[tokio::test]
async fn an_app_that_vanishes_mid_call_ends_the_call_for_the_other_party() {
    use CallState::*;
    let (rig, _dir, [(dan, dan_events), (eve, mut eve_events)]) =
        two_apps("calls-vanish", HOME_IP).await;
    dan.call("dial", serde_json::json!({"number": "211"}))
        .await
        .expect("dialled");
    expect_call(&mut eve_events, Ringing, "210 Dan", "").await;
    eve.call("answer", no_body()).await.expect("answered");
    expect_call(&mut eve_events, Connected, "210 Dan", "").await;
    assert_eq!(rig.gateway.calls().channel_figures().in_use, 1);
    // The app is gone: its stream closes, nothing more is heard of it.
    drop(dan_events);
    drop(dan);
    wait_for(|| rig.gateway.status().portal.map(|p| p.streams) == Some(1)).await;
    rig.clock.advance(Duration::from_secs(31));
    expect_call(&mut eve_events, Ended, "210 Dan", "Call ended").await;
    expect_call(&mut eve_events, Idle, "", "").await;
    assert_eq!(rig.gateway.calls().calls(), 0);
    assert_eq!(
        rig.gateway.calls().channel_figures().in_use,
        0,
        "no channel left behind"
    );
    let status = rig.gateway.status().to_string();
    assert!(
        status.contains("2 sessions, 1 VoIP registrations"),
        "{status}"
    );
    rig.gateway.stop().await;
}

/// An even UDP port on `ip` and the one above it: the app's RTP and RTCP
/// sockets (the app announces only RTP; RTCP is RTP + 1).
async fn rtp_pair(ip: std::net::IpAddr) -> (tokio::net::UdpSocket, tokio::net::UdpSocket) {
    for _ in 0..64 {
        let rtp = tokio::net::UdpSocket::bind((ip, 0)).await.expect("bind");
        let port = rtp.local_addr().expect("address").port();
        if port % 2 != 0 || port == u16::MAX {
            continue;
        }
        if let Ok(rtcp) = tokio::net::UdpSocket::bind((ip, port + 1)).await {
            return (rtp, rtcp);
        }
    }
    panic!("no free RTP/RTCP pair on {ip}");
}

/// The next RTCP packet (version 2, payload type 200..=204) on `socket`.
async fn rtcp_on(socket: &tokio::net::UdpSocket) -> std::net::SocketAddr {
    let mut buffer = [0u8; 1500];
    loop {
        let (len, from) =
            tokio::time::timeout(Duration::from_secs(10), socket.recv_from(&mut buffer))
                .await
                .expect("RTCP within 10 s")
                .expect("received");
        let packet = &buffer[..len];
        if packet.len() >= 8 && packet[0] >> 6 == 2 && (200..=204).contains(&packet[1]) {
            return from;
        }
    }
}

/// A minimal G.711 A-law RTP packet.
fn rtp_packet(sequence: u16) -> Vec<u8> {
    let mut packet = vec![0x80, 8];
    packet.extend_from_slice(&sequence.to_be_bytes());
    packet.extend_from_slice(&(u32::from(sequence) * 160).to_be_bytes());
    packet.extend_from_slice(&0x2100_0210_u32.to_be_bytes());
    packet.extend(std::iter::repeat_n(0xd5, 160));
    packet
}

/// The app announces only its RTP address: the gateway's media (here the
/// announcement test, *99) sends RTCP to RTP + 1, directly in the LAN and
/// through the RTP proxy from home.
#[tokio::test]
async fn rtcp_reaches_the_port_above_the_announced_rtp_port_in_the_lan_and_from_home() {
    for (tag, from) in [("rtcp-lan", LAN_IP), ("rtcp-home", HOME_IP)] {
        let dir = temp_dir(tag);
        let rig = Rig::start(office(dir.path(), "")).await;
        let mut app = rig.app_trusting(from, &stored_certificate(dir.path()));
        app.login(DAN).await.expect("logged in");
        let (rtp, rtcp) = rtp_pair(from).await;
        let announced = rtp.local_addr().expect("address");
        app.register(&announced.to_string(), vec![pcma()])
            .await
            .expect("registered");
        let mut events = app.events().await.expect("a stream");
        app.call("dial", serde_json::json!({"number": "*99"}))
            .await
            .expect("dialled");
        let media = match events
            .until(|event| {
                matches!(
                    event,
                    Event::Call(CallView {
                        state: CallState::Connected,
                        media: Some(_),
                        ..
                    })
                )
            })
            .await
        {
            Event::Call(CallView {
                media: Some(media), ..
            }) => media,
            _ => unreachable!("filtered"),
        };
        if from == HOME_IP {
            // The proxy forwards once it has latched the app's RTP.
            for sequence in 0..5 {
                rtp.send_to(&rtp_packet(sequence), media.rtp)
                    .await
                    .expect("sent");
            }
        }
        eprintln!(
            "{tag}: waiting for RTCP on {}",
            rtcp.local_addr().expect("a")
        );
        let source = rtcp_on(&rtcp).await;
        assert_eq!(
            source,
            std::net::SocketAddr::new(media.rtp.ip(), media.rtcp_port),
            "RTCP comes from where the app is told to send its own"
        );
        app.call("hangup", no_body()).await.expect("hung up");
        rig.gateway.stop().await;
    }
}
