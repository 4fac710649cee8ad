//! Wideband voice, as OpenStage phones have it: G.722 (payload type 9,
//! 16 kHz audio on an 8 kHz RTP clock) between two phones at home through
//! the SBC, scored with wideband PESQ (P.862.2) against the plain G.722
//! round trip of the same speech; clean in real time, and at 5 % loss with
//! 40 ± 30 ms of delay in a deterministic replay. A myPortal to go call
//! stays G.711 (guide 1.3.3), and the echo test answers in G.722.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use e2e_tests::impair::Impairment;
use e2e_tests::portal::{App, PortalOffice};
use e2e_tests::replay::{SEEDS, through_impairment_in};
use e2e_tests::speech::{g722_round_trip, mos_wb, read_wav_at, reference_16k, temp, write_wav};
use e2e_tests::{
    ANNA, BEN, HOME_IP, Handset, LAN_IP, Subscriber, account, office, start_gateway,
    start_gateway_with,
};
use gateway::clock::Clock;
use shared::hfa_engine::phone::PhoneTimers;
use shared::hfa_engine::system::SystemTimers;
use shared::media::{Codec, StreamStats};
use softphone::audio::{AudioBackend, AudioEvent, NullBackend, WavBackend, tone};
use softphone::media::MediaOptions;
use softphone::media::call::MediaReport;
use softphone::portal::Network;
use softphone::portal::agent::{AgentCommand, AgentEvent, AgentTimers};
use softphone::portal::client::CallRequest;

/// A second home, outside the office LAN (127.0.0.0/24) like [`HOME_IP`].
const OTHER_HOME_IP: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 1, 21));

/// A second home worker of the office, with an OpenStage 60.
const EVA: (&str, &str) = ("205", "Eva-wide+band7");

/// The test office with Eva, who may register over the internet.
fn office_with_eva() -> gateway::config::ValidatedConfig {
    office()
        .subscriber(
            Subscriber::hfa(EVA.0, "Eva", "OpenStage 60")
                .licensed()
                .at_home()
                .password(EVA.1),
        )
        .validated()
}

/// The replayed path: 5 % random loss, each packet delayed 10 to 70 ms
/// (40 ± 30 ms, so packets up to three frames apart swap places).
const IMPAIRMENT: Impairment = Impairment {
    loss: 0.05,
    delay: Duration::from_millis(10),
    jitter: Duration::from_millis(60),
    seed: 2026,
};

/// One real-time call at a time: two at once on two cores delay frames,
/// and the score would measure the machine.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// An OpenStage phone's offer: G.722, then G.711.
fn openstage(audio: impl AudioBackend + 'static) -> MediaOptions {
    let mut media = MediaOptions::g711(Box::new(audio));
    media.offer_g722();
    media
}

fn codec(report: MediaReport) -> String {
    match report {
        MediaReport::Started { codec, .. } => codec,
        other => panic!("not a start: {other:?}"),
    }
}

async fn started(handset: &mut Handset) -> String {
    codec(
        handset
            .media_report("media", |r| matches!(r, MediaReport::Started { .. }))
            .await,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_phones_at_home_talk_g722_through_the_sbc_as_well_as_the_codec_alone() {
    let _alone = ONE_AT_A_TIME.lock().await;
    let (reference_file, reference) = reference_16k();
    let ceiling = mos_wb(reference, &g722_round_trip(reference));
    let gateway = start_gateway_with(
        office_with_eva(),
        std::net::SocketAddr::new(LAN_IP, 0),
        Clock::system(),
        SystemTimers::default(),
    )
    .await;
    let recording = temp("g722-heard.wav");
    let anna_audio = WavBackend::playing(reference_file.clone());
    let eva_audio = WavBackend::recording(recording.clone());
    let mut anna = Handset::register_with_media(
        account(gateway.hfa_addr(), ANNA, HOME_IP),
        PhoneTimers::default(),
        openstage(anna_audio),
    )
    .await;
    let mut eva = Handset::register_with_media(
        account(gateway.hfa_addr(), EVA, OTHER_HOME_IP),
        PhoneTimers::default(),
        openstage(eva_audio),
    )
    .await;
    anna.press("h205");
    eva.until("the ringer", |m| m.ringer()).await;
    eva.press("h");
    assert_eq!(started(&mut anna).await, "G722");
    assert_eq!(started(&mut eva).await, "G722");
    assert_eq!(
        gateway.sbc().stats().in_use,
        2,
        "each phone at home has its leg anchored in an SBC channel"
    );
    anna.media_report("the speech played to its end", |r| {
        matches!(r, MediaReport::Audio(AudioEvent::PlaybackFinished))
    })
    .await;
    anna.media_report("a quality report", |r| matches!(r, MediaReport::Quality(_)))
        .await;
    let relayed = gateway.sbc().stats().totals;
    eprintln!("SBC totals: {relayed:?}");
    anna.press("u");
    let MediaReport::Stopped(stats) = eva
        .media_report("media to stop", |r| matches!(r, MediaReport::Stopped(_)))
        .await
    else {
        unreachable!("filtered above")
    };
    eprintln!("Eva's media: {stats:?}");
    eva.press("u");
    anna.client.stop().await;
    eva.client.stop().await;
    assert_eq!(gateway.calls().calls(), 0);
    gateway.stop().await;
    let heard = read_wav_at(&recording, 16_000);
    let _ = std::fs::remove_file(&recording);
    assert_on_time(&stats, 400);
    let score = mos_wb(reference, &heard);
    eprintln!("P.862.2 MOS-LQO: G.722 round trip {ceiling:.3}, through the SBC {score:.3}");
    // The synthetic voice is hissy above 4 kHz, where G.722 codes 2 bits a
    // sample: its own round trip scores about 3.09 (25.8 dB SNR).
    assert!(ceiling > 2.9, "the reference itself is sane: {ceiling:.3}");
    // With every frame on time the call scored 0.025 below the codec alone.
    // Real time on two cores shared with other builds (load average 15)
    // delays frames at either end: 0.19 below with one frame stretched and
    // one dropped at the receiver, 0.33 below with nothing seen at the
    // receiver (the sender's device clock late). The bound allows for the
    // machine; the replay below has exact figures.
    let bound = ceiling - 0.4;
    assert!(
        score >= bound,
        "the call scored {score:.3} (at least {bound:.3}), the codec alone {ceiling:.3}"
    );
}

/// Figures of a clean G.722 stream read on the 8 kHz RTP clock: at least
/// `packets`, arriving evenly. On a 16 kHz clock each 20 ms packet would
/// seem 10 ms late on the one before, a jitter of about 10 ms.
fn assert_on_time(stats: &StreamStats, packets: u64) {
    assert!(stats.received >= packets, "{stats:?}");
    assert_eq!(stats.lost, 0, "{stats:?}");
    assert!(stats.jitter_ms < 5.0, "jitter {} ms", stats.jitter_ms);
}

#[test]
fn g722_under_loss_and_jitter_is_concealed_better_than_zero_fill() {
    let _alone = ONE_AT_A_TIME.blocking_lock();
    let (_, reference) = reference_16k();
    let ceiling = mos_wb(reference, &g722_round_trip(reference));
    let average = |concealment: bool| {
        let scores: Vec<f32> = SEEDS
            .iter()
            .map(|&seed| {
                let impairment = Impairment { seed, ..IMPAIRMENT };
                let heard = through_impairment_in(Codec::G722, reference, impairment, concealment);
                mos_wb(reference, &heard.samples)
            })
            .collect();
        scores.iter().sum::<f32>() / scores.len() as f32
    };
    let (concealed, zero_filled) = (average(true), average(false));
    eprintln!(
        "P.862.2 MOS-LQO, G.722 with 5 % loss and 40 ± 30 ms delay, seeds {SEEDS:?}: \
         concealment {concealed:.3}, zero-fill {zero_filled:.3} (round trip {ceiling:.3})"
    );
    // Measured: 2.145 and 1.612 against a round trip of 3.087 (the
    // synthetic voice's hiss above 4 kHz costs G.722 itself a point).
    assert!(concealed >= 1.9, "with concealment: {concealed:.3}");
    assert!(
        concealed > zero_filled + 0.25,
        "concealment {concealed:.3} vs zero-fill {zero_filled:.3}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_echo_test_answers_in_g722_with_the_upper_band_intact() {
    let _alone = ONE_AT_A_TIME.lock().await;
    let gateway = start_gateway(Clock::system(), SystemTimers::default()).await;
    let (played, echoed) = (temp("g722-echo-in.wav"), temp("g722-echo-out.wav"));
    // 5 kHz: beyond G.711's 3.4 kHz, inside G.722's 7 kHz.
    write_wav(
        &played,
        16_000,
        &tone::sine(16_000, 5000.0, 12000.0, 16_000),
    );
    let audio = WavBackend {
        play: Some(played.clone()),
        record: Some(echoed.clone()),
    };
    let mut anna = Handset::register_with_media(
        account(gateway.hfa_addr(), ANNA, HOME_IP),
        PhoneTimers::default(),
        openstage(audio),
    )
    .await;
    anna.press("h*98");
    assert_eq!(started(&mut anna).await, "G722");
    anna.media_report("the tone played", |r| {
        matches!(r, MediaReport::Audio(AudioEvent::PlaybackFinished))
    })
    .await;
    anna.media_report("a quality report", |r| matches!(r, MediaReport::Quality(_)))
        .await;
    anna.press("u");
    let MediaReport::Stopped(stats) = anna
        .media_report("media to stop", |r| matches!(r, MediaReport::Stopped(_)))
        .await
    else {
        unreachable!("filtered above")
    };
    anna.client.stop().await;
    gateway.stop().await;
    let heard = read_wav_at(&echoed, 16_000);
    for file in [played, echoed] {
        let _ = std::fs::remove_file(file);
    }
    assert_on_time(&stats, 60);
    let frequency = tone::dominant_frequency(tone::loud_span(&heard, 2000), 16_000);
    assert!(
        // Counted from zero crossings 3.2 samples apart, through G.722's
        // 2-bit upper band: within 2 %. G.711 would carry nothing there.
        frequency.is_some_and(|hz| (hz - 5000.0).abs() < 100.0),
        "heard {frequency:?} Hz back"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_app_call_to_a_wideband_phone_stays_g711() {
    let _alone = ONE_AT_A_TIME.lock().await;
    let office = PortalOffice::start(SystemTimers::default()).await;
    let mut settings = office.dan(office.portal, None, Network::RemoteWifi, HOME_IP);
    settings.flags.remote_wifi = true;
    // The app is handed an OpenStage's offer: its personality keeps G.711.
    let mut dan = App::start(settings, openstage(NullBackend), AgentTimers::default()).await;
    dan.events
        .until("Dan's registration", |e| {
            matches!(e, AgentEvent::Registered { .. })
        })
        .await;
    let mut ben = Handset::register_with_media(
        account(office.gateway.hfa_addr(), BEN, LAN_IP),
        PhoneTimers::default(),
        openstage(NullBackend),
    )
    .await;
    dan.agent
        .send(AgentCommand::Call(CallRequest::Dial(BEN.0.to_owned())));
    ben.until("the ringer", |m| m.ringer()).await;
    ben.press("h");
    assert_eq!(started(&mut ben).await, "PCMA");
    let AgentEvent::Media(report) = dan
        .events
        .until("Dan's media", |e| {
            matches!(e, AgentEvent::Media(MediaReport::Started { .. }))
        })
        .await
    else {
        unreachable!("filtered above")
    };
    assert_eq!(codec(report), "PCMA");
    ben.press("u");
    dan.agent.stop().await;
    ben.client.stop().await;
    office.stop().await;
}
