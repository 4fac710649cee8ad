//! Server selection of the myPortal to go app against the real gateway,
//! with real timers (guide 4.2): company WiFi through the LAN server, the
//! WAN server (the company router's port forward) when the LAN server does
//! not answer or the app is in a remote WiFi, nothing on mobile data; and a
//! call that survives the move from the company WiFi to a remote one.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use e2e_tests::portal::{
    App, AppEvents, PortForward, PortalOffice, SilentServer, WAN_IP, closed_port,
};
use e2e_tests::speech::{read_wav, temp, write_wav};
use e2e_tests::{BEN, HOME_IP, Handset, LAN_IP, MEDIA_PATIENCE, account};
use shared::hfa_engine::phone::PhoneTimers;
use shared::hfa_engine::system::SystemTimers;
use shared::portal::CallState;
use softphone::audio::{NullBackend, WavBackend, tone};
use softphone::media::MediaOptions;
use softphone::media::call::MediaReport;
use softphone::portal::agent::{AgentCommand, AgentEvent, AgentTimers};
use softphone::portal::client::CallRequest;
use softphone::portal::selection::{SelectionTimers, Unavailable};
use softphone::portal::{Network, Route, Status, VoipFlags};

/// The LAN server must answer within this before the WAN server is tried.
const LAN_TIMEOUT: Duration = Duration::from_secs(1);

fn timers() -> AgentTimers {
    AgentTimers {
        selection: SelectionTimers {
            lan_timeout: LAN_TIMEOUT,
            ..SelectionTimers::default()
        },
        ..AgentTimers::default()
    }
}

/// Waits for the status field to settle on a final status (registered or
/// not, never "registering"); returns it with its (re-)registration time.
async fn settled(events: &mut AppEvents, what: &str) -> (Status, Duration) {
    let event = events
        .until(what, |e| {
            matches!(e, AgentEvent::Status(change) if !matches!(change.status, Status::Registering { .. }))
        })
        .await;
    let AgentEvent::Status(change) = event else {
        unreachable!("filtered above")
    };
    (change.status, change.elapsed)
}

fn route(status: &Status) -> Option<Route> {
    match status {
        Status::Registered { route, .. } => Some(*route),
        _ => None,
    }
}

/// Whether the gateway anchors the app (it sees it come from the internet).
async fn registered_internet(events: &mut AppEvents) -> bool {
    let event = events
        .until("the registration", |e| {
            matches!(e, AgentEvent::Registered { .. })
        })
        .await;
    let AgentEvent::Registered { internet, .. } = event else {
        unreachable!("filtered above")
    };
    internet
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_app_registers_through_the_right_server_on_each_network() {
    let office = PortalOffice::start(SystemTimers::default()).await;
    let forward = PortForward::start(SocketAddr::new(WAN_IP, 0), office.portal).await;
    let mut table: Vec<(String, String, Duration)> = Vec::new();

    // Company WiFi: the LAN server.
    let settings = office.dan(
        forward.addr(),
        Some(office.portal),
        Network::CompanyWifi,
        LAN_IP,
    );
    let mut app = App::start(
        settings,
        MediaOptions::g711(Box::new(NullBackend)),
        timers(),
    )
    .await;
    let (status, took) = settled(&mut app.events, "registered in the company WiFi").await;
    assert_eq!(route(&status), Some(Route::Lan), "{status}");
    assert_eq!(forward.accepted(), 0, "nothing went through the router");
    table.push(("start, company WiFi".into(), status.to_string(), took));

    // Remote WiFi, "Use VoIP in remote WiFi networks" off: not registered.
    app.agent.send(AgentCommand::SetNetwork {
        network: Network::RemoteWifi,
        bind: Some(HOME_IP),
    });
    let (status, took) = settled(&mut app.events, "remote WiFi with the flag off").await;
    assert_eq!(
        status,
        Status::Unavailable(Unavailable::RemoteWifiOff),
        "{status}"
    );
    assert_eq!(
        status.to_string(),
        "Not registered: VoIP in remote WiFi networks is off"
    );
    table.push(("remote WiFi, flag off".into(), status.to_string(), took));

    // The flag on: the WAN server, through the router's port forward.
    app.agent.send(AgentCommand::SetFlags(VoipFlags {
        voip: true,
        remote_wifi: true,
    }));
    let (status, took) = settled(&mut app.events, "remote WiFi with the flag on").await;
    assert_eq!(route(&status), Some(Route::Wan), "{status}");
    assert!(forward.accepted() > 0, "through the port forward");
    assert!(forward.open() > 0, "its connections stay open");
    table.push(("remote WiFi, flag on".into(), status.to_string(), took));

    // Mobile data: no VoIP.
    app.agent.send(AgentCommand::SetNetwork {
        network: Network::Mobile,
        bind: Some(HOME_IP),
    });
    let (status, took) = settled(&mut app.events, "mobile data").await;
    assert_eq!(status, Status::Unavailable(Unavailable::MobileData));
    table.push(("mobile data".into(), status.to_string(), took));

    // Back in the company WiFi: the LAN server again.
    app.agent.send(AgentCommand::SetNetwork {
        network: Network::CompanyWifi,
        bind: Some(LAN_IP),
    });
    assert!(!registered_internet(&mut app.events).await, "from the LAN");
    let (status, took) = settled(&mut app.events, "back in the company WiFi").await;
    assert_eq!(route(&status), Some(Route::Lan), "{status}");
    table.push(("back to company WiFi".into(), status.to_string(), took));
    app.agent.stop().await;

    // A LAN server that never answers: the WAN server after the timeout.
    let silent = SilentServer::start().await;
    let settings = office.dan(
        forward.addr(),
        Some(silent.addr()),
        Network::CompanyWifi,
        LAN_IP,
    );
    let mut app = App::start(
        settings,
        MediaOptions::g711(Box::new(NullBackend)),
        timers(),
    )
    .await;
    let (status, took) = settled(&mut app.events, "the LAN server silent").await;
    assert_eq!(route(&status), Some(Route::Wan), "{status}");
    assert!(took >= LAN_TIMEOUT, "the LAN server had its time: {took:?}");
    table.push(("LAN server silent".into(), status.to_string(), took));
    app.agent.stop().await;

    // A LAN server that refuses the connection: the WAN server at once.
    let closed = closed_port().await;
    let settings = office.dan(forward.addr(), Some(closed), Network::CompanyWifi, LAN_IP);
    let mut app = App::start(
        settings,
        MediaOptions::g711(Box::new(NullBackend)),
        timers(),
    )
    .await;
    let (status, took) = settled(&mut app.events, "the LAN server's port closed").await;
    assert_eq!(route(&status), Some(Route::Wan), "{status}");
    table.push(("LAN server port closed".into(), status.to_string(), took));
    app.agent.stop().await;

    eprintln!("{:<24} {:>10}  status", "transition", "took (ms)");
    for (transition, status, took) in &table {
        eprintln!(
            "{transition:<24} {:>10.1}  {status}",
            took.as_secs_f64() * 1000.0
        );
    }
    let accepted = forward.stop().await;
    eprintln!("port forward: {accepted} connections");
    office.stop().await;
}

/// The longest run of silent 20 ms frames between the first and the last
/// loud one (from `from` on), in samples.
fn longest_gap(samples: &[i16], from: usize) -> (usize, usize) {
    const FRAME: usize = 160;
    const QUIET_RMS: f64 = 500.0;
    let loud: Vec<bool> = samples[from.min(samples.len())..]
        .chunks(FRAME)
        .map(|frame| {
            let energy: f64 = frame.iter().map(|s| f64::from(*s).powi(2)).sum();
            (energy / frame.len() as f64).sqrt() >= QUIET_RMS
        })
        .collect();
    let (mut best, mut at, mut run) = ((0, 0), None::<usize>, 0);
    for (index, is_loud) in loud.iter().enumerate() {
        if *is_loud {
            if at.is_some() && run > best.0 {
                best = (run, index - run);
            }
            at = Some(index);
            run = 0;
        } else if at.is_some() {
            run += 1;
        }
    }
    (best.0 * FRAME, from + best.1 * FRAME)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_keeps_its_audio_across_a_move_from_the_company_wifi_to_a_remote_one() {
    let office = PortalOffice::start(SystemTimers::default()).await;
    let forward = PortForward::start(SocketAddr::new(WAN_IP, 0), office.portal).await;
    let (played, recorded) = (temp("switch-tone.wav"), temp("switch-dan.wav"));
    write_wav(&played, 8000, &tone::sine(8000, 1000.0, 12000.0, 8000 * 30));
    let mut settings = office.dan(
        forward.addr(),
        Some(office.portal),
        Network::CompanyWifi,
        LAN_IP,
    );
    settings.flags.remote_wifi = true;
    let dan_audio = WavBackend::recording(recorded.clone());
    // Lost packets play as silence (no concealment), so a gap shows.
    let mut dan_media = MediaOptions::g711(Box::new(dan_audio));
    dan_media.concealment = false;
    let mut dan = App::start(settings, dan_media, timers()).await;
    assert!(!registered_internet(&mut dan.events).await, "in the LAN");
    let mut ben = Handset::register_with_media(
        account(office.gateway.hfa_addr(), BEN, LAN_IP),
        PhoneTimers::default(),
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
        0,
        "a call inside the LAN takes no SBC channel"
    );
    // Two quality reports (4 s) of tone before the move.
    for _ in 0..2 {
        dan.events
            .until("a quality report", |e| {
                matches!(e, AgentEvent::Media(MediaReport::Quality(stats)) if stats.received > 0)
            })
            .await;
    }

    let switched = Instant::now();
    dan.agent.send(AgentCommand::SetNetwork {
        network: Network::RemoteWifi,
        bind: Some(HOME_IP),
    });
    let mut seen = Vec::new();
    let (mut via_wan, mut new_media, mut reports_after) = (None, false, 0);
    let waited = tokio::time::timeout(MEDIA_PATIENCE, async {
        while let Some(event) = dan.events.0.recv().await {
            match &event {
                AgentEvent::Call(view) => {
                    assert_eq!(
                        view.state,
                        CallState::Connected,
                        "the call stays up across the move: {event:?}"
                    );
                    new_media |= view.media.is_some();
                }
                AgentEvent::Registered { internet, .. } => {
                    assert!(internet, "from the remote WiFi, through the internet");
                    via_wan = Some(switched.elapsed());
                }
                AgentEvent::Media(MediaReport::Stopped(_)) => {
                    panic!("the media stopped across the move: {seen:#?}")
                }
                AgentEvent::Media(MediaReport::Quality(_)) if via_wan.is_some() => {
                    reports_after += 1;
                }
                _ => {}
            }
            seen.push(event);
            if new_media && reports_after >= 2 {
                return;
            }
        }
    })
    .await;
    assert!(waited.is_ok(), "the call went on after the move: {seen:#?}");
    assert_eq!(
        office.gateway.calls().channel_figures().in_use,
        1,
        "the gateway re-anchored Dan's leg in an SBC channel"
    );
    assert!(
        forward.open() > 0,
        "Dan's signalling goes through the router"
    );

    dan.agent.send(AgentCommand::Call(CallRequest::Hangup));
    dan.events
        .until("Dan's media to stop", |e| {
            matches!(e, AgentEvent::Media(MediaReport::Stopped(_)))
        })
        .await;
    ben.press("u");
    assert_eq!(
        office.gateway.calls().channel_figures().in_use,
        0,
        "the channel is free after the call"
    );

    let heard = read_wav(&recorded);
    let switch_at = ((switched - media_started).as_secs_f64() * 8000.0) as usize;
    let after = &heard[switch_at.min(heard.len())..];
    let loud_after = tone::loud_span(after, 2000);
    let frequency = tone::dominant_frequency(loud_after, 8000);
    let (gap, gap_at) = longest_gap(&heard, switch_at.saturating_sub(8000));
    eprintln!(
        "move to remote WiFi: re-registered via WAN after {:.1} ms; recording {:.2} s, switch at \
         {:.2} s; longest silence around the switch {:.1} ms at {:.2} s; tone after: {:.2} s at \
         {frequency:?} Hz",
        via_wan.unwrap_or_default().as_secs_f64() * 1000.0,
        heard.len() as f64 / 8000.0,
        switch_at as f64 / 8000.0,
        gap as f64 / 8.0,
        gap_at as f64 / 8000.0,
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
    assert!(
        gap < 2 * 8000,
        "the audio resumed within 2 s of the move: gap {gap} samples"
    );

    dan.agent.stop().await;
    ben.client.stop().await;
    forward.stop().await;
    office.stop().await;
    let _ = std::fs::remove_file(played);
    let _ = std::fs::remove_file(recorded);
}
