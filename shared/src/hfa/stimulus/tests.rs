//! Round trips of every stimulus request, and the edge cases of decoding.

use std::net::Ipv4Addr;

use super::*;
use crate::hfa::PhoneId;
use crate::hfa::coding::{Codec, round_trip};
use crate::hfa::error::DecodeError;

fn text(s: &str) -> Text {
    Text::new(s).expect("Latin-1 test text")
}

fn every_stimulus() -> Vec<Stimulus> {
    let pair = Cadence { pulse: 8, pause: 4 };
    vec![
        Stimulus::KeyPress(Key::DIGIT_5),
        Stimulus::Led {
            key: Key::FPK_1,
            state: LedState::FLASH_500_500,
        },
        Stimulus::OffHook,
        Stimulus::OnHook,
        Stimulus::SetDisplay(SetDisplay {
            row: 1,
            column: 2,
            text: text("Calling 202 …".replace('…', "...").as_str()),
        }),
        Stimulus::ClearDisplay(ClearDisplay {
            row: 1,
            column: 0,
            len: 24,
        }),
        Stimulus::PhoneInit(PhoneInit {
            phone_id: PhoneId::OPENSTAGE_40,
            flags: PhoneInitFlags(
                PhoneInitFlags::HEADSET | PhoneInitFlags::IP_INIT_DATA_FOLLOWS | 2,
            ),
            local_error: 0,
        }),
        Stimulus::SetContrast(SetContrast {
            display: 3,
            keys: 1,
        }),
        Stimulus::ShowClock(ShowClock {
            row: 0,
            column: 16,
            clock_id: 1,
        }),
        Stimulus::HideClock { clock_id: 1 },
        Stimulus::SetClock(SetClock {
            format: ClockFormat::H24,
            seconds: 5,
            minutes: 4,
            hours: 23,
        }),
        Stimulus::BasicPhoneInit(BasicPhoneInit([1, 2, 3, 4, 5, 6])),
        Stimulus::AudioStateIndication(AudioState::new(true, true, 2, 5)),
        Stimulus::AudioStateRequest,
        Stimulus::SetAudio(SetAudio {
            microphone: true,
            volume: 16,
        }),
        Stimulus::StartRinger(StartRinger {
            volume: RingerVolume::ring(5).expect("volume"),
            sound: RingerSound::ring(2).expect("sound"),
            cadence: pair,
            second: Some(Cadence {
                pulse: 2,
                pause: 20,
            }),
        }),
        Stimulus::StopRinger,
        Stimulus::StartTone(StartTone {
            flags: ToneFlags {
                mode: 2,
                looped: true,
                volume: 31,
            },
            frequencies: [7, 0, 0],
            cadence: ToneCadence::Single(pair),
        }),
        Stimulus::StartTone(StartTone {
            flags: ToneFlags {
                mode: 0,
                looped: false,
                volume: 1,
            },
            frequencies: [7, 8, 9],
            cadence: ToneCadence::Triple([
                pair,
                pair,
                Cadence {
                    pulse: 0,
                    pause: 40,
                },
            ]),
        }),
        Stimulus::StopTone,
        Stimulus::SetRingerVolume { volume: 4 },
        Stimulus::Handsfree { room: 3 },
        Stimulus::SetupMenu(SetupMenu {
            items: vec![[1, 2], [3, 4]],
        }),
        Stimulus::PartNumber(text("S30817-S7403-A101")),
        Stimulus::SetFpkText(SetFpkText {
            level: 0,
            labels: vec![
                FpkLabel {
                    key: Key::FPK_1,
                    text: text("Anrufliste"),
                },
                FpkLabel {
                    key: Key::FPK_2,
                    text: text("Grüße"),
                },
            ],
        }),
        Stimulus::SetFpkLevel { level: 1 },
        Stimulus::SetMenuItems(SetMenuItems {
            items: vec![
                MenuItem {
                    tag: 0,
                    id: 1,
                    text: text("Forward"),
                },
                MenuItem {
                    tag: 0,
                    id: 2,
                    text: text(""),
                },
            ],
        }),
        Stimulus::IpPhoneInitData(IpPhoneInitData {
            address: Ipv4Addr::new(192, 168, 1, 20),
        }),
        Stimulus::Unknown {
            code: StimulusCode(0x99),
            data: vec![1, 2, 3].into(),
        },
    ]
}

#[test]
fn every_request_round_trips_with_its_code_first() {
    for stimulus in every_stimulus() {
        let bytes = round_trip(&stimulus);
        assert_eq!(bytes.first(), Some(&stimulus.code().0), "{stimulus:?}");
    }
}

#[test]
fn known_body_offsets() {
    let bytes = round_trip(&every_stimulus()[6]);
    assert_eq!(bytes.len(), 14);
    assert_eq!(bytes[11..], [0x2c, 0x2a, 0]);
    let init = Stimulus::IpPhoneInitData(IpPhoneInitData {
        address: Ipv4Addr::new(10, 1, 2, 3),
    });
    assert_eq!(round_trip(&init)[..], [0x7d, 0, 0, 0, 0, 10, 1, 2, 3]);
    let fpk = SetFpkText {
        level: 0,
        labels: vec![FpkLabel {
            key: Key::fpk(1).expect("fpk"),
            text: text("Hi"),
        }],
    };
    assert_eq!(
        round_trip(&Stimulus::SetFpkText(fpk))[..],
        [0x6b, 0, 0x12, 2, b'H', b'i']
    );
    let audio = Stimulus::SetAudio(SetAudio {
        microphone: true,
        volume: 8,
    });
    assert_eq!(round_trip(&audio)[..], [0x54, 0x10, 0x07]);
    let tone = every_stimulus()[17].clone();
    assert_eq!(round_trip(&tone)[..], [0x58, 0xa0 | 31, 7, 0, 0, 8, 4]);
}

#[test]
fn key_press_codes_are_taken_modulo_0x40() {
    assert_eq!(
        Stimulus::from_bytes(&[0x40, 0x45]),
        Ok(Stimulus::KeyPress(Key::DIGIT_5))
    );
    let led = Stimulus::from_bytes(&[0x40, 0x45, 1]);
    assert_eq!(
        led,
        Ok(Stimulus::Led {
            key: Key(0x45),
            state: LedState::ON
        })
    );
}

#[test]
fn ringer_bytes_below_the_bases_are_information_tones() {
    let beep = StartRinger::from_bytes(&[0x85, 0x31, 2, 2]).expect("ringer");
    assert!(beep.is_information_tone());
    assert_eq!(beep.volume.volume(), None);
    assert_eq!(beep.second, None);
    let ring = StartRinger::from_bytes(&[0x94, 0x30, 2, 2, 0]).expect("ringer");
    assert!(!ring.is_information_tone());
    assert_eq!(
        (ring.volume.volume(), ring.sound.sound()),
        (Some(5), Some(1))
    );
    assert_eq!(RingerVolume::ring(0), None);
    assert_eq!(RingerVolume::ring(113), None);
}

#[test]
fn short_bodies_are_truncated_and_long_ones_tolerated() {
    let cases: [&[u8]; 8] = [
        &[],
        &[0x40],
        &[0x43, 0, 0],
        &[0x46, 0, 0],
        &[0x55, 0x90],
        &[0x58, 0, 1, 2, 3, 4],
        &[0x5e, 2, 1, 1],
        &[0x6b, 0, 0x12, 5, b'x'],
    ];
    for bytes in cases {
        assert!(
            matches!(
                Stimulus::from_bytes(bytes),
                Err(DecodeError::Truncated { .. })
            ),
            "{bytes:02x?}"
        );
    }
    assert_eq!(Stimulus::from_bytes(&[0x41, 9, 9]), Ok(Stimulus::OffHook));
    assert_eq!(
        Stimulus::from_bytes(&[0x5c, 0xff]),
        Ok(Stimulus::Handsfree { room: 3 })
    );
    let display = Stimulus::from_bytes(&[0x43, 0, 0, 0xff, b'a']);
    assert_eq!(
        display,
        Ok(Stimulus::SetDisplay(SetDisplay {
            row: 0,
            column: 0,
            text: text("a")
        }))
    );
}

#[test]
fn key_and_audio_helpers_read_their_bits() {
    let state = AudioState(0xb5);
    assert!(state.headset_connected() && !state.off_hook());
    assert_eq!((state.b_channel(), state.state()), (3, 5));
    let flags = PhoneInitFlags(0x8a);
    assert!(flags.contains(PhoneInitFlags::SELF_TEST | PhoneInitFlags::IP_INIT_DATA_FOLLOWS));
    assert!(!flags.contains(PhoneInitFlags::HEADSET));
    assert_eq!(flags.id_extension(), 2);
    assert_eq!(u8::from(ToneFlags::from(0xe3)), 0xe3);
    assert_eq!(format!("{:?}", StimulusCode(0x99)), "StimulusCode(0x99)");
}
