//! Rejecting a ringing call, and a device that changes network mid-call
//! (`CallControl::rehome`): the call stays up and is re-anchored.

use super::*;
use crate::calls::channels::{ChannelId, Refusal};
use crate::calls::control::SbcCommand;
use crate::calls::control::rehome::anchors_of;
use shared::hfa::PayloadType;

const G711: [PayloadType; 2] = [PayloadType::PCMA, PayloadType::PCMU];

/// Every phone in the office, announcing media, with `channels` channels.
fn office_with_media(channels: usize) -> Office {
    let config = office_config();
    let mut o = office();
    o.cc = CallControl::new(
        &config,
        CallTimers::from_config(&config),
        plan(channels, 10),
        MediaPolicy::default(),
    );
    for (number, port) in [("201", 5000), ("202", 6000), ("203", 6100), ("204", 6200)] {
        o.cc.attach(number, origin(false));
        o.cc.offer_media(number, offer([192, 168, 1, 20], port, &G711));
    }
    o.drain();
    o.shown.clear();
    o
}

fn connect(o: &mut Office, caller: &str, callee: &str) {
    o.input(caller, DeviceInput::OffHook);
    o.dial(caller, callee);
    o.input(callee, DeviceInput::OffHook);
    o.sbc.clear();
    o.shown.clear();
}

fn rehome(o: &mut Office, number: &str, internet: bool) {
    o.cc.rehome(o.now, number, origin(internet));
    o.drain();
}

fn addr(text: &str) -> std::net::SocketAddr {
    text.parse().expect("an address")
}

fn started(shown: &[Indication]) -> Option<String> {
    shown.iter().find_map(|i| match i {
        Indication::Media(MediaIndication::Start {
            remote: Some(remote),
            ..
        }) => Some(remote.rtp.to_string()),
        _ => None,
    })
}

#[test]
fn a_rejected_call_tells_the_caller_and_frees_both_lines() {
    let mut o = office();
    o.input("201", DeviceInput::OffHook);
    o.dial("201", "202");
    assert_eq!(o.top("202"), "Call from 201 Anna");
    o.shown.clear();
    o.input("202", DeviceInput::Reject);
    assert_eq!(o.top("201"), "202 rejected");
    assert_eq!(o.tone("201"), Tone::Busy);
    let callee = o.take("202");
    assert!(callee.contains(&Indication::Ringer(false)), "{callee:?}");
    assert_eq!(o.top("202"), "202 Ben", "the callee is idle again");
    assert_eq!(o.cc.calls(), 0);
    assert!(
        o.events
            .iter()
            .any(|e| matches!(e, CallEvent::Released { by, .. } if by == "202"))
    );
    o.cc.check_consistency().expect("consistent");
}

#[test]
fn reject_does_nothing_to_a_call_that_is_not_ringing_here() {
    let mut o = office();
    o.input("201", DeviceInput::OffHook);
    o.dial("201", "202");
    o.input("201", DeviceInput::Reject);
    assert_eq!(o.top("201"), "Calling 202 Ben", "the caller cannot reject");
    o.input("202", DeviceInput::OffHook);
    o.input("202", DeviceInput::Reject);
    assert_eq!(
        o.top("202"),
        "201 Anna",
        "a connected call cannot be rejected"
    );
    assert_eq!(o.cc.calls(), 1);
}

#[test]
fn moving_to_the_internet_mid_call_anchors_the_call_and_tells_both_sides() {
    let mut o = office_with_media(4);
    connect(&mut o, "201", "202");
    assert_eq!(
        media_of(&o, "202").map(|m| m.rtp.to_string()),
        Some("192.168.1.20:5000".into())
    );
    rehome(&mut o, "201", true);
    assert_eq!(o.cc.calls(), 1, "the call stays up");
    assert_eq!(anchors_of(&o.cc, "201"), [ChannelId(0)]);
    assert_eq!(
        o.sbc,
        [SbcCommand::Anchor {
            channel: ChannelId(0),
            inner_peer: Some((addr("192.168.1.20:6000"), addr("192.168.1.20:6001"))),
            device: home_device(5000),
        }]
    );
    assert_eq!(
        started(&o.take("201")),
        Some("203.0.113.10:30274".into()),
        "the moved device now sends to the channel's public side"
    );
    assert_eq!(
        started(&o.take("202")),
        Some("10.10.0.2:40000".into()),
        "the office phone now sends to the channel's inner side"
    );
    o.cc.check_consistency().expect("consistent");

    // And back to the LAN: the channel is given back, direct media again.
    o.sbc.clear();
    rehome(&mut o, "201", false);
    assert_eq!(
        o.sbc,
        [SbcCommand::Release {
            channel: ChannelId(0)
        }]
    );
    assert_eq!(o.cc.channels().in_use(), 0);
    assert_eq!(started(&o.take("202")), Some("192.168.1.20:5000".into()));
    assert_eq!(o.cc.calls(), 1);
    o.cc.check_consistency().expect("consistent");
}

#[test]
fn moving_when_the_other_party_is_anchored_repoints_its_channel() {
    let mut o = office_with_media(4);
    rehome(&mut o, "202", true);
    connect(&mut o, "201", "202");
    assert_eq!(anchors_of(&o.cc, "202"), [ChannelId(0)]);
    rehome(&mut o, "201", true);
    assert_eq!(
        o.sbc,
        [
            SbcCommand::SetInnerPeer {
                channel: ChannelId(0),
                inner_peer: Some((addr("10.10.0.2:40002"), addr("10.10.0.2:40003"))),
            },
            SbcCommand::Anchor {
                channel: ChannelId(1),
                inner_peer: Some((addr("10.10.0.2:40000"), addr("10.10.0.2:40001"))),
                device: home_device(5000),
            },
        ]
    );
    assert_eq!(
        o.cc.internet_calls(),
        2,
        "both parties at home now: two internet calls (guide 2.3)"
    );
    o.cc.check_consistency().expect("consistent");
}

#[test]
fn moving_without_a_free_channel_ends_the_call_in_words() {
    let mut o = office_with_media(1);
    rehome(&mut o, "203", true);
    connect(&mut o, "203", "204");
    assert_eq!(o.cc.channels().in_use(), 1);
    connect(&mut o, "201", "202");
    rehome(&mut o, "201", true);
    assert!(o.events.iter().any(|e| matches!(
        e,
        CallEvent::ProxyRefused {
            refusal: Refusal::NoChannel,
            subscriber,
        } if subscriber == "201"
    )));
    assert_eq!(o.top("201"), "No line free");
    assert_eq!(o.top("202"), "Call ended");
    assert_eq!(o.cc.calls(), 1, "the other call is untouched");
    assert_eq!(o.cc.channels().in_use(), 1);
    o.cc.check_consistency().expect("consistent");
}

#[test]
fn moving_while_idle_only_changes_where_later_calls_go() {
    let mut o = office_with_media(4);
    rehome(&mut o, "201", true);
    assert!(o.sbc.is_empty());
    connect(&mut o, "201", "202");
    assert_eq!(anchors_of(&o.cc, "201"), [ChannelId(0)]);
}
