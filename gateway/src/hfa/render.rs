//! Call control's device-neutral [`Indication`]s as HFA stimuli.
//!
//! HFA phones are terminals: everything a user sees and hears comes from the
//! system as a stimulus. These functions are the one place that turns call
//! control's intent ("ring-back tone", "line key flashing") into bytes a
//! phone understands. They are pure, so the HFA connection calls them for
//! each indication and the tests check them byte for byte.
//!
//! The choices below are **Ours** (no public decoding says what a real
//! system sends) and `docs/hfa-protocol.md`, section "Call control in
//! stimuli", lists them: change both together.

use std::net::Ipv4Addr;

use jiff::civil::{Date, DateTime};
use shared::hfa::stimulus::{
    Cadence, ClockFormat, FpkLabel, RingerSound, RingerVolume, SetClock, SetDisplay, SetFpkText,
    ShowClock, StartRinger, StartTone, ToneCadence, ToneFlags,
};
use shared::hfa::{
    Key, LedState, MediaDirection, MediaId, Message, PayloadType, SetPayload, Stimulus, Text,
};

use crate::calls::indication::{
    ClockKind, DisplayRow, FeatureKey, Indication, Lamp, MediaIndication, Tone,
};

/// Characters per display row: a Set Display always fills the whole row, so
/// a shorter text wipes what the previous one left behind.
pub const DISPLAY_WIDTH: usize = 24;

/// Where a clock runs: the right of the bottom row ("Wed 25.11.2026
/// 14:05:09" idle, "Connected       00:01:23" in a call).
pub const CLOCK_ROW: u8 = 1;
/// Column of the clock; `HH:MM:SS` ends exactly at [`DISPLAY_WIDTH`].
pub const CLOCK_COLUMN: u8 = 16;
/// Clock id of the time of day, which Set Clock sets.
pub const TIME_OF_DAY_CLOCK: u8 = 1;
/// Clock id of the call timer, which the phone counts from zero when shown.
pub const CALL_TIMER_CLOCK: u8 = 2;

/// Call-progress tones play at 425 Hz, the European PBX frequency, in the
/// first of the three frequency bytes: round(425 / 60) = 7.
pub const TONE_FREQUENCY: u8 = 7;
/// Tone volume (0-31): the middle of the range.
pub const TONE_VOLUME: u8 = 16;

/// Tone cadences, one pulse/pause pair in 25 ms units. Busy and congestion
/// are the nearest multiples of 25 ms to the 480 ms and 240 ms of the
/// European tones.
pub const DIAL_CADENCE: Cadence = Cadence {
    pulse: 40,
    pause: 0,
};
/// 1 s on, 4 s off.
pub const RING_BACK_CADENCE: Cadence = Cadence {
    pulse: 40,
    pause: 160,
};
/// 475 ms on, 475 ms off.
pub const BUSY_CADENCE: Cadence = Cadence {
    pulse: 19,
    pause: 19,
};
/// 250 ms on, 250 ms off.
pub const CONGESTION_CADENCE: Cadence = Cadence {
    pulse: 10,
    pause: 10,
};

/// Ringer volume 5 of 1-112 (`0x90` + 5 − 1): audible, not startling.
pub const RINGER_VOLUME: RingerVolume = RingerVolume(0x94);
/// Ring sound 1 (`0x30` + 1 − 1): the phone's standard ring.
pub const RINGER_SOUND: RingerSound = RingerSound(0x30);
/// 1 s on, 4 s off in 50 ms units, in step with the caller's ring-back.
pub const RINGER_CADENCE: Cadence = Cadence {
    pulse: 20,
    pause: 80,
};

/// Packet time of the media call control starts.
pub const MEDIA_PACKET_MS: u8 = 20;

/// The stimuli that make an HFA phone show or play `indication`.
pub fn render(indication: &Indication) -> Vec<Message> {
    let stimulus = match indication {
        Indication::Display { row, text } => Stimulus::SetDisplay(SetDisplay {
            row: match row {
                DisplayRow::Top => 0,
                DisplayRow::Bottom => 1,
            },
            column: 0,
            text: display_text(text),
        }),
        Indication::Tone(tone) => match tone_cadence(*tone) {
            Some(cadence) => Stimulus::StartTone(start_tone(cadence)),
            None => Stimulus::StopTone,
        },
        Indication::Ringer(true) => Stimulus::StartRinger(StartRinger {
            volume: RINGER_VOLUME,
            sound: RINGER_SOUND,
            cadence: RINGER_CADENCE,
            second: None,
        }),
        Indication::Ringer(false) => Stimulus::StopRinger,
        Indication::Lamp { key, lamp } => Stimulus::Led {
            key: feature_key_code(*key),
            state: led_state(*lamp),
        },
        Indication::Label { key, text } => Stimulus::SetFpkText(SetFpkText {
            level: 0,
            labels: vec![FpkLabel {
                key: feature_key_code(*key),
                text: latin1(text, Text::MAX_LEN, false),
            }],
        }),
        Indication::Media(media) => return vec![set_payload(media).into()],
        Indication::Clock(kind) => return clock(*kind),
    };
    vec![stimulus.into()]
}

/// The function key of `key`: [`FeatureKey::ALL`]`[i]` is FPK i + 1.
pub fn feature_key_code(key: FeatureKey) -> Key {
    match key {
        FeatureKey::Line => Key::FPK_1,
        FeatureKey::Hold => Key::FPK_2,
        FeatureKey::Transfer => Key::FPK_3,
        FeatureKey::Forward => Key::FPK_4,
        FeatureKey::Release => Key::FPK_5,
    }
}

/// The feature key on function key `key`, for turning a key press into a
/// call-control input; `None` for the dial pad and unused function keys.
pub fn feature_key(key: Key) -> Option<FeatureKey> {
    FeatureKey::ALL
        .into_iter()
        .find(|feature| feature_key_code(*feature) == key)
}

/// Sets the phone's time of day to `now` (24 h) and shows it at the right
/// of the bottom row: the idle screen's clock, sent with the date in front
/// of it. `now` is the gateway's local civil time
/// (`jiff::ZonedDateTime::now().datetime()`), passed in to keep this pure.
pub fn clock_messages(now: DateTime) -> Vec<Message> {
    // jiff keeps every field in its range (hours 0-23, minutes and seconds
    // 0-59), so the conversions cannot fail.
    let field = |value: i8| u8::try_from(value).unwrap_or_default();
    let set = Stimulus::SetClock(SetClock {
        format: ClockFormat::H24,
        seconds: field(now.second()),
        minutes: field(now.minute()),
        hours: field(now.hour()),
    });
    let mut messages = vec![Message::from(set)];
    messages.extend(clock(ClockKind::TimeOfDay));
    messages
}

/// The date for the idle bottom row, e.g. "Wed 25.11.2026" (14 characters,
/// clear of the clock at [`CLOCK_COLUMN`]).
pub fn date_text(date: Date) -> String {
    date.strftime("%a %d.%m.%Y").to_string()
}

/// `text` as one full display row: cut or padded with spaces to
/// [`DISPLAY_WIDTH`].
fn display_text(text: &str) -> Text {
    latin1(text, DISPLAY_WIDTH, true)
}

/// `text` in Latin-1, at most `width` characters (padded to `width` with
/// spaces if `pad`). A character the phone cannot show (outside Latin-1, or
/// a control character such as a newline in a caller's name) becomes '?'.
fn latin1(text: &str, width: usize, pad: bool) -> Text {
    let width = width.min(Text::MAX_LEN);
    let mut bytes: Vec<u8> = text
        .chars()
        .map(|ch| match u8::try_from(u32::from(ch)) {
            Ok(byte) if !ch.is_control() => byte,
            _ => b'?',
        })
        .take(width)
        .collect();
    if pad {
        bytes.resize(width, b' ');
    }
    // At most `Text::MAX_LEN` bytes, so this cannot fail.
    Text::from_latin1(bytes).unwrap_or_default()
}

/// The cadence of `tone`; `None` for silence.
fn tone_cadence(tone: Tone) -> Option<Cadence> {
    match tone {
        Tone::Silence => None,
        Tone::Dial => Some(DIAL_CADENCE),
        Tone::RingBack => Some(RING_BACK_CADENCE),
        Tone::Busy => Some(BUSY_CADENCE),
        Tone::Congestion => Some(CONGESTION_CADENCE),
    }
}

/// A looped 425 Hz tone with one pulse/pause pair.
fn start_tone(cadence: Cadence) -> StartTone {
    StartTone {
        flags: ToneFlags {
            mode: 0,
            looped: true,
            volume: TONE_VOLUME,
        },
        frequencies: [TONE_FREQUENCY, 0, 0],
        cadence: ToneCadence::Single(cadence),
    }
}

/// Shows the clock of `kind` at the right of the bottom row, or hides
/// both: the renderer keeps no state, so it does not know which is shown.
fn clock(kind: ClockKind) -> Vec<Message> {
    let show = |clock_id| {
        Stimulus::ShowClock(ShowClock {
            row: CLOCK_ROW,
            column: CLOCK_COLUMN,
            clock_id,
        })
    };
    let stimuli = match kind {
        ClockKind::TimeOfDay => vec![show(TIME_OF_DAY_CLOCK)],
        ClockKind::CallTimer => vec![show(CALL_TIMER_CLOCK)],
        ClockKind::Hidden => [TIME_OF_DAY_CLOCK, CALL_TIMER_CLOCK]
            .map(|clock_id| Stimulus::HideClock { clock_id })
            .into(),
    };
    stimuli.into_iter().map(Message::from).collect()
}

fn led_state(lamp: Lamp) -> LedState {
    match lamp {
        Lamp::Off => LedState::OFF,
        Lamp::On => LedState::ON,
        Lamp::Flashing => LedState::FLASH_500_500,
        Lamp::Winking => LedState::FLASH_750_750,
    }
}

/// Set Payload for `media`: where the phone sends RTP, with which payload
/// type and packet size. Without a remote (a side that announced no media)
/// the address is `0.0.0.0`, port 0: the phone shows the call but sends
/// nothing.
fn set_payload(media: &MediaIndication) -> SetPayload {
    let unknown = SetPayload {
        direction: MediaDirection::None,
        payload_type: PayloadType::PCMA,
        packet_ms: MEDIA_PACKET_MS,
        media_id: MediaId(0),
        address: Ipv4Addr::UNSPECIFIED.into(),
        rtp_port: 0,
        rtcp_port: 0,
    };
    let MediaIndication::Start { call, remote } = media else {
        return unknown;
    };
    // The media id is the call id's low 32 bits: unique among the calls a
    // gateway has in progress.
    let started = SetPayload {
        direction: MediaDirection::SendReceive,
        media_id: MediaId(call.0 as u32),
        ..unknown
    };
    match remote {
        Some(remote) => SetPayload {
            payload_type: remote.payload_type,
            packet_ms: remote.packet_ms,
            address: remote.rtp.ip(),
            rtp_port: remote.rtp.port(),
            rtcp_port: remote.rtcp_port,
            ..started
        },
        None => started,
    }
}

#[cfg(test)]
mod tests;
