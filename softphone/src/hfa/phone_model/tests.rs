use std::net::Ipv4Addr;

use shared::hfa::stimulus::{
    Cadence, FpkLabel, RingerSound, RingerVolume, ShowClock, StartRinger, StartTone, ToneCadence,
    ToneFlags,
};
use shared::hfa::{LedState, MediaId, PayloadType, Text};

use super::*;

fn stimulus(stimulus: Stimulus) -> Message {
    stimulus.into()
}

fn display(row: u8, column: u8, text: &str) -> Message {
    stimulus(Stimulus::SetDisplay(SetDisplay {
        row,
        column,
        text: Text::new(text).expect("Latin-1"),
    }))
}

fn tone(pulse: u8, pause: u8) -> Message {
    stimulus(Stimulus::StartTone(StartTone {
        flags: ToneFlags {
            mode: 0,
            looped: true,
            volume: 16,
        },
        frequencies: [7, 0, 0],
        cadence: ToneCadence::Single(Cadence { pulse, pause }),
    }))
}

fn ringer(volume: u8) -> Message {
    stimulus(Stimulus::StartRinger(StartRinger {
        volume: RingerVolume(volume),
        sound: RingerSound(0x30),
        cadence: Cadence {
            pulse: 20,
            pause: 80,
        },
        second: None,
    }))
}

fn payload(direction: MediaDirection) -> SetPayload {
    SetPayload {
        direction,
        payload_type: PayloadType::PCMA,
        packet_ms: 20,
        media_id: MediaId(7),
        address: Ipv4Addr::UNSPECIFIED.into(),
        rtp_port: 0,
        rtcp_port: 0,
    }
}

fn lines(changes: &[Change]) -> Vec<String> {
    changes.iter().map(ToString::to_string).collect()
}

#[test]
fn display_rows_are_written_at_their_column_and_printed_trimmed() {
    let mut model = PhoneModel::new();
    let changes = model.apply(&display(0, 0, "201 Anna                "));
    assert_eq!(lines(&changes), ["display: 201 Anna |"]);
    let changes = model.apply(&display(1, 0, "Wed 25.11.2026          "));
    assert_eq!(lines(&changes), ["display: 201 Anna | Wed 25.11.2026"]);
    assert!(model.apply(&display(1, 0, "Wed 25.11.2026")).is_empty());
    model.apply(&display(1, 4, "26"));
    assert_eq!(model.display_row(1), "Wed 26.11.2026");
    let clear = Stimulus::ClearDisplay(ClearDisplay {
        row: 1,
        column: 3,
        len: 200,
    });
    model.apply(&stimulus(clear));
    assert_eq!(model.display_row(1), "Wed");
    assert!(model.apply(&display(9, 0, "beyond the display")).is_empty());
    // A write covers its own characters only, as on a real display.
    model.apply(&display(0, 0, "Grüße\n"));
    assert_eq!(model.display_row(0), "Grüße?na");
}

#[test]
fn ringer_and_tones_report_only_real_changes() {
    let mut model = PhoneModel::new();
    assert_eq!(lines(&model.apply(&ringer(0x94))), ["ringer: on"]);
    assert!(model.apply(&ringer(0x94)).is_empty());
    assert!(model.ringer());
    assert_eq!(
        lines(&model.apply(&stimulus(Stimulus::StopRinger))),
        ["ringer: off"]
    );
    assert!(
        model.apply(&ringer(0x10)).is_empty(),
        "a beep is not ringing"
    );

    assert_eq!(lines(&model.apply(&tone(40, 160))), ["tone: ring-back"]);
    assert!(model.apply(&tone(40, 160)).is_empty());
    assert_eq!(lines(&model.apply(&tone(19, 19))), ["tone: busy"]);
    assert_eq!(model.tone(), Some(ToneKind::Busy));
    assert_eq!(
        lines(&model.apply(&stimulus(Stimulus::StopTone))),
        ["tone: off"]
    );
    assert_eq!(model.tone(), None);
}

#[test]
fn leds_carry_the_key_label() {
    let mut model = PhoneModel::new();
    let labels = SetFpkText {
        level: 0,
        labels: vec![
            FpkLabel {
                key: Key::FPK_1,
                text: Text::new("Line").expect("Latin-1"),
            },
            FpkLabel {
                key: Key::FPK_2,
                text: Text::new("Hold").expect("Latin-1"),
            },
        ],
    };
    let changes = model.apply(&stimulus(Stimulus::SetFpkText(labels.clone())));
    assert_eq!(lines(&changes), ["label: FPK1 Line", "label: FPK2 Hold"]);
    assert!(
        model
            .apply(&stimulus(Stimulus::SetFpkText(labels.clone())))
            .is_empty()
    );
    let other_level = SetFpkText { level: 1, ..labels };
    assert!(
        model
            .apply(&stimulus(Stimulus::SetFpkText(other_level)))
            .is_empty()
    );
    assert_eq!(model.label(2), Some("Hold"));

    let led = |key, state| stimulus(Stimulus::Led { key, state });
    assert!(model.apply(&led(Key::FPK_1, LedState::OFF)).is_empty());
    let changes = model.apply(&led(Key::FPK_1, LedState::FLASH_500_500));
    assert_eq!(lines(&changes), ["led: FPK1 Line flashing"]);
    assert_eq!(model.led(1), Led::Flashing);
    let changes = model.apply(&led(Key::FPK_7, LedState::ON));
    assert_eq!(lines(&changes), ["led: FPK7 on"]);
    assert!(model.apply(&led(Key::DIGIT_1, LedState::ON)).is_empty());
}

#[test]
fn media_and_clock_start_and_stop() {
    let mut model = PhoneModel::new();
    let none = Message::SetPayload(payload(MediaDirection::None));
    assert!(model.apply(&none).is_empty(), "stopping no media");
    let start = Message::SetPayload(payload(MediaDirection::SendReceive));
    assert_eq!(lines(&model.apply(&start)), ["media: started"]);
    assert_eq!(model.media().map(|p| p.media_id), Some(MediaId(7)));
    assert_eq!(lines(&model.apply(&none)), ["media: stopped"]);
    assert!(model.media().is_none());

    let show = |clock_id| {
        stimulus(Stimulus::ShowClock(ShowClock {
            row: 1,
            column: 16,
            clock_id,
        }))
    };
    let hide = |clock_id| stimulus(Stimulus::HideClock { clock_id });
    assert_eq!(lines(&model.apply(&show(1))), ["clock: time of day"]);
    assert_eq!(lines(&model.apply(&show(2))), ["clock: call timer"]);
    assert_eq!(model.clock(), Some(ClockShown::CallTimer));
    assert!(model.apply(&hide(1)).is_empty(), "not the clock shown");
    assert_eq!(lines(&model.apply(&hide(2))), ["clock: hidden"]);
    assert_eq!(model.clock(), None);
    assert!(
        model
            .apply(&Message::SetPayload(payload(MediaDirection::None)))
            .is_empty()
    );
}

#[test]
fn keys_and_hook_switch_become_stimuli() {
    let mut model = PhoneModel::new();
    assert_eq!(model.hook(), Hook::OnHook);
    assert_eq!(model.off_hook(), stimulus(Stimulus::OffHook));
    assert_eq!(model.hook(), Hook::OffHook);
    assert_eq!(model.on_hook(), stimulus(Stimulus::OnHook));
    assert_eq!(model.hook().to_string(), "on-hook");
    assert_eq!(
        press_digit('2'),
        Some(stimulus(Stimulus::KeyPress(Key::DIGIT_2)))
    );
    assert_eq!(
        press_digit('#'),
        Some(stimulus(Stimulus::KeyPress(Key::HASH)))
    );
    assert_eq!(press_digit('x'), None);
    assert_eq!(
        press_feature(1),
        Some(stimulus(Stimulus::KeyPress(Key::FPK_1)))
    );
    assert_eq!(press_feature(21), None);
}
