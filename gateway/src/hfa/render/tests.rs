use shared::hfa::{Codec, Frame, Header, SequenceNumber, SessionId};

use super::*;
use crate::calls::indication::CallId;
use crate::calls::media::RemoteMedia;

/// The stimulus or Set Payload body of the single message `indication`
/// renders to.
fn body(indication: &Indication) -> Vec<u8> {
    let messages = render(indication);
    assert_eq!(messages.len(), 1, "{indication:?}");
    let mut out = Vec::new();
    messages[0].encode_body(&mut out).expect("encodes");
    out
}

/// Every indication call control can send, each variant and value once.
fn every_indication() -> Vec<Indication> {
    let tones = [
        Tone::Silence,
        Tone::Dial,
        Tone::RingBack,
        Tone::Busy,
        Tone::Congestion,
    ];
    let lamps = [Lamp::Off, Lamp::On, Lamp::Flashing, Lamp::Winking];
    let mut all = vec![
        Indication::Display {
            row: DisplayRow::Top,
            text: "201 Anna".into(),
        },
        Indication::Display {
            row: DisplayRow::Bottom,
            text: "Calling 202 …".into(),
        },
        Indication::Ringer(true),
        Indication::Ringer(false),
        Indication::Media(MediaIndication::Start {
            call: CallId(0x1_0000_0007),
            remote: None,
        }),
        Indication::Media(MediaIndication::Start {
            call: CallId(3),
            remote: Some(RemoteMedia {
                rtp: "203.0.113.10:30300".parse().expect("address"),
                rtcp_port: 30301,
                payload_type: PayloadType::OPUS,
                packet_ms: 20,
            }),
        }),
        Indication::Media(MediaIndication::Stop),
        Indication::Clock(ClockKind::TimeOfDay),
        Indication::Clock(ClockKind::CallTimer),
        Indication::Clock(ClockKind::Hidden),
    ];
    all.extend(tones.map(Indication::Tone));
    for key in FeatureKey::ALL {
        all.extend(lamps.map(|lamp| Indication::Lamp { key, lamp }));
        all.push(Indication::Label {
            key,
            text: key.label().into(),
        });
    }
    all
}

#[test]
fn ring_back_is_a_looped_425_hz_tone_1_s_on_4_s_off() {
    assert_eq!(
        body(&Indication::Tone(Tone::RingBack)),
        [0x58, 0x30, 0x07, 0, 0, 40, 160]
    );
    assert_eq!(
        body(&Indication::Tone(Tone::Busy)),
        [0x58, 0x30, 0x07, 0, 0, 19, 19]
    );
    assert_eq!(body(&Indication::Tone(Tone::Silence)), [0x59]);
}

#[test]
fn the_ringer_rings_at_volume_5_sound_1_in_step_with_ring_back() {
    assert_eq!(body(&Indication::Ringer(true)), [0x55, 0x94, 0x30, 20, 80]);
    assert_eq!(body(&Indication::Ringer(false)), [0x56]);
    assert_eq!(RINGER_VOLUME.volume(), Some(5));
    assert_eq!(RINGER_SOUND.sound(), Some(1));
}

#[test]
fn a_flashing_line_key_is_fpk1_at_500_500() {
    let flashing = Indication::Lamp {
        key: FeatureKey::Line,
        lamp: Lamp::Flashing,
    };
    assert_eq!(body(&flashing), [0x40, 0x12, 0x04]);
    let held = Indication::Lamp {
        key: FeatureKey::Hold,
        lamp: Lamp::Winking,
    };
    assert_eq!(body(&held), [0x40, 0x13, 0x07]);
}

#[test]
fn display_rows_are_padded_to_24_latin1_characters() {
    let calling = Indication::Display {
        row: DisplayRow::Bottom,
        text: "Calling 202".into(),
    };
    let mut expected = vec![0x43, 1, 0, 0];
    expected.extend_from_slice(b"Calling 202             ");
    assert_eq!(body(&calling), expected);
    let frame = Frame::new(Header::new(SessionId(1), SequenceNumber(12)), {
        render(&calling).remove(0)
    });
    assert_eq!(frame.to_bytes().expect("encodes").len(), 11 + 4 + 24);

    let long = Indication::Display {
        row: DisplayRow::Top,
        text: "Grüße from a name longer than the row\n€".into(),
    };
    let text = &body(&long)[4..];
    assert_eq!(text, b"Gr\xfc\xdfe from a name longer");
    let odd = Indication::Display {
        row: DisplayRow::Top,
        text: "€ 5\n".into(),
    };
    assert_eq!(&body(&odd)[4..8], b"? 5?");
}

#[test]
fn labels_name_one_key_on_level_0() {
    let hold = Indication::Label {
        key: FeatureKey::Hold,
        text: "Retrieve".into(),
    };
    let mut expected = vec![0x6b, 0, 0x13, 8];
    expected.extend_from_slice(b"Retrieve");
    assert_eq!(body(&hold), expected);
}

#[test]
fn media_starts_send_receive_pcma_named_by_the_call() {
    let start = Indication::Media(MediaIndication::Start {
        call: CallId(0x1_0000_0007),
        remote: None,
    });
    let mut expected = vec![0, 0, 0x0c, 8, 20, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    expected.extend_from_slice(b"0.0.0.0\0");
    assert_eq!(body(&start), expected);
    let to_the_sbc = Indication::Media(MediaIndication::Start {
        call: CallId(7),
        remote: Some(RemoteMedia {
            rtp: "203.0.113.10:30300".parse().expect("address"),
            rtcp_port: 30301,
            payload_type: PayloadType::PCMU,
            packet_ms: 30,
        }),
    });
    // Port 30300 = 0x765c at body offset 9, RTCP 30301 at 11.
    let mut expected = vec![
        0, 0, 0x0c, 0, 30, 0, 0, 0, 7, 0x76, 0x5c, 0x76, 0x5d, 0, 0, 0, 0, 0, 0,
    ];
    expected.extend_from_slice(b"203.0.113.10\0");
    assert_eq!(body(&to_the_sbc), expected);
    let stop = body(&Indication::Media(MediaIndication::Stop));
    assert_eq!(stop[2], 0, "direction none");
}

#[test]
fn feature_key_i_is_fpk_i_plus_1_and_back() {
    for (fpk, feature) in (1u8..).zip(FeatureKey::ALL) {
        assert_eq!(Some(feature_key_code(feature)), Key::fpk(fpk));
        assert_eq!(feature_key(feature_key_code(feature)), Some(feature));
    }
    assert_eq!(feature_key(Key::DIGIT_1), None);
    assert_eq!(feature_key(Key::FPK_6), None);
}

#[test]
fn the_clock_is_set_24_h_and_shown_right_of_the_date() {
    let now = jiff::civil::date(2026, 11, 25).at(14, 5, 9, 0);
    let bodies: Vec<Vec<u8>> = clock_messages(now)
        .iter()
        .map(|message| {
            let mut out = Vec::new();
            message.encode_body(&mut out).expect("encodes");
            out
        })
        .collect();
    assert_eq!(bodies, [vec![0x4a, 2, 9, 5, 14], vec![0x48, 1, 16, 1]]);
    let date = date_text(now.date());
    assert_eq!(date, "Wed 25.11.2026");
    assert!(date.len() < usize::from(CLOCK_COLUMN));

    assert_eq!(
        body(&Indication::Clock(ClockKind::TimeOfDay)),
        [0x48, 1, 16, 1]
    );
    assert_eq!(
        body(&Indication::Clock(ClockKind::CallTimer)),
        [0x48, 1, 16, 2]
    );
    let hidden = render(&Indication::Clock(ClockKind::Hidden));
    assert_eq!(
        hidden,
        [
            Message::from(Stimulus::HideClock { clock_id: 1 }),
            Message::from(Stimulus::HideClock { clock_id: 2 }),
        ]
    );
}

#[test]
fn every_indication_encodes_and_decodes_back() {
    for (sequence, indication) in (1u32..).zip(every_indication()) {
        for message in render(&indication) {
            let header = Header::new(SessionId(1), SequenceNumber(sequence));
            let bytes = Frame::new(header, message.clone())
                .to_bytes()
                .expect("encodes");
            let decoded = Frame::from_bytes(&bytes).expect("decodes");
            assert_eq!(decoded.message, message, "{indication:?}");
        }
    }
}
