//! Issue 6: a channel's life around its call: the idle-media timeout is
//! reported once per anchoring, a release stops forwarding at once,
//! shutdown stops the workers and frees the ports, and a port that is taken
//! is named when the pool cannot start.

mod sbc_support;

use std::time::Duration;

use gateway::sbc::{ChannelId, LatchStatus, Sbc, SbcError};
use sbc_support::{
    LanCall, PATIENCE, anchor_lan_call, config, device, queued, recv, rtp, socket, start,
    start_with, until,
};

#[tokio::test]
async fn idle_media_is_reported_once_per_anchoring() {
    // One worker, so that the reports of both channels come in order.
    let sbc = start_with(|c| c.idle_timeout = Duration::from_millis(200), Some(1)).await;
    let mut idle = sbc.idle();
    let lan = socket("127.0.0.1").await;
    let phone = socket("127.0.0.1").await;
    let lan_addr = lan.local_addr().unwrap();
    let (a, b) = (ChannelId(0), ChannelId(1));

    // A call with media for a while, which then stops.
    sbc.anchor(a, Some((lan_addr, lan_addr)), device("127.0.0.1"));
    for i in 0..3 {
        phone
            .send_to(&rtp(i, b'P'), sbc.public_rtp(a))
            .await
            .unwrap();
    }
    recv(&lan).await;
    let reported = tokio::time::timeout(PATIENCE, idle.recv()).await.unwrap();
    assert_eq!(reported, Some(a));

    // A second channel anchored after: its report comes next, and channel
    // a (checked in the same sweeps) is not reported again.
    sbc.anchor(b, None, device("127.0.0.1"));
    let reported = tokio::time::timeout(PATIENCE, idle.recv()).await.unwrap();
    assert_eq!(reported, Some(b), "a was reported once");

    // Anchoring a again (a new call) arms it again.
    sbc.anchor(a, None, device("127.0.0.1"));
    let reported = tokio::time::timeout(PATIENCE, idle.recv()).await.unwrap();
    assert_eq!(reported, Some(a));
    sbc.shutdown().await;
}

#[tokio::test]
async fn release_stops_forwarding_and_clears_the_call() {
    let sbc = start(|_| {}).await;
    let id = ChannelId(0);
    let LanCall {
        public_rtp,
        inner_rtp,
        lan,
    } = anchor_lan_call(&sbc, id, device("127.0.0.1")).await;
    let phone = socket("127.0.0.1").await;
    for i in 0..5 {
        phone.send_to(&rtp(i, b'P'), public_rtp).await.unwrap();
    }
    recv(&lan).await;
    recv(&lan).await;
    recv(&lan).await;
    let before = sbc.stats();
    assert_eq!((before.in_use, before.peak_in_use), (1, 1));

    sbc.release(id);
    // Both sides keep sending after the hang-up: nothing is relayed.
    phone.send_to(&rtp(5, b'P'), public_rtp).await.unwrap();
    lan.send_to(&rtp(0, b'L'), inner_rtp).await.unwrap();
    until(&sbc, |s| {
        let c = &s.channels[0].lifetime.dropped;
        c.not_learning == 1 && c.inner_foreign == 1
    })
    .await;
    assert!(queued(&lan).is_empty() && queued(&phone).is_empty());
    let now = sbc.stats();
    let channel = &now.channels[0];
    assert!(!channel.anchored);
    assert_eq!(channel.latch, LatchStatus::Idle);
    assert_eq!(channel.inner_peer, None);
    assert_eq!(
        channel.call.from_device.packets, 0,
        "the call's counters cleared"
    );
    assert_eq!(
        channel.lifetime.from_device.packets, 3,
        "the totals keep them"
    );
    assert_eq!(now.totals.from_device.packets, 3);
    assert_eq!((now.in_use, now.peak_in_use), (0, 1));
    sbc.shutdown().await;
}

#[tokio::test]
async fn shutdown_stops_the_workers_and_frees_the_ports() {
    let sbc = start(|_| {}).await;
    let lan = socket("127.0.0.1").await;
    let lan_addr = lan.local_addr().unwrap();
    for id in 0..4 {
        sbc.anchor(
            ChannelId(id),
            Some((lan_addr, lan_addr)),
            device("127.0.0.1"),
        );
    }
    assert_eq!(sbc.stats().in_use, 4);
    assert!(!sbc.is_stopped());
    sbc.shutdown().await;
    assert!(sbc.is_stopped());
    let after = sbc.stats();
    assert_eq!((after.in_use, after.peak_in_use), (0, 4));
    assert!(after.channels.iter().all(|c| !c.anchored));
    // Every public port can be bound again: the sockets are closed.
    for id in 0..4 {
        let rtp = sbc.public_rtp(ChannelId(id));
        std::net::UdpSocket::bind(rtp).unwrap();
        std::net::UdpSocket::bind((rtp.ip(), rtp.port() + 1)).unwrap();
    }
    // Commands after the shutdown are ignored.
    sbc.anchor(ChannelId(0), None, device("127.0.0.1"));
    sbc.release(ChannelId(0));
}

#[tokio::test]
async fn a_taken_port_is_named() {
    let sbc = start(|_| {}).await;
    // A second pool on the same range finds its first port taken.
    let mut clash = config(sbc.public_rtp(ChannelId(0)).port());
    clash.channels = 4;
    match Sbc::start(clash).await {
        Err(SbcError::PortTaken { addr }) => {
            assert_eq!(addr, sbc.public_rtp(ChannelId(0)));
            assert!(
                SbcError::PortTaken { addr }
                    .to_string()
                    .contains(&addr.port().to_string())
            );
        }
        other => panic!("expected PortTaken, got {other:?}"),
    }
    let mut small = config(20000);
    small.channels = 5;
    assert!(matches!(
        Sbc::start(small).await,
        Err(SbcError::RangeTooSmall { .. })
    ));
    sbc.shutdown().await;
}

#[tokio::test]
async fn channels_outside_the_pool_are_ignored() {
    let sbc = start(|_| {}).await;
    let outside = ChannelId(4);
    sbc.anchor(outside, None, device("127.0.0.1"));
    sbc.relearn(outside, device("127.0.0.1"));
    sbc.set_inner_peer(outside, None);
    sbc.release(outside);
    assert_eq!(sbc.public_rtp(outside).port(), 0);
    assert_eq!(sbc.inner(outside).0.port(), 0);
    assert_eq!(sbc.stats().in_use, 0);
    assert_eq!(sbc.stats().channels.len(), 4);
    sbc.shutdown().await;
}
