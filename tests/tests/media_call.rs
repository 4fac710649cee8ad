//! Voice end to end: two phones with WAV "devices" in a call through the
//! gateway; what one plays, the other records.

use std::net::SocketAddr;
use std::path::Path;

use e2e_tests::speech::{temp, write_wav};
use e2e_tests::{
    ANNA, BEN, HOME_IP, Handset, LAN_IP, account, office_config_on_any, start_gateway,
    start_gateway_with,
};
use gateway::clock::Clock;
use shared::hfa_engine::phone::PhoneTimers;
use shared::hfa_engine::system::SystemTimers;
use softphone::audio::{AudioEvent, WavBackend, tone};
use softphone::media::MediaOptions;
use softphone::media::call::MediaReport;

fn read_wav(path: &Path) -> (u32, Vec<i16>) {
    let reader = hound::WavReader::open(path).expect("open the recording");
    let rate = reader.spec().sample_rate;
    (
        rate,
        reader
            .into_samples::<i16>()
            .collect::<Result<_, _>>()
            .expect("samples"),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tone_played_at_home_is_heard_in_the_office() {
    let gateway = start_gateway(Clock::system(), SystemTimers::default()).await;
    let (played, recorded) = (temp("tone.wav"), temp("heard.wav"));
    write_wav(&played, 8000, &tone::sine(8000, 1000.0, 16000.0, 8000 * 2));
    let anna_audio = WavBackend::playing(played.clone());
    let ben_audio = WavBackend::recording(recorded.clone());
    let mut anna = Handset::register_with_media(
        account(gateway.hfa_addr(), ANNA, HOME_IP),
        PhoneTimers::default(),
        MediaOptions::g711(Box::new(anna_audio)),
    )
    .await;
    let mut ben = Handset::register_with_media(
        account(gateway.hfa_addr(), BEN, LAN_IP),
        PhoneTimers::default(),
        MediaOptions::g711(Box::new(ben_audio)),
    )
    .await;
    anna.press("h202");
    ben.until("the ringer", |m| m.ringer()).await;
    ben.press("h");
    let started = anna
        .media_report("media", |r| matches!(r, MediaReport::Started { .. }))
        .await;
    assert!(
        matches!(started, MediaReport::Started { ref codec, .. } if codec == "PCMA"),
        "{started:?}"
    );
    anna.media_report("the tone played to its end", |r| {
        matches!(r, MediaReport::Audio(AudioEvent::PlaybackFinished))
    })
    .await;
    anna.press("u");
    let stopped = ben
        .media_report("media to stop", |r| matches!(r, MediaReport::Stopped(_)))
        .await;
    let MediaReport::Stopped(stats) = stopped else {
        unreachable!()
    };
    assert!(stats.received > 90, "about 100 packets in 2 s: {stats:?}");
    assert_eq!(stats.lost, 0, "{stats:?}");

    ben.press("u");
    ben.client.stop().await;
    anna.client.stop().await;
    gateway.stop().await;
    let (rate, heard) = read_wav(&recorded);
    let loud = tone::loud_span(&heard, 2000);
    assert!(
        loud.len() > 8000,
        "a second or more of the tone was heard ({} samples)",
        loud.len()
    );
    let frequency = tone::dominant_frequency(loud, rate).expect("a tone");
    assert!((frequency - 1000.0).abs() < 5.0, "heard {frequency} Hz");
    let _ = std::fs::remove_file(played);
    let _ = std::fs::remove_file(recorded);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_echo_test_returns_what_was_said_and_the_announcement_plays() {
    let gateway = start_gateway(Clock::system(), SystemTimers::default()).await;
    let frequency = echo_from_home(&gateway, "echo").await;
    assert!((frequency - 700.0).abs() < 5.0, "heard {frequency} Hz back");

    let announced = temp("announcement.wav");
    let audio = WavBackend::recording(announced.clone());
    let mut ben = Handset::register_with_media(
        account(gateway.hfa_addr(), BEN, LAN_IP),
        PhoneTimers::default(),
        MediaOptions::g711(Box::new(audio)),
    )
    .await;
    ben.press("h*99");
    ben.media_report("two quality reports (4 s)", {
        let mut reports = 0;
        move |r| {
            reports += usize::from(matches!(r, MediaReport::Quality(_)));
            reports == 2
        }
    })
    .await;
    ben.press("u");
    ben.media_report("media to stop", |r| matches!(r, MediaReport::Stopped(_)))
        .await;
    ben.client.stop().await;
    assert_eq!(gateway.calls().calls(), 0);
    let (_, heard) = read_wav(&announced);
    let loud = heard.iter().filter(|s| s.unsigned_abs() > 1000).count();
    assert!(
        loud > 4000,
        "speech was heard: {loud} loud samples of {}",
        heard.len()
    );
    gateway.stop().await;
    let _ = std::fs::remove_file(announced);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opus_when_both_phones_offer_it_and_g711_otherwise_with_dtmf_in_band() {
    use shared::media::Codec;
    let gateway = start_gateway(Clock::system(), SystemTimers::default()).await;
    let opus_phone = || MediaOptions {
        codecs: vec![softphone::media::OPUS, Codec::Pcma],
        ..MediaOptions::g711(Box::new(softphone::audio::NullBackend))
    };
    let mut anna = Handset::register_with_media(
        account(gateway.hfa_addr(), ANNA, HOME_IP),
        PhoneTimers::default(),
        opus_phone(),
    )
    .await;
    let mut ben = Handset::register_with_media(
        account(gateway.hfa_addr(), BEN, LAN_IP),
        PhoneTimers::default(),
        opus_phone(),
    )
    .await;
    anna.press("h202");
    ben.until("the ringer", |m| m.ringer()).await;
    ben.press("h");
    let codec = |report: MediaReport| match report {
        MediaReport::Started { codec, .. } => codec,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        codec(
            anna.media_report("media", |r| matches!(r, MediaReport::Started { .. }))
                .await
        ),
        "opus"
    );
    assert_eq!(
        codec(
            ben.media_report("media", |r| matches!(r, MediaReport::Started { .. }))
                .await
        ),
        "opus"
    );
    // DTMF in the media, RFC 4733: each digit arrives once.
    for digit in ['1', '5', '#'] {
        anna.client.send_dtmf(digit);
        let heard = ben
            .media_report("a DTMF digit", |r| matches!(r, MediaReport::Dtmf(_)))
            .await;
        assert_eq!(heard, MediaReport::Dtmf(digit));
    }
    anna.press("u");
    ben.press("u");
    ben.client.stop().await;

    // 202 registers again from a phone that offers G.711 only.
    let mut g711 = Handset::register_with_media(
        account(gateway.hfa_addr(), BEN, LAN_IP),
        PhoneTimers::default(),
        MediaOptions::g711(Box::new(softphone::audio::NullBackend)),
    )
    .await;
    anna.press("h202");
    g711.until("the ringer", |m| m.ringer()).await;
    g711.press("h");
    assert_eq!(
        codec(
            anna.media_report("media", |r| matches!(r, MediaReport::Started { .. }))
                .await
        ),
        "PCMA"
    );
    anna.press("u");
    anna.client.stop().await;
    g711.client.stop().await;
    gateway.stop().await;
}

/// What Anna, at home, hears back from the echo test after playing a 700 Hz
/// tone into it, through `gateway`'s RTP proxy.
async fn echo_from_home(gateway: &gateway::gateway::Gateway, tag: &str) -> f64 {
    let (played, echoed) = (
        temp(&format!("{tag}-in.wav")),
        temp(&format!("{tag}-out.wav")),
    );
    write_wav(&played, 8000, &tone::sine(8000, 700.0, 12000.0, 8000));
    let audio = WavBackend {
        play: Some(played.clone()),
        record: Some(echoed.clone()),
    };
    let mut anna = Handset::register_with_media(
        account(gateway.hfa_addr(), ANNA, HOME_IP),
        PhoneTimers::default(),
        MediaOptions::g711(Box::new(audio)),
    )
    .await;
    anna.press("h*98");
    anna.media_report("the tone played", |r| {
        matches!(r, MediaReport::Audio(AudioEvent::PlaybackFinished))
    })
    .await;
    anna.media_report("a quality report", |r| matches!(r, MediaReport::Quality(_)))
        .await;
    anna.press("u");
    anna.media_report("media to stop", |r| matches!(r, MediaReport::Stopped(_)))
        .await;
    anna.client.stop().await;
    let (rate, heard) = read_wav(&echoed);
    for file in [played, echoed] {
        let _ = std::fs::remove_file(file);
    }
    tone::dominant_frequency(tone::loud_span(&heard, 2000), rate).expect("the echo")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_system_listening_on_any_relays_media_arriving_at_its_public_address() {
    // A real system listens on 0.0.0.0; what the company router forwards
    // arrives at whatever address it has on that side: here 127.0.3.1, a
    // loopback address outside the company LAN that no socket names.
    let gateway = start_gateway_with(
        office_config_on_any("127.0.3.1"),
        SocketAddr::new(LAN_IP, 0),
        Clock::system(),
        SystemTimers::default(),
    )
    .await;
    let frequency = echo_from_home(&gateway, "any").await;
    assert!((frequency - 700.0).abs() < 5.0, "heard {frequency} Hz back");
    assert_eq!(gateway.calls().calls(), 0);
    gateway.stop().await;
}
