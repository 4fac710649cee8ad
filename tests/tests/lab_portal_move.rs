//! The myPortal to go app at home, through the lab's real NAT: it reaches
//! the portal only through the company router's forward of 8802 (its LAN
//! server, the gateway's private address, is unreachable from home), calls
//! a desk phone in the office, and the call survives the laptop's move
//! into the company WiFi: the home link goes down, the app's sockets from
//! then on are in the company LAN, it re-registers through the LAN server
//! and the audio goes on. Needs root; real time (~15 s).

use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

use e2e_tests::netlab::office::Office;
use e2e_tests::netlab::{
    COMPANY_PUBLIC, GATEWAY_LAN, HOME_PC, HomeNat, Host, OFFICE_LAPTOP, PORTAL_PORT,
};
use e2e_tests::portal::{App, AppEvents};
use e2e_tests::speech::{read_wav, temp, write_wav};
use e2e_tests::{BEN, DAN, MEDIA_PATIENCE};
use shared::portal::CallState;
use shared::secret::Secret;
use softphone::audio::{WavBackend, tone};
use softphone::media::MediaOptions;
use softphone::media::call::MediaReport;
use softphone::portal::agent::{AgentCommand, AgentEvent, AgentTimers};
use softphone::portal::client::CallRequest;
use softphone::portal::{Network, PortalSettings};

/// Whether the gateway sees the app coming from the internet, at its next
/// registration.
async fn registered_internet(events: &mut AppEvents) -> bool {
    match events
        .until("a registration", |e| {
            matches!(e, AgentEvent::Registered { .. })
        })
        .await
    {
        AgentEvent::Registered { internet, .. } => internet,
        _ => unreachable!("filtered above"),
    }
}

/// Waits for `count` quality reports with packets received.
async fn quality_reports(events: &mut AppEvents, count: usize) {
    for _ in 0..count {
        events
            .until("a quality report", |e| {
                matches!(e, AgentEvent::Media(MediaReport::Quality(stats)) if stats.received > 0)
            })
            .await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_app_at_home_calls_in_through_8802_and_keeps_the_call_on_moving_to_the_office() {
    let office = Office::start(HomeNat::EndpointIndependent).await;
    let (played, recorded) = (temp("lab-move-tone.wav"), temp("lab-move-dan.wav"));
    write_wav(&played, 8000, &tone::sine(8000, 1000.0, 12000.0, 8000 * 40));

    // Dan's laptop at home: the WAN server is the company's public address
    // and the forwarded 8802; the LAN server is the gateway's own address.
    let wan = SocketAddr::from((COMPANY_PUBLIC, PORTAL_PORT)).to_string();
    let lan = SocketAddr::from((GATEWAY_LAN, PORTAL_PORT)).to_string();
    let mut settings = PortalSettings::new(
        DAN.0,
        Secret::new(DAN.1),
        &wan,
        Some(&lan),
        Network::RemoteWifi,
        office.trust.clone(),
    )
    .expect("valid app settings");
    settings.flags.remote_wifi = true;
    settings.bind = Some(IpAddr::V4(HOME_PC));
    let laptop = office
        .lab
        .runtime(Host::HomeLan)
        .expect("a runtime on the laptop");
    let mut dan_media = MediaOptions::g711(Box::new(WavBackend::recording(recorded.clone())));
    dan_media.concealment = false;
    let mut dan = laptop
        .run(App::start(settings, dan_media, AgentTimers::default()))
        .await;
    assert!(
        registered_internet(&mut dan.events).await,
        "from home, through the company router"
    );
    let portal_peers = office
        .gateway
        .portal_connections()
        .expect("the portal runs");
    eprintln!("portal connections while Dan is at home: {portal_peers:?}");

    let mut ben = office
        .phone_in_office(
            BEN,
            MediaOptions::g711(Box::new(WavBackend::playing(played.clone()))),
        )
        .await;
    dan.agent
        .send(AgentCommand::Call(CallRequest::Dial(BEN.0.to_owned())));
    ben.until("the ringer", |m| m.ringer()).await;
    ben.press("h");
    dan.events
        .until("Dan's media to start", |e| {
            matches!(e, AgentEvent::Media(MediaReport::Started { .. }))
        })
        .await;
    let media_started = Instant::now();
    assert_eq!(
        office.gateway.calls().channel_figures().in_use,
        1,
        "Dan's leg from home runs through an SBC channel"
    );
    quality_reports(&mut dan.events, 2).await;

    // The move: the home WiFi is gone, the laptop is in the office.
    let moved = Instant::now();
    office
        .lab
        .run_in(Host::HomeLan, "ip", &["link", "set", "eth0", "down"])
        .expect("the home link goes down");
    laptop
        .move_to(&office.lab.ns(Host::CompanyLan))
        .await
        .expect("the laptop joins the company LAN");
    dan.agent.send(AgentCommand::SetNetwork {
        network: Network::CompanyWifi,
        bind: Some(IpAddr::V4(OFFICE_LAPTOP)),
    });
    let mut seen = Vec::new();
    let (mut from_lan, mut reports_after) = (None, 0);
    let waited = tokio::time::timeout(MEDIA_PATIENCE, async {
        while let Some(event) = dan.events.0.recv().await {
            match &event {
                AgentEvent::Call(view) => assert_eq!(
                    view.state,
                    CallState::Connected,
                    "the call stays up across the move: {event:?}"
                ),
                AgentEvent::Registered { internet, .. } => {
                    assert!(!internet, "from the company LAN now");
                    from_lan = Some(moved.elapsed());
                }
                AgentEvent::Media(MediaReport::Stopped(_)) => {
                    panic!("the media stopped across the move: {seen:#?}")
                }
                AgentEvent::Media(MediaReport::Quality(stats))
                    if from_lan.is_some() && stats.received > 0 =>
                {
                    reports_after += 1;
                }
                _ => {}
            }
            seen.push(event);
            if reports_after >= 2 {
                return;
            }
        }
    })
    .await;
    assert!(waited.is_ok(), "the call went on after the move: {seen:#?}");
    let anchored_after_move = office.gateway.calls().channel_figures().in_use;
    assert_eq!(
        anchored_after_move, 0,
        "in the company LAN, Dan's leg no longer runs through the SBC"
    );

    dan.agent.send(AgentCommand::Call(CallRequest::Hangup));
    dan.events
        .until("Dan's media to stop", |e| {
            matches!(e, AgentEvent::Media(MediaReport::Stopped(_)))
        })
        .await;
    ben.press("u");
    let heard = read_wav(&recorded);
    let move_at = ((moved - media_started).as_secs_f64() * 8000.0) as usize;
    let after = &heard[move_at.min(heard.len())..];
    let loud_after = tone::loud_span(after, 2000);
    let frequency = tone::dominant_frequency(loud_after, 8000);
    eprintln!(
        "Dan moved home -> office: registered from the LAN after {:.1} ms; {:.2} s of tone after \
         the move at {frequency:?} Hz; SBC channels in use after the move: {anchored_after_move}",
        from_lan.unwrap_or_default().as_secs_f64() * 1000.0,
        loud_after.len() as f64 / 8000.0,
    );
    assert!(
        loud_after.len() > 8000,
        "the tone is heard for more than a second after the move"
    );
    assert!(
        frequency.is_some_and(|hz| (hz - 1000.0).abs() < 5.0),
        "{frequency:?}"
    );
    assert_eq!(
        office.gateway.calls().channel_figures().in_use,
        0,
        "the channel is free after the call"
    );
    dan.agent.stop().await;
    ben.client.stop().await;
    drop(laptop);
    office.stop().await;
    let _ = std::fs::remove_file(played);
    let _ = std::fs::remove_file(recorded);
}
