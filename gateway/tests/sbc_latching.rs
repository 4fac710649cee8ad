//! Issue 6: a phone at home sending from a NAT-changed port is latched after
//! probation; an attacker on another address injecting plausible RTP before
//! and after the latch gets 0 of N packets through while the real stream
//! continues in full, and the LAN side's media goes to the latched source
//! only. Issue 11: learning takes the device's address only, and among the
//! sources of that address the port it announced.

mod sbc_support;

use std::time::Duration;

use gateway::sbc::{AnnouncedPorts, ChannelId, DeviceSource, LatchStatus};
use sbc_support::{
    device, device_at, queued, recv, rtcp, rtp, seq, socket, start, stats, tag, until,
};

const PHONE: u8 = b'P';
const ATTACKER: u8 = b'A';
const LAN: u8 = b'L';

#[tokio::test]
async fn a_natted_phone_is_latched_and_an_attacker_gets_nothing_through() {
    // Its NAT changes ports, so nothing comes from the announced port: the
    // phone's own port latches once the (here zero) preference has passed.
    let sbc = start(|c| c.announced_preference = Duration::ZERO).await;
    let id = ChannelId(1);
    let public_rtp = sbc.public_rtp(id);
    let public_rtcp = std::net::SocketAddr::new(public_rtp.ip(), public_rtp.port() + 1);
    let (inner_rtp, inner_rtcp) = sbc.inner(id);

    // The LAN phone the call is with, and the phone at home whose NAT maps
    // its media to ports other than the 5004/5005 it announced.
    let lan = socket("127.0.0.1").await;
    let lan_rtcp = socket("127.0.0.1").await;
    let phone = socket("127.0.0.1").await;
    let phone_rtcp = socket("127.0.0.1").await;
    assert_ne!(phone.local_addr().unwrap().port(), 5004);
    let attacker = socket("127.0.0.2").await;

    // It registered from 127.0.0.1 and announced 5004/5005.
    let registered = DeviceSource {
        ip: "127.0.0.1".parse().unwrap(),
        announced: Some(AnnouncedPorts {
            rtp: 5004,
            rtcp: 5005,
        }),
    };
    sbc.anchor(
        id,
        Some((lan.local_addr().unwrap(), lan_rtcp.local_addr().unwrap())),
        registered,
    );
    let mut injected = 0u64;

    // Probation: the attacker sends first and cuts in, with consecutive
    // numbers of its own; it neither gets the channel nor breaks the
    // phone's run.
    for (socket, seq, who) in [
        (&attacker, 5000, ATTACKER),
        (&attacker, 5001, ATTACKER),
        (&phone, 100, PHONE),
        (&attacker, 5002, ATTACKER),
        (&phone, 101, PHONE),
        (&attacker, 5003, ATTACKER),
        (&phone, 102, PHONE),
    ] {
        socket.send_to(&rtp(seq, who), public_rtp).await.unwrap();
        injected += u64::from(who == ATTACKER);
    }
    let (first, from) = recv(&lan).await;
    assert_eq!(from, inner_rtp, "relayed out of the channel's inner side");
    assert_eq!(
        (tag(&first), seq(&first)),
        (PHONE, 102),
        "latched on the phone's third consecutive packet"
    );
    assert_eq!(
        stats(&sbc, id).latch,
        LatchStatus::Latched {
            source: phone.local_addr().unwrap(),
            rtcp: None
        }
    );

    // The call: each 20 ms packet of the phone is shadowed by an injected
    // one with a plausible sequence number.
    const PACKETS: u16 = 200;
    for i in 0..PACKETS {
        let next = 103 + i;
        attacker
            .send_to(&rtp(next + i % 3, ATTACKER), public_rtp)
            .await
            .unwrap();
        phone.send_to(&rtp(next, PHONE), public_rtp).await.unwrap();
        injected += 1;
        let (packet, _) = recv(&lan).await;
        assert_eq!((tag(&packet), seq(&packet)), (PHONE, next));
    }
    assert!(queued(&lan).is_empty(), "0 of {injected} injected packets");

    // The other way: only to the latched source.
    for i in 0..50 {
        lan.send_to(&rtp(i, LAN), inner_rtp).await.unwrap();
        let (packet, from) = recv(&phone).await;
        assert_eq!(from, public_rtp, "from the port the phone sends to");
        assert_eq!((tag(&packet), seq(&packet)), (LAN, i));
    }
    assert!(queued(&attacker).is_empty());

    // RTCP: from the phone's address at whatever port its NAT chose; the
    // attacker's is dropped; the LAN side's goes to the phone's RTCP port.
    attacker
        .send_to(&rtcp(ATTACKER), public_rtcp)
        .await
        .unwrap();
    injected += 1;
    phone_rtcp.send_to(&rtcp(PHONE), public_rtcp).await.unwrap();
    let (report, from) = recv(&lan_rtcp).await;
    assert_eq!((tag(&report), from), (PHONE, inner_rtcp));
    lan_rtcp.send_to(&rtcp(LAN), inner_rtcp).await.unwrap();
    let (report, from) = recv(&phone_rtcp).await;
    assert_eq!((tag(&report), from), (LAN, public_rtcp));
    assert!(queued(&lan_rtcp).is_empty() && queued(&attacker).is_empty());

    let channel = stats(&sbc, id);
    assert_eq!(
        channel.latch,
        LatchStatus::Latched {
            source: phone.local_addr().unwrap(),
            rtcp: Some(phone_rtcp.local_addr().unwrap())
        }
    );
    let call = channel.call;
    assert_eq!(call.from_device.packets, 1 + u64::from(PACKETS));
    assert_eq!(call.from_device.bytes, 172 * (1 + u64::from(PACKETS)));
    assert_eq!(call.to_device.packets, 50);
    assert_eq!(call.rtcp_from_device.packets, 1);
    assert_eq!(call.rtcp_to_device.packets, 1);
    assert_eq!(call.dropped.probation, 2, "the phone's first two");
    assert_eq!(call.dropped.foreign, injected, "every injected packet");
    let all = sbc.stats();
    assert_eq!(all.totals.dropped.foreign, injected);
    assert_eq!((all.in_use, all.peak_in_use), (1, 1));
    sbc.shutdown().await;
}

#[tokio::test]
async fn with_the_device_address_known_an_interleaving_attacker_is_ignored() {
    let sbc = start(|_| {}).await;
    let id = ChannelId(0);
    let public_rtp = sbc.public_rtp(id);
    let lan = socket("127.0.0.1").await;
    let phone = socket("127.0.0.1").await;
    let attacker = socket("127.0.0.2").await;
    let lan_addr = lan.local_addr().unwrap();
    // Signalling says the phone registered from 127.0.0.1.
    sbc.anchor(id, Some((lan_addr, lan_addr)), device("127.0.0.1"));

    // The attacker sends first and between every phone packet, with a
    // clean run of its own: it neither latches nor delays the phone.
    let mut injected = 0u64;
    for i in 0..3 {
        for k in 0..3 {
            attacker
                .send_to(&rtp(7000 + 3 * i + k, ATTACKER), public_rtp)
                .await
                .unwrap();
            injected += 1;
        }
        phone
            .send_to(&rtp(40 + i, PHONE), public_rtp)
            .await
            .unwrap();
    }
    let (first, _) = recv(&lan).await;
    assert_eq!((tag(&first), seq(&first)), (PHONE, 42));
    for i in 43..100 {
        attacker
            .send_to(&rtp(i, ATTACKER), public_rtp)
            .await
            .unwrap();
        injected += 1;
        phone.send_to(&rtp(i, PHONE), public_rtp).await.unwrap();
        let (packet, _) = recv(&lan).await;
        assert_eq!((tag(&packet), seq(&packet)), (PHONE, i));
    }
    assert!(queued(&lan).is_empty());
    until(&sbc, |s| s.channels[0].call.dropped.foreign == injected).await;
    let channel = stats(&sbc, id);
    assert_eq!(
        channel.call.dropped.probation, 2,
        "only the phone's first two"
    );
    assert_eq!(channel.device, Some(device("127.0.0.1")));
    sbc.shutdown().await;
}

#[tokio::test]
async fn a_spray_from_the_phones_address_loses_to_its_announced_port() {
    // Preferred for longer than the test runs: only the announced port can
    // latch here.
    let sbc = start(|c| c.announced_preference = Duration::from_secs(60)).await;
    let id = ChannelId(2);
    let public_rtp = sbc.public_rtp(id);
    let public_rtcp = std::net::SocketAddr::new(public_rtp.ip(), public_rtp.port() + 1);
    let (inner_rtp, inner_rtcp) = sbc.inner(id);
    let lan = socket("127.0.0.1").await;
    let lan_rtcp = socket("127.0.0.1").await;
    // Another device behind the phone's NAT (or a spoofed source): the
    // phone's address, other ports.
    let phone = socket("127.0.0.1").await;
    let phone_rtcp = socket("127.0.0.1").await;
    let neighbour = socket("127.0.0.1").await;
    let phone_addr = phone.local_addr().unwrap();
    let registered = DeviceSource {
        announced: Some(AnnouncedPorts {
            rtp: phone_addr.port(),
            rtcp: phone_rtcp.local_addr().unwrap().port(),
        }),
        ..device_at(phone_addr)
    };
    sbc.anchor(
        id,
        Some((lan.local_addr().unwrap(), lan_rtcp.local_addr().unwrap())),
        registered,
    );

    // The neighbour's clean run comes first (10 packets), goes on between
    // the phone's packets (3), and reports RTCP before the phone does.
    for k in 0..10 {
        neighbour
            .send_to(&rtp(9000 + k, ATTACKER), public_rtp)
            .await
            .unwrap();
    }
    for i in 0..3 {
        phone.send_to(&rtp(i, PHONE), public_rtp).await.unwrap();
        neighbour
            .send_to(&rtp(9010 + i, ATTACKER), public_rtp)
            .await
            .unwrap();
    }
    let (first, _) = recv(&lan).await;
    assert_eq!((tag(&first), seq(&first)), (PHONE, 2));
    assert_eq!(
        stats(&sbc, id).latch,
        LatchStatus::Latched {
            source: phone_addr,
            rtcp: None
        }
    );
    neighbour
        .send_to(&rtcp(ATTACKER), public_rtcp)
        .await
        .unwrap();
    phone_rtcp.send_to(&rtcp(PHONE), public_rtcp).await.unwrap();
    let (report, from) = recv(&lan_rtcp).await;
    assert_eq!((tag(&report), from), (PHONE, inner_rtcp));

    // The LAN side's media and reports go to the phone only.
    lan.send_to(&rtp(0, LAN), inner_rtp).await.unwrap();
    let (packet, _) = recv(&phone).await;
    assert_eq!(tag(&packet), LAN);
    lan_rtcp.send_to(&rtcp(LAN), inner_rtcp).await.unwrap();
    let (report, _) = recv(&phone_rtcp).await;
    assert_eq!(tag(&report), LAN);
    assert!(queued(&neighbour).is_empty(), "nothing to the neighbour");
    assert!(queued(&lan).is_empty() && queued(&lan_rtcp).is_empty());
    // Its last packet and its report came after the latch: foreign.
    until(&sbc, |s| s.channels[2].call.dropped.foreign == 2).await;
    let call = stats(&sbc, id).call;
    assert_eq!(
        call.dropped.probation,
        12 + 2,
        "the neighbour's run waited, never latched; the phone's first two"
    );
    sbc.shutdown().await;
}
