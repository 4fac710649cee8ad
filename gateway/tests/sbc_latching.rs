//! Issue 6: a phone at home sending from a NAT-changed port is latched after
//! probation; an attacker on another address injecting plausible RTP before
//! and after the latch gets 0 of N packets through while the real stream
//! continues in full, and the LAN side's media goes to the latched source
//! only.

mod sbc_support;

use gateway::sbc::{ChannelId, LatchStatus};
use sbc_support::{queued, recv, rtcp, rtp, seq, socket, start, stats, tag, until};

const PHONE: u8 = b'P';
const ATTACKER: u8 = b'A';
const LAN: u8 = b'L';

#[tokio::test]
async fn a_natted_phone_is_latched_and_an_attacker_gets_nothing_through() {
    let sbc = start(|_| {}).await;
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

    sbc.anchor(
        id,
        Some((lan.local_addr().unwrap(), lan_rtcp.local_addr().unwrap())),
    );
    let mut injected = 0u64;

    // Probation: the attacker sends first and cuts in, with consecutive
    // numbers of its own; neither gives it the channel.
    for (socket, seq, who) in [
        (&attacker, 5000, ATTACKER),
        (&attacker, 5001, ATTACKER),
        (&phone, 100, PHONE),
        (&attacker, 5002, ATTACKER),
        (&phone, 101, PHONE),
        (&phone, 102, PHONE),
        (&phone, 103, PHONE),
    ] {
        socket.send_to(&rtp(seq, who), public_rtp).await.unwrap();
        injected += u64::from(who == ATTACKER);
    }
    let (first, from) = recv(&lan).await;
    assert_eq!(from, inner_rtp, "relayed out of the channel's inner side");
    assert_eq!(
        (tag(&first), seq(&first)),
        (PHONE, 103),
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
        let next = 104 + i;
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
    assert_eq!(
        call.dropped.probation, 6,
        "3 of the attacker's, 3 of the phone's"
    );
    assert_eq!(
        call.dropped.foreign,
        injected - 3,
        "every injected packet after the latch"
    );
    let all = sbc.stats();
    assert_eq!(all.totals.dropped.foreign, injected - 3);
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
    sbc.anchor_from(
        id,
        Some((lan_addr, lan_addr)),
        Some("127.0.0.1".parse().unwrap()),
    );

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
    assert_eq!(channel.expected, Some("127.0.0.1".parse().unwrap()));
    sbc.shutdown().await;
}
