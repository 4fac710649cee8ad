//! Voice quality with numbers: synthetic speech played by one softphone,
//! recorded by the other through a call set up by the gateway, scored with
//! PESQ (ITU-T P.862, narrowband MOS-LQO) against the original.
//!
//! - A clean path must score within 0.05 of the same file's plain G.711
//!   round trip, the codec's own ceiling: the transport adds no damage.
//! - Through seeded impairments (2, 5 and 10 % loss, 40 ± 20 ms one way,
//!   hence some reordering), replayed deterministically and averaged over
//!   six loss patterns, concealment must hold its scores and beat the same
//!   losses played as silence (zero-fill).
//! - A real-time call through an impaired relay (5 % loss, 30 ms jitter)
//!   must keep the speech.
//!
//! Each call runs in real time (the speech lasts about 11 s).

use std::time::Duration;

use e2e_tests::impair::{ImpairedPath, Impairment};
use e2e_tests::replay::{LOSS_LADDER, SEEDS, ladder, through_impairment};
use e2e_tests::speech::{g711_round_trip, mos, read_wav, reference, temp};
use e2e_tests::{ANNA, BEN, HOME_IP, Handset, LAN_IP, account, start_gateway};
use gateway::clock::Clock;
use shared::hfa_engine::phone::PhoneTimers;
use shared::hfa_engine::system::SystemTimers;
use softphone::audio::{AudioEvent, WavBackend};
use softphone::media::MediaOptions;
use softphone::media::call::MediaReport;

/// The impaired path of the issue: 5 % random loss, 30 ms jitter.
const IMPAIRMENT: Impairment = Impairment {
    loss: 0.05,
    delay: Duration::from_millis(10),
    jitter: Duration::from_millis(30),
    seed: 2026,
};

/// What Ben records while Anna plays the reference to him; Anna's media to
/// Ben crosses `impairment` when given.
async fn call_and_record(
    name: &str,
    impairment: Option<Impairment>,
    concealment: bool,
) -> Vec<i16> {
    let (reference_file, _) = reference();
    let recording = temp(name);
    let gateway = start_gateway(Clock::system(), SystemTimers::default()).await;
    let path = match impairment {
        Some(impairment) => Some(ImpairedPath::start(impairment).await),
        None => None,
    };
    let anna_audio = WavBackend::playing(reference_file.clone());
    let ben_audio = WavBackend::recording(recording.clone());
    let mut ben_media = MediaOptions::g711(Box::new(ben_audio));
    ben_media.advertise = path.as_ref().map(ImpairedPath::addr);
    ben_media.concealment = concealment;
    let mut anna = Handset::register_with_media(
        account(gateway.hfa_addr(), ANNA, HOME_IP),
        PhoneTimers::default(),
        MediaOptions::g711(Box::new(anna_audio)),
    )
    .await;
    let mut ben = Handset::register_with_media(
        account(gateway.hfa_addr(), BEN, LAN_IP),
        PhoneTimers::default(),
        ben_media,
    )
    .await;
    if let Some(path) = &path {
        path.forward_to(ben.local_rtp());
    }
    anna.press("h202");
    ben.until("the ringer", |m| m.ringer()).await;
    ben.press("h");
    anna.media_report("the speech played to its end", |r| {
        matches!(r, MediaReport::Audio(AudioEvent::PlaybackFinished))
    })
    .await;
    // One more quality report (2 s) lets the last packets play out.
    anna.media_report("a quality report", |r| matches!(r, MediaReport::Quality(_)))
        .await;
    anna.press("u");
    let stopped = ben
        .media_report("media to stop", |r| matches!(r, MediaReport::Stopped(_)))
        .await;
    eprintln!("{name}: {stopped:?}");
    ben.press("u");
    anna.client.stop().await;
    ben.client.stop().await;
    assert_eq!(gateway.calls().calls(), 0);
    gateway.stop().await;
    let heard = read_wav(&recording);
    let _ = std::fs::remove_file(&recording);
    heard
}

/// One test of this file at a time: two real-time calls, or a real-time
/// call beside the deterministic replay's PESQ runs, share two cores badly
/// enough to delay frames (a stretched or dropped frame costs a clean path
/// a quarter of a MOS point) and the score would measure the machine.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clean_path_adds_no_damage_to_g711() {
    let _alone = ONE_AT_A_TIME.lock().await;
    let (_, reference) = reference();
    let ceiling = mos(reference, &g711_round_trip(reference));
    let heard = call_and_record("clean.wav", None, true).await;
    let score = mos(reference, &heard);
    eprintln!("PESQ MOS-LQO: G.711 round trip {ceiling:.3}, through the call {score:.3}");
    assert!(ceiling > 3.6, "the reference itself is sane: {ceiling}");
    assert!(
        score >= ceiling - 0.05,
        "the call scored {score:.3}, the codec alone {ceiling:.3}"
    );
}

/// Concealment against zero-fill through the deterministic replay (the
/// same sessions on a virtual clock, the same losses for both) at 2, 5 and
/// 10 % loss with 40 ± 20 ms one way, each rung averaged over six loss
/// patterns: one seed can be a favourable one. The bounds are issue 16's
/// aims; the concealer before it scored 3.52 / 3.10 / 2.51, today's 3.646 /
/// 3.338 / 2.806 (`cargo bench --bench concealment`).
#[test]
fn concealment_keeps_speech_good_under_loss_and_beats_zero_fill() {
    let _alone = ONE_AT_A_TIME.blocking_lock();
    let (_, reference) = reference();
    let concealed = ladder(reference, |path| {
        through_impairment(reference, path, true).samples
    });
    let zero_filled = ladder(reference, |path| {
        through_impairment(reference, path, false).samples
    });
    let bounds = [3.6, 3.3, 2.8];
    for (k, loss) in LOSS_LADDER.iter().enumerate() {
        let (concealed, zero_filled, bound) = (concealed[k], zero_filled[k], bounds[k]);
        eprintln!(
            "PESQ MOS-LQO with {:.0} % loss, 40 ± 20 ms, seeds {SEEDS:?}: concealment {concealed:.3}, zero-fill {zero_filled:.3}",
            loss * 100.0
        );
        assert!(
            concealed >= bound,
            "{loss}: with concealment {concealed:.3} < {bound}"
        );
        assert!(
            concealed > zero_filled + 0.3,
            "{loss}: concealment {concealed:.3} vs zero-fill {zero_filled:.3}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_impaired_path_through_the_gateway_is_concealed_not_broken() {
    let _alone = ONE_AT_A_TIME.lock().await;
    let (_, reference) = reference();
    let heard = call_and_record("impaired.wav", Some(IMPAIRMENT), true).await;
    // Real time on a shared machine: the score varies with the load, so the
    // bar here is "speech survives"; the exact figures are the
    // deterministic replay's above.
    let score = mos(reference, &heard);
    eprintln!("PESQ MOS-LQO through the gateway with 5 % loss, 30 ms jitter: {score:.3}");
    assert!(score >= 2.5, "speech survived: {score:.3}");
}
