//! The phone as its user sees it: what the gateway has put on the display,
//! the function keys and the speaker, plus the hook switch.
//!
//! HFA is a stimulus protocol, so the phone keeps no call state of its own:
//! [`PhoneModel::apply`] takes each message the gateway sends
//! ([`PhoneEvent::Received`](shared::hfa_engine::phone::PhoneEvent::Received))
//! and reports what visibly changed as [`Change`]s, one printable line each.
//! The user's side goes the other way, as messages to send: [`off_hook`],
//! [`on_hook`], [`press_digit`] and [`press_feature`].
//!
//! [`off_hook`]: PhoneModel::off_hook
//! [`on_hook`]: PhoneModel::on_hook

use std::collections::BTreeMap;
use std::fmt;

use shared::hfa::stimulus::{ClearDisplay, SetDisplay, SetFpkText};
use shared::hfa::{Key, MediaDirection, Message, SetPayload, Stimulus};

use super::indicators::{ClockShown, Hook, Led, ToneKind};

/// Rows the model keeps. OpenStage displays have at most a handful of text
/// rows; a write further down is a gateway bug and is ignored rather than
/// letting it grow the model.
const MAX_ROWS: usize = 8;

/// The label of the key that seizes, answers and releases the line.
const LINE_KEY_LABEL: &str = "Line";

/// One visible change, printed as one line by the headless commands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// The top or bottom row changed; both rows, trimmed.
    Display {
        top: String,
        bottom: String,
    },
    Ringer(bool),
    /// A tone started, or stopped (`None`).
    Tone(Option<ToneKind>),
    /// A function key's LED; `label` is the key's label, if it has one.
    Led {
        fpk: u8,
        label: Option<String>,
        led: Led,
    },
    Label {
        fpk: u8,
        text: String,
    },
    /// A clock was shown, or hidden (`None`).
    Clock(Option<ClockShown>),
    /// Media started or changed (`Some`, with its Set Payload) or stopped.
    Media(Option<SetPayload>),
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let on_off = |on: bool| if on { "on" } else { "off" };
        match self {
            Self::Display { top, bottom } => {
                write!(f, "{}", format!("display: {top} | {bottom}").trim_end())
            }
            Self::Ringer(on) => write!(f, "ringer: {}", on_off(*on)),
            Self::Tone(Some(kind)) => write!(f, "tone: {kind}"),
            Self::Tone(None) => f.write_str("tone: off"),
            Self::Led { fpk, label, led } => match label {
                Some(label) => write!(f, "led: FPK{fpk} {label} {led}"),
                None => write!(f, "led: FPK{fpk} {led}"),
            },
            Self::Label { fpk, text } => write!(f, "label: FPK{fpk} {text}"),
            Self::Clock(Some(clock)) => write!(f, "clock: {clock}"),
            Self::Clock(None) => f.write_str("clock: hidden"),
            Self::Media(Some(_)) => f.write_str("media: started"),
            Self::Media(None) => f.write_str("media: stopped"),
        }
    }
}

/// The phone's display, keys, ringer, tone, clock, media and hook switch.
#[derive(Debug, Clone, Default)]
pub struct PhoneModel {
    /// Display rows as written, one char per Latin-1 byte.
    rows: Vec<Vec<char>>,
    /// Function-key labels of level 0, by FPK number.
    labels: BTreeMap<u8, String>,
    leds: BTreeMap<u8, Led>,
    ringer: bool,
    tone: Option<ToneKind>,
    clock: Option<ClockShown>,
    media: Option<SetPayload>,
    hook: Hook,
}

impl PhoneModel {
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes one message from the gateway; returns what changed (nothing
    /// for a message that repeats the current state or is not for the
    /// user, such as an Alive).
    pub fn apply(&mut self, message: &Message) -> Vec<Change> {
        match message {
            Message::Stimulus(stimulus) => self.apply_stimulus(stimulus),
            Message::SetPayload(payload) => {
                let media = (payload.direction != MediaDirection::None).then(|| payload.clone());
                self.set(|m| &mut m.media, media, Change::Media)
            }
            _ => Vec::new(),
        }
    }

    fn apply_stimulus(&mut self, stimulus: &Stimulus) -> Vec<Change> {
        match stimulus {
            Stimulus::SetDisplay(set) => self.write_display(set),
            Stimulus::ClearDisplay(clear) => self.clear_display(*clear),
            Stimulus::ShowClock(show) => {
                let clock = Some(ClockShown::from_id(show.clock_id));
                self.set(|m| &mut m.clock, clock, Change::Clock)
            }
            // Hiding a clock that is not shown changes nothing.
            Stimulus::HideClock { clock_id }
                if self.clock == Some(ClockShown::from_id(*clock_id)) =>
            {
                self.set(|m| &mut m.clock, None, Change::Clock)
            }
            // A start ringer below the ringing bases is a beep, not ringing.
            Stimulus::StartRinger(ringer) if !ringer.is_information_tone() => {
                self.set(|m| &mut m.ringer, true, Change::Ringer)
            }
            Stimulus::StopRinger => self.set(|m| &mut m.ringer, false, Change::Ringer),
            Stimulus::StartTone(tone) => {
                let kind = Some(ToneKind::classify(tone));
                self.set(|m| &mut m.tone, kind, Change::Tone)
            }
            Stimulus::StopTone => self.set(|m| &mut m.tone, None, Change::Tone),
            Stimulus::Led { key, state } => self.set_led(*key, Led::from(*state)),
            Stimulus::SetFpkText(labels) => self.set_labels(labels),
            _ => Vec::new(),
        }
    }

    /// Sets one field, reporting a change only if the value differs.
    fn set<T: PartialEq + Clone>(
        &mut self,
        field: impl Fn(&mut Self) -> &mut T,
        value: T,
        change: impl Fn(T) -> Change,
    ) -> Vec<Change> {
        let slot = field(self);
        if *slot == value {
            return Vec::new();
        }
        *slot = value.clone();
        vec![change(value)]
    }

    fn write_display(&mut self, set: &SetDisplay) -> Vec<Change> {
        let text = set.text.to_string();
        self.edit_row(set.row, |row| {
            let start = usize::from(set.column);
            let end = start + text.chars().count();
            if row.len() < end {
                row.resize(end, ' ');
            }
            row.splice(start..end, text.chars());
        })
    }

    fn clear_display(&mut self, clear: ClearDisplay) -> Vec<Change> {
        self.edit_row(clear.row, |row| {
            let start = usize::from(clear.column).min(row.len());
            let end = (start + usize::from(clear.len)).min(row.len());
            row.splice(start..end, std::iter::repeat_n(' ', end - start));
        })
    }

    /// Applies `edit` to display row `row`; a change if the printed top or
    /// bottom row differs afterwards.
    fn edit_row(&mut self, row: u8, edit: impl FnOnce(&mut Vec<char>)) -> Vec<Change> {
        let row = usize::from(row);
        if row >= MAX_ROWS {
            return Vec::new();
        }
        let before = (self.display_row(0), self.display_row(1));
        if self.rows.len() <= row {
            self.rows.resize(row + 1, Vec::new());
        }
        if let Some(text) = self.rows.get_mut(row) {
            edit(text);
        }
        let (top, bottom) = (self.display_row(0), self.display_row(1));
        if (&top, &bottom) == (&before.0, &before.1) {
            return Vec::new();
        }
        vec![Change::Display { top, bottom }]
    }

    fn set_led(&mut self, key: Key, led: Led) -> Vec<Change> {
        let Some(fpk) = key.fpk_number() else {
            return Vec::new();
        };
        // An LED never set is off: setting it off is no change.
        let previous = self.leds.insert(fpk, led).unwrap_or(Led::Off);
        if previous == led {
            return Vec::new();
        }
        let label = self.labels.get(&fpk).cloned();
        vec![Change::Led { fpk, label, led }]
    }

    /// Labels of level 0 only: the gateway shows one level of keys.
    fn set_labels(&mut self, set: &SetFpkText) -> Vec<Change> {
        if set.level != 0 {
            return Vec::new();
        }
        let mut changes = Vec::new();
        for label in &set.labels {
            let Some(fpk) = label.key.fpk_number() else {
                continue;
            };
            let text = label.text.to_string();
            if self.labels.get(&fpk) != Some(&text) {
                self.labels.insert(fpk, text.clone());
                changes.push(Change::Label { fpk, text });
            }
        }
        changes
    }

    /// Display row `row` for printing: trimmed, with control characters
    /// shown as '?' so that one change stays one line.
    pub fn display_row(&self, row: usize) -> String {
        let text: String = self
            .rows
            .get(row)
            .into_iter()
            .flatten()
            .map(|&ch| if ch.is_control() { '?' } else { ch })
            .collect();
        text.trim().to_owned()
    }

    pub fn label(&self, fpk: u8) -> Option<&str> {
        self.labels.get(&fpk).map(String::as_str)
    }

    /// The LED of function key `fpk`; off until the gateway sets it.
    pub fn led(&self, fpk: u8) -> Led {
        self.leds.get(&fpk).copied().unwrap_or(Led::Off)
    }

    pub fn ringer(&self) -> bool {
        self.ringer
    }

    /// The tone playing, if any.
    pub fn tone(&self) -> Option<ToneKind> {
        self.tone
    }

    /// The clock shown, if any.
    pub fn clock(&self) -> Option<ClockShown> {
        self.clock
    }

    /// The media path while it is up (direction other than none).
    pub fn media(&self) -> Option<&SetPayload> {
        self.media.as_ref()
    }

    pub fn hook(&self) -> Hook {
        self.hook
    }

    /// Whether a call holds the phone while the handset is down: dialled on
    /// the pad or answered with the line key, the call runs handsfree. The
    /// gateway shows it as it shows any call on this phone: a tone, the
    /// media path, or the lit line key.
    pub fn handsfree(&self) -> bool {
        let line_lit = self
            .labels
            .iter()
            .find(|(_, label)| label.as_str() == LINE_KEY_LABEL)
            .is_some_and(|(fpk, _)| self.led(*fpk) == Led::On);
        self.hook == Hook::OnHook && (self.media.is_some() || self.tone.is_some() || line_lit)
    }

    /// Lifts the handset: records it and returns the stimulus to send.
    pub fn off_hook(&mut self) -> Message {
        self.hook = Hook::OffHook;
        Stimulus::OffHook.into()
    }

    /// Puts the handset down: records it and returns the stimulus to send.
    pub fn on_hook(&mut self) -> Message {
        self.hook = Hook::OnHook;
        Stimulus::OnHook.into()
    }
}

/// The key press of a dial-pad character (`0`-`9`, `*`, `#`).
pub fn press_digit(ch: char) -> Option<Message> {
    Key::from_digit(ch).map(|key| Stimulus::KeyPress(key).into())
}

/// The key press of function key `n` (1-20).
pub fn press_feature(n: u8) -> Option<Message> {
    Key::fpk(n).map(|key| Stimulus::KeyPress(key).into())
}

#[cfg(test)]
mod tests;
