//! Issue 16: the echo test reports RTCP like any peer. A phone at home in
//! an echo call (through the SBC's RTP proxy, the real gateway) sees its
//! round trip and what the echo received of its stream.

use e2e_tests::{ANNA, HOME_IP, Handset, account, start_gateway};
use gateway::clock::Clock;
use shared::hfa_engine::system::SystemTimers;
use shared::media::StreamStats;
use softphone::media::call::MediaReport;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_phone_in_an_echo_call_sees_its_round_trip_and_remote_loss() {
    let gateway = start_gateway(Clock::system(), SystemTimers::default()).await;
    let mut anna =
        Handset::register_without_sound(account(gateway.hfa_addr(), ANNA, HOME_IP)).await;
    anna.press("h*98");
    // The phone's first SR, then the echo's next report echoing its time:
    // within two report intervals (RFC 3550: 5 s, randomised).
    let report = anna
        .media_report("a quality report with the echo's figures", |r| {
            matches!(
                r,
                MediaReport::Quality(StreamStats {
                    rtt_ms: Some(_),
                    remote_loss_fraction: Some(_),
                    ..
                })
            )
        })
        .await;
    let MediaReport::Quality(stats) = report else {
        unreachable!("matched above")
    };
    let rtt = stats.rtt_ms.unwrap_or_default();
    assert!(
        (0.0..200.0).contains(&rtt),
        "a loopback round trip through the SBC: {rtt} ms"
    );
    assert_eq!(
        stats.remote_loss_fraction,
        Some(0.0),
        "the echo received all of it"
    );
    assert!(
        stats.remote_jitter_ms.is_some_and(|j| j < 50.0),
        "{stats:?}"
    );
    assert!(stats.received > 0, "and it heard itself back: {stats:?}");
    anna.press("u");
    anna.media_report("media to stop", |r| matches!(r, MediaReport::Stopped(_)))
        .await;
    anna.client.stop().await;
    gateway.stop().await;
}
