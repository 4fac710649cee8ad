//! Issue 11, attack 1: RTP bleed and media denial before the latch. The
//! RTP proxy's public ports are public knowledge (the model's forwarded
//! range); an attacker sprays in-sequence G.711 RTP (and RTCP) at every
//! channel port from before the call connects until after the latch. The
//! real gateway, an HFA phone at home calling a LAN phone: the channel
//! latches the phone at home, never the attacker; audio flows both ways;
//! nothing reaches the attacker. Once from another address, once from the
//! phone's own address at another port (another device behind its NAT, or
//! a spoofed source).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use e2e_tests::spray::Sprayer;
use e2e_tests::{ANNA, BEN, HOME_IP, Handset, LAN_IP, PATIENCE, account, start_gateway};
use gateway::clock::Clock;
use gateway::gateway::Gateway;
use gateway::sbc::{ChannelId, ChannelStats, LatchStatus};
use shared::hfa_engine::system::SystemTimers;
use softphone::media::call::MediaReport;

/// An address on the internet other than the phone's.
const ATTACKER_IP: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 2, 66));

/// Packets each phone must receive from the other (a second of speech).
const HEARD: u64 = 50;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spray_from_another_address_neither_takes_nor_stalls_the_latch() {
    call_under_spray(ATTACKER_IP).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spray_from_the_phones_own_address_neither_takes_nor_stalls_the_latch() {
    call_under_spray(HOME_IP).await;
}

/// Anna at home calls Ben on the LAN while `attacker` sprays every channel
/// port; asserts the latch, the audio and that nothing bled.
async fn call_under_spray(attacker: IpAddr) {
    let gateway = start_gateway(Clock::system(), SystemTimers::default()).await;
    let mut anna =
        Handset::register_without_sound(account(gateway.hfa_addr(), ANNA, HOME_IP)).await;
    let mut ben = Handset::register_without_sound(account(gateway.hfa_addr(), BEN, LAN_IP)).await;

    // The spray runs before the call: the free channels count it.
    let spray = Sprayer::start(attacker, public_rtp_ports(&gateway)).await;
    assert_ne!(spray.local(), anna.local_rtp());
    poll(&gateway, "the spray to reach the channels", |stats| {
        stats.iter().all(|c| c.lifetime.dropped.not_learning > 3)
    })
    .await;

    anna.press("h202");
    ben.until("the ringer", |m| m.ringer()).await;
    ben.press("h");

    // Latched, and to the phone at home.
    let channel = poll(&gateway, "a latch", |stats| {
        stats
            .iter()
            .any(|c| c.anchored && matches!(c.latch, LatchStatus::Latched { .. }))
    })
    .await;
    let LatchStatus::Latched { source, .. } = channel.latch else {
        unreachable!("polled for")
    };
    assert_eq!(
        source,
        anna.local_rtp(),
        "latched to the phone at home, not to the attacker at {}",
        spray.local()
    );

    // Audio both ways while the spray goes on.
    for (who, phone) in [("Ben", &mut ben), ("Anna", &mut anna)] {
        phone
            .media_report(
                &format!("{who} to hear {HEARD} packets"),
                |r| matches!(r, MediaReport::Quality(stats) if stats.received >= HEARD),
            )
            .await;
    }
    let report = spray.stop().await;

    // RTCP too: from the phone's RTCP socket (its RTP port + 1) if any.
    let phone_rtcp = SocketAddr::new(HOME_IP, anna.local_rtp().port() + 1);
    let channel = gateway.sbc().stats().channels[usize::from(channel.id.0)];
    assert!(
        matches!(channel.latch, LatchStatus::Latched { source, rtcp }
            if source == anna.local_rtp() && rtcp.is_none_or(|rtcp| rtcp == phone_rtcp)),
        "{channel:?}"
    );
    assert!(
        channel.call.dropped.foreign > 0,
        "the spray reached the anchored channel: {channel:?}"
    );
    assert_eq!(
        report.received, 0,
        "nothing of the call reached the attacker"
    );
    let status = gateway::status::relay_report(&gateway.sbc().stats());
    assert!(
        status.contains(&format!("latched to {}", anna.local_rtp())),
        "`gateway status` names the phone: {status}"
    );

    anna.press("u");
    ben.press("u");
    anna.client.stop().await;
    ben.client.stop().await;
    gateway.stop().await;
}

/// Every channel's public RTP address (the RTCP port is one above).
fn public_rtp_ports(gateway: &Gateway) -> Vec<SocketAddr> {
    let sbc = gateway.sbc();
    (0..sbc.channels())
        .map(|index| sbc.public_rtp(ChannelId(index)))
        .collect()
}

/// Polls the channels' figures until `done` holds (bounded by
/// [`PATIENCE`]); returns the first anchored channel (or channel 0).
async fn poll(
    gateway: &Gateway,
    what: &str,
    mut done: impl FnMut(&[ChannelStats]) -> bool,
) -> ChannelStats {
    let found = tokio::time::timeout(PATIENCE, async {
        loop {
            let stats = gateway.sbc().stats();
            if done(&stats.channels) {
                return stats;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;
    match found {
        Ok(stats) => stats
            .channels
            .iter()
            .find(|c| c.anchored)
            .copied()
            .unwrap_or(stats.channels[0]),
        Err(_) => panic!("waited for {what}: {:?}", gateway.sbc().stats()),
    }
}
