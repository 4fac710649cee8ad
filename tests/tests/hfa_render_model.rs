//! The gateway's renderer and the softphone's phone model agree: every
//! indication of call control, rendered as HFA stimuli, encoded, decoded
//! and applied to the phone model, shows exactly that indication; and every
//! feature key the phone presses reaches call control as that key.
//!
//! This is the contract of `docs/hfa-protocol.md`, "Call control in
//! stimuli", checked from both ends without a network.

use gateway::calls::media::RemoteMedia;
use gateway::calls::{
    CallId, ClockKind, DisplayRow, FeatureKey, Indication, Lamp, MediaIndication, Tone,
};
use gateway::hfa::render::{feature_key, render};
use shared::hfa::{
    Codec, Frame, FrameDecoder, Header, MediaDirection, MediaId, Message, PayloadType,
    SequenceNumber, SessionId, Stimulus,
};
use softphone::hfa::{ClockShown, Led, PhoneModel, ToneKind, press_digit, press_feature};

/// Carries messages across the wire: frames them, then cuts the byte
/// stream into frames again as the receiving side does.
#[derive(Default)]
struct Wire {
    sequence: u32,
    decoder: FrameDecoder,
}

impl Wire {
    fn carry(&mut self, message: Message) -> Message {
        self.sequence += 1;
        let header = Header::new(SessionId(1), SequenceNumber(self.sequence));
        let bytes = Frame::new(header, message).to_bytes().expect("encodes");
        let mut input = &bytes[..];
        let frame = self.decoder.decode(&mut input).expect("decodes");
        assert!(input.is_empty(), "one frame, wholly consumed");
        frame.expect("a whole frame").message
    }
}

/// The function key number call control's `key` sits on.
fn fpk(key: FeatureKey) -> u8 {
    let index = FeatureKey::ALL.iter().position(|k| *k == key);
    u8::try_from(index.expect("a feature key") + 1).expect("small")
}

/// Each indication once at least, in an order where each one changes what
/// the phone shows.
fn script() -> Vec<Indication> {
    let display = |row, text: &str| Indication::Display {
        row,
        text: text.into(),
    };
    let mut all = vec![
        display(DisplayRow::Top, "201 Anna"),
        display(DisplayRow::Bottom, "Wed 25.11.2026"),
        Indication::Clock(ClockKind::TimeOfDay),
        display(DisplayRow::Top, "Call from 202 Ben"),
        display(DisplayRow::Bottom, "for 203 Grüße"),
        Indication::Ringer(true),
        Indication::Tone(Tone::Dial),
        Indication::Tone(Tone::RingBack),
        Indication::Tone(Tone::Busy),
        Indication::Tone(Tone::Congestion),
        Indication::Tone(Tone::Silence),
        Indication::Ringer(false),
        Indication::Media(MediaIndication::Start {
            call: CallId(0x2_0000_002a),
            remote: None,
        }),
        Indication::Media(MediaIndication::Start {
            call: CallId(43),
            remote: Some(RemoteMedia {
                rtp: "203.0.113.10:30300".parse().expect("address"),
                rtcp_port: 30301,
                payload_type: PayloadType::OPUS,
                packet_ms: 20,
            }),
        }),
        Indication::Clock(ClockKind::CallTimer),
        Indication::Media(MediaIndication::Stop),
        Indication::Clock(ClockKind::Hidden),
        display(DisplayRow::Bottom, "A caller name far longer than the row"),
    ];
    for key in FeatureKey::ALL {
        all.push(Indication::Label {
            key,
            text: key.label().into(),
        });
        for lamp in [Lamp::On, Lamp::Flashing, Lamp::Winking, Lamp::Off] {
            all.push(Indication::Lamp { key, lamp });
        }
    }
    all.push(Indication::Label {
        key: FeatureKey::Hold,
        text: "Retrieve".into(),
    });
    all
}

/// Asserts that `model` shows `indication`.
fn assert_shows(model: &PhoneModel, indication: &Indication) {
    match indication {
        Indication::Display { row, text } => {
            let row = match row {
                DisplayRow::Top => 0,
                DisplayRow::Bottom => 1,
            };
            let expected: String = text.chars().take(24).collect();
            assert_eq!(model.display_row(row), expected.trim());
        }
        Indication::Tone(tone) => {
            let expected = match tone {
                Tone::Silence => None,
                Tone::Dial => Some(ToneKind::Dial),
                Tone::RingBack => Some(ToneKind::RingBack),
                Tone::Busy => Some(ToneKind::Busy),
                Tone::Congestion => Some(ToneKind::Congestion),
            };
            assert_eq!(model.tone(), expected);
        }
        Indication::Ringer(on) => assert_eq!(model.ringer(), *on),
        Indication::Lamp { key, lamp } => {
            let expected = match lamp {
                Lamp::Off => Led::Off,
                Lamp::On => Led::On,
                Lamp::Flashing => Led::Flashing,
                Lamp::Winking => Led::Winking,
            };
            assert_eq!(model.led(fpk(*key)), expected);
        }
        Indication::Label { key, text } => {
            assert_eq!(model.label(fpk(*key)), Some(text.as_str()));
        }
        Indication::Media(MediaIndication::Start { call, remote }) => {
            let media = model.media().expect("media is up");
            assert_eq!(media.direction, MediaDirection::SendReceive);
            assert_eq!(media.media_id, MediaId(call.0 as u32));
            if let Some(remote) = remote {
                assert_eq!(
                    (media.address, media.rtp_port),
                    (remote.rtp.ip(), remote.rtp.port())
                );
                assert_eq!(media.rtcp_port, remote.rtcp_port);
                assert_eq!(
                    (media.payload_type, media.packet_ms),
                    (remote.payload_type, remote.packet_ms)
                );
            }
        }
        Indication::Media(MediaIndication::Stop) => assert!(model.media().is_none()),
        Indication::Clock(kind) => {
            let expected = match kind {
                ClockKind::Hidden => None,
                ClockKind::TimeOfDay => Some(ClockShown::TimeOfDay),
                ClockKind::CallTimer => Some(ClockShown::CallTimer),
            };
            assert_eq!(model.clock(), expected);
        }
    }
}

#[test]
fn every_indication_shows_on_the_phone_as_call_control_meant_it() {
    let mut wire = Wire::default();
    let mut model = PhoneModel::new();
    for indication in script() {
        let mut changes = Vec::new();
        for message in render(&indication) {
            changes.extend(model.apply(&wire.carry(message)));
        }
        assert!(!changes.is_empty(), "{indication:?} changed nothing");
        assert_shows(&model, &indication);
    }
}

#[test]
fn the_phone_s_key_presses_reach_call_control_as_the_same_keys() {
    let mut wire = Wire::default();
    let pressed = |message: Message| match message {
        Message::Stimulus(Stimulus::KeyPress(key)) => key,
        other => panic!("not a key press: {other:?}"),
    };
    for key in FeatureKey::ALL {
        let press = press_feature(fpk(key)).expect("a function key");
        assert_eq!(feature_key(pressed(wire.carry(press))), Some(key));
    }
    for digit in "0123456789*#".chars() {
        let press = press_digit(digit).expect("a dial-pad key");
        let key = pressed(wire.carry(press));
        assert_eq!(key.digit(), Some(digit));
        assert_eq!(feature_key(key), None);
    }
}
