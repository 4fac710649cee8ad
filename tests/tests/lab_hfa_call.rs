//! An HFA phone at home calls a phone in the office through the lab's real
//! NAT (guide Figure 1): it registers via the company router's forward
//! 203.0.113.10:4070, the call's media crosses the home router's NAT and
//! the forwarded RTP range, and the SBC latches on the port the home
//! router mapped. Speech both ways, scored with PESQ (ITU-T P.862, as in
//! `voice_quality.rs`): on the clean path against the codec's own ceiling,
//! and across an impaired internet (5 % loss, 40 ± 30 ms each way) with
//! the score recorded (BENCHMARKS.md). Needs root; each call runs in real
//! time (~12 s of speech), one at a time.

use std::net::SocketAddr;
use std::time::Duration;

use e2e_tests::impair::Impairment;
use e2e_tests::netlab::office::Office;
use e2e_tests::netlab::{HOME_PUBLIC, HomeNat};
use e2e_tests::speech::{g711_round_trip, mos, read_wav, reference, temp};
use e2e_tests::{ANNA, Handset};
use gateway::sbc::LatchStatus;
use shared::media::StreamStats;
use softphone::audio::AudioEvent;
use softphone::media::call::MediaReport;
use tokio::sync::Mutex;

/// Real-time calls of this file, one at a time (two cores).
static ONE_AT_A_TIME: Mutex<()> = Mutex::const_new(());

/// The internet of the issue: 40 ± 30 ms one way (10 ms plus 0..60 ms),
/// 5 % loss, each way, seeded.
const IMPAIRED: Impairment = Impairment {
    loss: 0.05,
    delay: Duration::from_millis(10),
    jitter: Duration::from_millis(60),
    seed: 2026,
};

/// A speech floor that tells speech from a broken path (silence, one-way
/// audio or garble score below 1.5), for when the receiving side's jitter
/// buffer had to re-time its playout.
const SPEECH_FLOOR: f32 = 2.0;

/// The least score a direction of the clean path must reach against the
/// codec alone. As in portal_calls.rs: a few hundredths below it when every
/// frame played on time, within 0.15 when the machine's scheduler delayed
/// a frame (real time on two shared cores). When the jitter buffer had to
/// drop or stretch frames to catch up with a starved scheduler, PESQ
/// penalises the re-timing far more than any path could: then only speech
/// is asked for; the path itself is held to losing nothing.
fn clean_bound(stats: &StreamStats, ceiling: f32) -> f32 {
    if stats.stretched + stats.dropped > 0 {
        SPEECH_FLOOR
    } else if stats.late + stats.concealed + stats.underruns > 0 {
        ceiling - 0.15
    } else {
        ceiling - 0.05
    }
}

/// What one side heard, with its receive statistics.
struct Heard {
    samples: Vec<i16>,
    stats: StreamStats,
}

/// Anna at home calls Ben in the office; both play the reference speech
/// and record what they hear. Returns (what Ben heard, what Anna heard).
async fn call_both_ways(office: &Office, tag: &str) -> (Heard, Heard) {
    let (reference_file, _) = reference();
    let (anna_file, ben_file) = (
        temp(&format!("{tag}-anna.wav")),
        temp(&format!("{tag}-ben.wav")),
    );
    let (mut anna, mut ben) = office
        .speech_call(reference_file, &anna_file, &ben_file)
        .await;
    check_latch(office, &mut anna).await;
    for (who, phone) in [("Anna", &mut anna), ("Ben", &mut ben)] {
        phone
            .media_report(&format!("{who}'s speech to end"), |r| {
                matches!(r, MediaReport::Audio(AudioEvent::PlaybackFinished))
            })
            .await;
    }
    // One more quality report (2 s) lets the last packets play out.
    anna.media_report("a quality report", |r| matches!(r, MediaReport::Quality(_)))
        .await;
    anna.press("u");
    let stopped = |report| match report {
        MediaReport::Stopped(stats) => stats,
        _ => unreachable!("filtered below"),
    };
    let is_stop = |r: &MediaReport| matches!(r, MediaReport::Stopped(_));
    let ben_stats = stopped(ben.media_report("Ben's media to stop", is_stop).await);
    let anna_stats = stopped(anna.media_report("Anna's media to stop", is_stop).await);
    ben.press("u");
    anna.client.stop().await;
    ben.client.stop().await;
    assert_eq!(office.gateway.calls().calls(), 0);
    let heard = |file: &std::path::Path, stats: StreamStats| {
        let samples = read_wav(file);
        let _ = std::fs::remove_file(file);
        Heard { samples, stats }
    };
    (heard(&ben_file, ben_stats), heard(&anna_file, anna_stats))
}

/// The SBC channel of Anna's leg latches on the public address and port
/// the home router mapped her RTP socket to.
async fn check_latch(office: &Office, anna: &mut Handset) {
    let local = anna.local_rtp();
    // Latching needs a few packets: wait for the first quality report (2 s).
    anna.media_report("a quality report", |r| matches!(r, MediaReport::Quality(_)))
        .await;
    let mapped = office
        .home_mapping(local.port())
        .expect("the home router tracks Anna's RTP");
    let channel = office
        .gateway
        .sbc()
        .stats()
        .channels
        .into_iter()
        .find(|c| c.anchored)
        .expect("Anna's leg runs through an SBC channel");
    let LatchStatus::Latched { source, .. } = channel.latch else {
        panic!("the channel latched: {channel:?}")
    };
    eprintln!("Anna's RTP {local} leaves home as {HOME_PUBLIC}:{mapped}; the SBC latched {source}");
    assert_eq!(source, SocketAddr::from((HOME_PUBLIC, mapped)));
    // `gateway status` (guide 7, point 5): Anna with her release, from the
    // home router's public address, on the internet, on that channel.
    let status = office.gateway.status();
    let device = status
        .devices
        .iter()
        .find(|device| device.number == ANNA.0)
        .expect("Anna in the status");
    let line = device.to_string();
    eprintln!("gateway status: {line}");
    assert_eq!(
        device.source.ip(),
        std::net::IpAddr::from(HOME_PUBLIC),
        "{line}"
    );
    assert!(device.internet && !device.release.is_empty(), "{line}");
    assert!(
        line.contains(&format!("latched to {HOME_PUBLIC}:{mapped}")),
        "{line}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_phone_at_home_calls_the_office_through_nat_with_clean_speech_both_ways() {
    let (_, reference) = reference();
    let ceiling = mos(reference, &g711_round_trip(reference));
    let _serial = ONE_AT_A_TIME.lock().await;
    let office = Office::start(HomeNat::EndpointIndependent).await;
    let (ben, anna) = call_both_ways(&office, "clean").await;
    office.stop().await;
    for (who, heard) in [("Ben (from home)", &ben), ("Anna (at home)", &anna)] {
        let score = mos(reference, &heard.samples);
        let bound = clean_bound(&heard.stats, ceiling);
        eprintln!(
            "PESQ MOS-LQO through the lab, heard by {who}: {score:.3} (G.711 alone {ceiling:.3}, \
             bound {bound:.3}); {:?}",
            heard.stats
        );
        assert_eq!(heard.stats.lost, 0, "{who}: nothing lost on a clean path");
        assert!(score >= bound, "{who}: {score:.3} < {bound:.3}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn speech_across_an_impaired_internet_is_scored() {
    let (_, reference) = reference();
    let ceiling = mos(reference, &g711_round_trip(reference));
    let _serial = ONE_AT_A_TIME.lock().await;
    let mut office = Office::start(HomeNat::EndpointIndependent).await;
    office.lab.impair(IMPAIRED).expect("impair the internet");
    let (ben, anna) = call_both_ways(&office, "impaired").await;
    let delayers = office.lab.stop_impairment().expect("stop the delayers");
    office.stop().await;
    for ((who, heard), router) in [("Ben (from home)", &ben), ("Anna (at home)", &anna)]
        .into_iter()
        .zip(["home", "company"])
    {
        let score = mos(reference, &heard.samples);
        eprintln!(
            "PESQ MOS-LQO across the impaired internet (5 % loss, 40 ± 30 ms), heard by {who}: \
             {score:.3} (G.711 alone {ceiling:.3}); {router} router dropped {:.1} %; {:?}",
            delayers[usize::from(router == "company")].loss() * 100.0,
            heard.stats
        );
        assert!(
            heard.stats.lost > 0,
            "{who}: the impairment dropped packets"
        );
        // Not a quality target: the score itself is recorded in
        // BENCHMARKS.md; the deterministic quality bounds under the same
        // loss are voice_quality.rs's.
        assert!(score >= SPEECH_FLOOR, "{who}: {score:.3}");
    }
}
