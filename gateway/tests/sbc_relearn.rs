//! Issue 6: after a signalling change (the phone re-registered from a new
//! address) the channel learns again: the new source latches within the new
//! window, the old one is dropped as foreign, and the LAN side's media
//! follows the phone to its new address.

mod sbc_support;

use gateway::sbc::{ChannelId, LatchStatus};
use sbc_support::{
    LanCall, anchor_lan_call, device, queued, recv, rtp, seq, socket, start, stats, tag, until,
};

const OLD: u8 = b'O';
const NEW: u8 = b'N';
const LAN: u8 = b'L';

#[tokio::test]
async fn a_re_registered_phone_is_latched_again_and_its_old_source_dropped() {
    let sbc = start(|_| {}).await;
    let id = ChannelId(2);
    let LanCall {
        public_rtp,
        inner_rtp,
        lan,
    } = anchor_lan_call(&sbc, id, device("127.0.0.1")).await;
    let old = socket("127.0.0.1").await;

    for i in 0..3 {
        old.send_to(&rtp(i, OLD), public_rtp).await.unwrap();
    }
    let (packet, _) = recv(&lan).await;
    assert_eq!((tag(&packet), seq(&packet)), (OLD, 2));

    // The phone moved (another NAT mapping, here another address of the
    // loopback net) and registered again: call control relearns.
    let new = socket("127.0.0.3").await;
    sbc.relearn(id, device("127.0.0.3"));
    until(&sbc, |s| s.channels[2].latch == LatchStatus::Learning).await;
    for i in 0..3 {
        new.send_to(&rtp(1000 + i, NEW), public_rtp).await.unwrap();
    }
    let (packet, _) = recv(&lan).await;
    assert_eq!((tag(&packet), seq(&packet)), (NEW, 1002));
    assert_eq!(
        stats(&sbc, id).latch,
        LatchStatus::Latched {
            source: new.local_addr().unwrap(),
            rtcp: None
        }
    );

    // The old source still sends (a stale mapping, or someone replaying
    // it): dropped while the new one goes through.
    for i in 0..20 {
        old.send_to(&rtp(3 + i, OLD), public_rtp).await.unwrap();
        new.send_to(&rtp(1003 + i, NEW), public_rtp).await.unwrap();
        let (packet, _) = recv(&lan).await;
        assert_eq!((tag(&packet), seq(&packet)), (NEW, 1003 + i));
    }
    assert!(queued(&lan).is_empty());

    // The LAN side's media follows the phone.
    for i in 0..10 {
        lan.send_to(&rtp(i, LAN), inner_rtp).await.unwrap();
        let (packet, from) = recv(&new).await;
        assert_eq!((tag(&packet), from), (LAN, public_rtp));
    }
    assert!(queued(&old).is_empty(), "nothing to the old address");
    let call = stats(&sbc, id).call;
    assert_eq!(call.dropped.foreign, 20);
    assert_eq!(call.dropped.probation, 4);
    assert_eq!(call.from_device.packets, 2 + 20);
    sbc.shutdown().await;
}

#[tokio::test]
async fn while_relearning_the_lan_side_waits_and_the_old_source_must_requalify() {
    let sbc = start(|_| {}).await;
    let id = ChannelId(3);
    let LanCall {
        public_rtp,
        inner_rtp,
        lan,
    } = anchor_lan_call(&sbc, id, device("127.0.0.1")).await;
    let phone = socket("127.0.0.1").await;
    for i in 0..3 {
        phone.send_to(&rtp(i, b'P'), public_rtp).await.unwrap();
    }
    recv(&lan).await;

    // A re-registration from the same address: the source is forgotten,
    // so the LAN side's packets have nowhere to go until it is latched
    // again after a fresh probation.
    sbc.relearn(id, device("127.0.0.1"));
    lan.send_to(&rtp(0, LAN), inner_rtp).await.unwrap();
    for i in 3..6 {
        phone.send_to(&rtp(i, b'P'), public_rtp).await.unwrap();
    }
    let (packet, _) = recv(&lan).await;
    assert_eq!(seq(&packet), 5, "the third packet of the new probation");
    lan.send_to(&rtp(1, LAN), inner_rtp).await.unwrap();
    let (packet, _) = recv(&phone).await;
    assert_eq!(
        seq(&packet),
        1,
        "the packet sent while relearning was dropped"
    );
    let call = stats(&sbc, id).call;
    assert_eq!(call.dropped.no_destination, 1);
    assert_eq!(call.to_device.packets, 1);
    sbc.shutdown().await;
}
