//! What a phone's tones and LEDs mean, read back from the raw stimuli.
//!
//! The gateway sends a tone as frequencies and a cadence, and an LED as a
//! blink rate; a person hears "busy" and sees "flashing". This module makes
//! the same reading, so the headless commands can print it and decide on it
//! (a busy tone before the call connects means the call failed). The
//! cadences are those of `docs/hfa-protocol.md`, "Call control in stimuli".

use std::fmt;

use shared::hfa::LedState;
use shared::hfa::stimulus::{Cadence, StartTone, TONE_CADENCE_UNIT_MS, ToneCadence};

/// A call-progress tone, classified by its cadence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ToneKind {
    /// Continuous: ready to dial.
    Dial,
    /// About 1 s on, 3-5 s off: the other side is ringing.
    RingBack,
    /// About 500 ms on and off: busy, or the call has ended.
    Busy,
    /// About 250 ms on and off: the call was refused.
    Congestion,
    /// A tone with another cadence, kept as received.
    Other(StartTone),
}

impl ToneKind {
    /// Reads `tone` by its on/off times. The bands are wide, so a real
    /// system's slightly different cadence (busy at 480/480 ms rather than
    /// our 475/475) reads the same.
    pub fn classify(tone: &StartTone) -> Self {
        let ToneCadence::Single(Cadence { pulse, pause }) = tone.cadence else {
            return Self::Other(*tone);
        };
        let ms = |units: u8| u32::from(units) * TONE_CADENCE_UNIT_MS;
        let (on, off) = (ms(pulse), ms(pause));
        let both_in =
            |range: std::ops::RangeInclusive<u32>| range.contains(&on) && range.contains(&off);
        if on > 0 && off == 0 {
            Self::Dial
        } else if (800..=1200).contains(&on) && (3000..=5000).contains(&off) {
            Self::RingBack
        } else if both_in(400..=600) {
            Self::Busy
        } else if both_in(150..=300) {
            Self::Congestion
        } else {
            Self::Other(*tone)
        }
    }
}

impl fmt::Display for ToneKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Dial => f.write_str("dial"),
            Self::RingBack => f.write_str("ring-back"),
            Self::Busy => f.write_str("busy"),
            Self::Congestion => f.write_str("congestion"),
            Self::Other(tone) => match tone.cadence {
                ToneCadence::Single(Cadence { pulse, pause }) => write!(
                    f,
                    "other {}/{} ms",
                    u32::from(pulse) * TONE_CADENCE_UNIT_MS,
                    u32::from(pause) * TONE_CADENCE_UNIT_MS
                ),
                ToneCadence::Triple(_) => f.write_str("other (three-part cadence)"),
            },
        }
    }
}

/// A function key's LED as a person describes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Led {
    Off,
    On,
    /// 500/500 ms: a call is ringing on this key.
    Flashing,
    /// 750/750 ms: a call is held.
    Winking,
    /// Another blink rate, kept as received.
    Other(LedState),
}

impl From<LedState> for Led {
    fn from(state: LedState) -> Self {
        match state {
            LedState::OFF => Self::Off,
            LedState::ON => Self::On,
            LedState::FLASH_500_500 => Self::Flashing,
            LedState::FLASH_750_750 => Self::Winking,
            other => Self::Other(other),
        }
    }
}

impl fmt::Display for Led {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Off => f.write_str("off"),
            Self::On => f.write_str("on"),
            Self::Flashing => f.write_str("flashing"),
            Self::Winking => f.write_str("winking"),
            Self::Other(state) => write!(f, "state {state}"),
        }
    }
}

/// The clock running at the right of the bottom row, by its Show Clock id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClockShown {
    /// Id 1: the time of day the gateway set.
    TimeOfDay,
    /// Id 2: the call timer, counting from zero.
    CallTimer,
    /// Another id, kept as received.
    Other(u8),
}

impl ClockShown {
    pub fn from_id(clock_id: u8) -> Self {
        match clock_id {
            1 => Self::TimeOfDay,
            2 => Self::CallTimer,
            other => Self::Other(other),
        }
    }
}

impl fmt::Display for ClockShown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TimeOfDay => f.write_str("time of day"),
            Self::CallTimer => f.write_str("call timer"),
            Self::Other(id) => write!(f, "clock {id}"),
        }
    }
}

/// The hook switch: the only part of the phone's state the phone itself
/// decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Hook {
    #[default]
    OnHook,
    OffHook,
}

impl fmt::Display for Hook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::OnHook => "on-hook",
            Self::OffHook => "off-hook",
        })
    }
}

#[cfg(test)]
mod tests {
    use shared::hfa::stimulus::ToneFlags;

    use super::*;

    fn tone(pulse: u8, pause: u8) -> StartTone {
        StartTone {
            flags: ToneFlags {
                mode: 0,
                looped: true,
                volume: 16,
            },
            frequencies: [7, 0, 0],
            cadence: ToneCadence::Single(Cadence { pulse, pause }),
        }
    }

    #[test]
    fn tones_are_read_by_their_cadence() {
        let kind = |pulse, pause| ToneKind::classify(&tone(pulse, pause));
        assert_eq!(kind(40, 0), ToneKind::Dial);
        assert_eq!(kind(255, 0), ToneKind::Dial);
        assert_eq!(kind(40, 160), ToneKind::RingBack);
        assert_eq!(kind(19, 19), ToneKind::Busy);
        assert_eq!(kind(20, 20), ToneKind::Busy);
        assert_eq!(kind(10, 10), ToneKind::Congestion);
        assert_eq!(kind(8, 4), ToneKind::Other(tone(8, 4)));
        assert_eq!(kind(8, 4).to_string(), "other 200/100 ms");
        assert_eq!(kind(0, 0), ToneKind::Other(tone(0, 0)));
        let triple = StartTone {
            cadence: ToneCadence::Triple([Cadence { pulse: 4, pause: 4 }; 3]),
            ..tone(0, 0)
        };
        assert_eq!(ToneKind::classify(&triple), ToneKind::Other(triple));
        assert_eq!(ToneKind::RingBack.to_string(), "ring-back");
    }

    #[test]
    fn leds_are_named_by_their_blink_rate() {
        assert_eq!(Led::from(LedState::FLASH_500_500), Led::Flashing);
        assert_eq!(Led::from(LedState::FLASH_750_750), Led::Winking);
        assert_eq!(Led::from(LedState(2)).to_string(), "state 0x02 flash 50/50");
        assert_eq!(Led::from(LedState::ON).to_string(), "on");
    }

    #[test]
    fn clocks_are_named_by_their_id() {
        assert_eq!(ClockShown::from_id(1), ClockShown::TimeOfDay);
        assert_eq!(ClockShown::from_id(2).to_string(), "call timer");
        assert_eq!(ClockShown::from_id(9), ClockShown::Other(9));
    }
}
