//! myPortal to go VoIP against the real gateway over real HTTPS (guide
//! 1.3.3, 4.2, 6): the app at home calls an HFA desk phone in the office
//! and back, speech both ways through the integrated SBC, scored with PESQ;
//! and the gateway's refusals as the app shows them.

use std::time::Duration;

use e2e_tests::portal::{App, MAX_FAILURES, PortalOffice};
use e2e_tests::speech::{g711_round_trip, mos, read_wav, reference, temp};
use e2e_tests::{ANNA, BEN, DAN, HOME_IP, Handset, LAN_IP, account, phone};
use shared::hfa::DeclineCause;
use shared::hfa_engine::phone::{PhoneState, PhoneTimers};
use shared::hfa_engine::system::SystemTimers;
use shared::media::StreamStats;
use shared::portal::{ApiError, CallState, ErrorCode, VoipRegistration};
use softphone::audio::{AudioEvent, WavBackend};
use softphone::media::MediaOptions;
use softphone::media::call::MediaReport;
use softphone::portal::agent::{AgentCommand, AgentEvent, AgentTimers};
use softphone::portal::client::{CallRequest, ClientError, PortalClient, g711_offer};
use softphone::portal::selection::SelectionTimers;
use softphone::portal::{Network, PortalSettings, ServerAddress};

/// The speech test scores real-time audio on a 2-core machine: the other
/// tests of this binary wait for it rather than load the CPU under it.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn connected(event: &AgentEvent) -> bool {
    matches!(event, AgentEvent::Call(view) if view.state == CallState::Connected && view.media.is_some())
}

fn playback_finished(event: &AgentEvent) -> bool {
    matches!(
        event,
        AgentEvent::Media(MediaReport::Audio(AudioEvent::PlaybackFinished))
    )
}

fn media_stopped(event: &AgentEvent) -> bool {
    matches!(event, AgentEvent::Media(MediaReport::Stopped(_)))
}

/// What one side heard: the recording, and whether every frame was played
/// on time (none late, concealed, stretched or dropped by the jitter
/// buffer, and none written after the device wanted it). Nothing may be
/// lost on the path either way.
struct Heard {
    samples: Vec<i16>,
    on_time: bool,
}

impl Heard {
    fn new(samples: Vec<i16>, stats: &StreamStats, who: &str) -> Self {
        assert_eq!(
            stats.lost, 0,
            "{who} lost packets on a clean path: {stats:?}"
        );
        let on_time =
            stats.late + stats.concealed + stats.stretched + stats.dropped + stats.underruns == 0;
        Self { samples, on_time }
    }

    /// The least score this direction must reach against the codec alone:
    /// a few hundredths below it when every frame played on time; when the
    /// machine's scheduler delayed a frame (real time on two shared cores),
    /// concealment, or a frame of silence the device played while it
    /// waited, must still keep it within 0.15, far above what speech cut
    /// by gaps scores.
    fn bound(&self, ceiling: f32) -> f32 {
        if self.on_time {
            ceiling - 0.05
        } else {
            ceiling - 0.15
        }
    }
}

/// Dan at home: remote WiFi with "Use VoIP in remote WiFi networks" on,
/// the WAN server the gateway's portal address.
fn dan_at_home(office: &PortalOffice) -> PortalSettings {
    let mut settings = office.dan(office.portal, None, Network::RemoteWifi, HOME_IP);
    settings.flags.remote_wifi = true;
    settings
}

/// Both sides play the reference and record what they hear, until both
/// have played it to the end; then `hang_up` ends the call. Returns (what
/// Ben heard, what Dan heard).
async fn speak_both_ways(
    office: &PortalOffice,
    dan: &mut App,
    ben: &mut Handset,
    dan_records: &std::path::Path,
    ben_records: &std::path::Path,
    dan_hangs_up: bool,
) -> (Heard, Heard) {
    let figures = office.gateway.calls().channel_figures();
    assert_eq!(figures.in_use, 1, "Dan's leg runs through an SBC channel");
    assert_eq!(office.gateway.sbc().stats().in_use, 1);
    let channel = office
        .gateway
        .sbc()
        .stats()
        .channels
        .into_iter()
        .find(|c| c.anchored);
    assert_eq!(
        channel.and_then(|c| c.device).map(|device| device.ip),
        Some(HOME_IP),
        "the channel learns Dan's media from the address Dan registered from"
    );
    dan.events
        .until_within(
            e2e_tests::MEDIA_PATIENCE,
            "Dan's speech to end",
            playback_finished,
        )
        .await;
    ben.media_report("Ben's speech to end", |r| {
        matches!(r, MediaReport::Audio(AudioEvent::PlaybackFinished))
    })
    .await;
    // One more quality report (2 s) lets the last packets play out.
    ben.media_report("a quality report", |r| matches!(r, MediaReport::Quality(_)))
        .await;
    let relayed = office.gateway.sbc().stats().totals;
    eprintln!("SBC totals during the call: {relayed:?}");
    if dan_hangs_up {
        dan.agent.send(AgentCommand::Call(CallRequest::Hangup));
    } else {
        ben.press("u");
    }
    let ben_stats = ben
        .media_report("Ben's media to stop", |r| {
            matches!(r, MediaReport::Stopped(_))
        })
        .await;
    eprintln!("Ben's media: {ben_stats:?}");
    // The app stops the media as it shows the end, so the end comes first.
    dan.events
        .until("the call to end", |e| {
            matches!(e, AgentEvent::Call(view) if matches!(view.state, CallState::Ended | CallState::Idle))
        })
        .await;
    let dan_stats = dan.events.until("Dan's media to stop", media_stopped).await;
    eprintln!("Dan's media: {dan_stats:?}");
    if dan_hangs_up {
        ben.press("u");
    }
    let MediaReport::Stopped(ben_stats) = ben_stats else {
        unreachable!("filtered above")
    };
    let AgentEvent::Media(MediaReport::Stopped(dan_stats)) = dan_stats else {
        unreachable!("filtered above")
    };
    let heard = (
        Heard::new(read_wav(ben_records), &ben_stats, "Ben"),
        Heard::new(read_wav(dan_records), &dan_stats, "Dan"),
    );
    assert_eq!(
        office.gateway.calls().channel_figures().in_use,
        0,
        "the channel is free after the call"
    );
    heard
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_app_at_home_calls_a_desk_phone_and_back_with_clean_speech() {
    let (reference_file, reference) = reference();
    let ceiling = mos(reference, &g711_round_trip(reference));
    let _serial = ONE_AT_A_TIME.lock().await;
    let office = PortalOffice::start(SystemTimers::default()).await;
    let (dan_records, ben_records) = (temp("portal-dan.wav"), temp("portal-ben.wav"));
    let dan_audio = WavBackend {
        play: Some(reference_file.clone()),
        record: Some(dan_records.clone()),
    };
    let ben_audio = WavBackend {
        play: Some(reference_file.clone()),
        record: Some(ben_records.clone()),
    };
    let mut dan = App::start(
        dan_at_home(&office),
        MediaOptions::g711(Box::new(dan_audio)),
        AgentTimers::default(),
    )
    .await;
    let registered = dan
        .events
        .until("Dan's registration", |e| {
            matches!(e, AgentEvent::Registered { .. })
        })
        .await;
    let AgentEvent::Registered { internet, rtp, .. } = registered else {
        unreachable!("filtered above")
    };
    assert!(internet, "the gateway anchors the app at home in its SBC");
    assert_eq!(rtp.ip(), HOME_IP);
    let mut ben = Handset::register_with_media(
        account(office.gateway.hfa_addr(), BEN, LAN_IP),
        PhoneTimers::default(),
        MediaOptions::g711(Box::new(ben_audio)),
    )
    .await;

    // Dan calls Ben.
    dan.agent
        .send(AgentCommand::Call(CallRequest::Dial(BEN.0.to_owned())));
    ben.until("the ringer", |m| m.ringer()).await;
    ben.press("h");
    dan.events.until("Dan connected", connected).await;
    let (ben_heard, dan_heard) = speak_both_ways(
        &office,
        &mut dan,
        &mut ben,
        &dan_records,
        &ben_records,
        true,
    )
    .await;
    let out = [
        (mos(reference, &ben_heard.samples), ben_heard.bound(ceiling)),
        (mos(reference, &dan_heard.samples), dan_heard.bound(ceiling)),
    ];

    // Ben calls Dan.
    ben.press("h210");
    dan.events
        .until(
            "Dan's app rings",
            |e| matches!(e, AgentEvent::Call(view) if view.state == CallState::Ringing),
        )
        .await;
    dan.agent.send(AgentCommand::Call(CallRequest::Answer));
    dan.events.until("Dan connected", connected).await;
    let (ben_heard, dan_heard) = speak_both_ways(
        &office,
        &mut dan,
        &mut ben,
        &dan_records,
        &ben_records,
        false,
    )
    .await;
    let back = [
        (mos(reference, &ben_heard.samples), ben_heard.bound(ceiling)),
        (mos(reference, &dan_heard.samples), dan_heard.bound(ceiling)),
    ];

    eprintln!(
        "PESQ MOS-LQO: G.711 round trip {ceiling:.3}; Dan calls Ben: Dan->Ben {:.3}, Ben->Dan \
         {:.3}; Ben calls Dan: Dan->Ben {:.3}, Ben->Dan {:.3}",
        out[0].0, out[1].0, back[0].0, back[1].0
    );
    assert!(ceiling > 3.6, "the reference itself is sane: {ceiling}");
    for (score, bound) in out.iter().chain(&back) {
        assert!(
            score >= bound,
            "a direction scored {score:.3} (at least {bound:.3}), the codec alone {ceiling:.3}"
        );
    }
    dan.agent.stop().await;
    ben.client.stop().await;
    assert_eq!(office.gateway.calls().calls(), 0);
    office.stop().await;
    let _ = std::fs::remove_file(dan_records);
    let _ = std::fs::remove_file(ben_records);
}

/// The status shown after a failed attempt.
fn quiet() -> MediaOptions {
    MediaOptions::g711(Box::new(softphone::audio::NullBackend))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_passwords_are_refused_then_locked_out_even_with_the_right_one() {
    let _serial = ONE_AT_A_TIME.lock().await;
    let office = PortalOffice::start(SystemTimers::default()).await;
    let mut wrong = office.settings(
        (DAN.0, "not-Dans-password"),
        office.portal,
        None,
        Network::RemoteWifi,
        HOME_IP,
    );
    wrong.flags.remote_wifi = true;
    let timers = AgentTimers {
        selection: SelectionTimers {
            retry_first: Duration::from_millis(200),
            retry_max: Duration::from_millis(200),
            ..SelectionTimers::default()
        },
        ..AgentTimers::default()
    };
    let mut app = App::start(wrong, quiet(), timers).await;
    for attempt in 1..=MAX_FAILURES {
        let status = app.events.failed_status().await;
        eprintln!("attempt {attempt}: {status}");
        assert!(
            status.contains("Login failed: wrong user or password"),
            "attempt {attempt}: {status}"
        );
    }
    let status = app.events.failed_status().await;
    assert!(
        status.contains("Too many failed logins"),
        "after {MAX_FAILURES} failures: {status}"
    );
    app.agent.stop().await;

    let mut right = dan_at_home(&office);
    right.flags.remote_wifi = true;
    let mut app = App::start(right, quiet(), AgentTimers::default()).await;
    let status = app.events.failed_status().await;
    assert!(
        status.contains("Too many failed logins"),
        "the right password during the lockout: {status}"
    );
    app.agent.stop().await;

    // The lockout is the system's, not the port's: from the same address
    // an HFA phone with its right password is refused too.
    let (anna, mut events) = phone(
        account(office.gateway.hfa_addr(), ANNA, HOME_IP),
        PhoneTimers::default(),
    );
    assert_eq!(
        events.declined().await,
        PhoneState::Declined {
            cause: DeclineCause::TEMPORARILY_LOCKED
        }
    );
    anna.stop().await;
    office.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_app_older_than_the_guide_minimum_is_refused() {
    let _serial = ONE_AT_A_TIME.lock().await;
    let office = PortalOffice::start(SystemTimers::default()).await;
    let mut old = dan_at_home(&office);
    old.set_app("android", "V2R1.60.0").expect("a version");
    let mut app = App::start(old, quiet(), AgentTimers::default()).await;
    let status = app.events.failed_status().await;
    eprintln!("{status}");
    assert!(
        status.contains("This app version (V2R1.60.0) is too old for VoIP")
            && status.contains("V2R1.61.14 or later (guide 4)"),
        "{status}"
    );
    app.agent.stop().await;
    office.stop().await;
}

/// The client's raw API: a session, then a registration offering G.722
/// beside G.711 (the agent offers G.711 only).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_offer_beyond_g711_is_refused_with_the_guides_words() {
    use softphone::portal::trust::{GatewayVerifier, client_config, provider};

    let _serial = ONE_AT_A_TIME.lock().await;
    let office = PortalOffice::start(SystemTimers::default()).await;
    let server = ServerAddress::parse(&office.portal.to_string()).expect("an address");
    let client = PortalClient::new(&server, Some(HOME_IP), &office.trust).expect("a client");
    let settings = dan_at_home(&office);
    let session = client
        .login(DAN.0, &settings.password, &settings.app)
        .await
        .expect("Dan logs in");

    let verifier =
        GatewayVerifier::new(server.to_string(), &office.trust, provider()).expect("a verifier");
    let tls = client_config(std::sync::Arc::new(verifier), provider()).expect("TLS config");
    let http = reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .local_address(HOME_IP)
        .no_proxy()
        .build()
        .expect("an HTTPS client");
    let mut codecs = g711_offer();
    codecs.push(shared::portal::CodecOffer {
        name: "G722".to_owned(),
        payload_type: 9,
        ptime_ms: 20,
    });
    let response = http
        .post(format!("https://{server}/api/v1/voip/register"))
        .bearer_auth(session.token.expose())
        .json(&VoipRegistration {
            rtp: std::net::SocketAddr::new(HOME_IP, 40000),
            codecs,
        })
        .send()
        .await
        .expect("the gateway answers");
    assert_eq!(response.status().as_u16(), 422);
    let error: ApiError = response.json().await.expect("an ApiError");
    eprintln!("{error:?}");
    assert_eq!(error.code, ErrorCode::CodecNotSupported);
    assert_eq!(
        error.message,
        "Codec G722 is not supported: myPortal to go VoIP supports only G.711 (PCMA, PCMU) \
         (guide 1.3.3)"
    );
    // The session is fine; the G.711 offer the agent makes is accepted.
    let rtp = std::net::SocketAddr::new(HOME_IP, 40000);
    let registered = client
        .register(&session.token, rtp)
        .await
        .expect("G.711 only is accepted");
    assert!(registered.internet);
    let wrong = shared::secret::Secret::new("wrong");
    match client.login(DAN.0, &wrong, &settings.app).await {
        Err(ClientError::Api { status, error }) => {
            assert_eq!((status, error.code), (401, ErrorCode::LoginFailed));
        }
        other => panic!("a wrong password: {other:?}"),
    }
    office.stop().await;
}
