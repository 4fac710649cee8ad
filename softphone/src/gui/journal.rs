//! The call journal: missed, received and dialled calls with their time
//! and duration, kept in the profile across restarts.
//!
//! Like a desk phone's own journal it is read off what the phone shows,
//! not from any call logic of ours: the ringer and "Call from ..." make an
//! incoming call, going off-hook and pressing digits an outgoing one, media
//! flowing makes it connected, and the phone back on-hook, silent and
//! without media ends it.

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::settings::{Profile, ProfileError};
use crate::hfa::{Change, Hook, Led, PhoneModel};

/// How many calls the journal keeps (the oldest go first).
const KEEP: usize = 200;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    Missed,
    Received,
    Dialled,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Self::Missed => "Missed",
            Self::Received => "Received",
            Self::Dialled => "Dialled",
        }
    }
}

/// One call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub kind: Kind,
    /// What to dial to call back (empty when the caller's number is unknown).
    pub number: String,
    /// What the phone showed for the other side ("202 Ben", "Echo test").
    pub label: String,
    /// When the call began, local time, e.g. "2026-11-20 14:03".
    pub time: String,
    /// How long it was connected, whole seconds (0 when it never was).
    pub seconds: u64,
}

/// The journal, newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Journal {
    #[serde(default, rename = "call")]
    pub entries: Vec<Entry>,
}

impl Journal {
    /// The profile's journal; empty when there is none yet or it cannot be
    /// read (a journal is not worth refusing to start over).
    pub fn load(profile: &Profile) -> Self {
        std::fs::read_to_string(profile.journal_path())
            .ok()
            .and_then(|text| toml::from_str(&text).ok())
            .unwrap_or_default()
    }

    pub fn save(&self, profile: &Profile) -> Result<(), ProfileError> {
        let text = toml::to_string(self).unwrap_or_default();
        profile.write("journal.toml", &text, 0o600)
    }

    /// Records a finished call.
    pub fn record(&mut self, entry: Entry) {
        self.entries.insert(0, entry);
        self.entries.truncate(KEEP);
    }
}

/// A call being followed.
#[derive(Debug, Clone)]
struct Current {
    incoming: bool,
    digits: String,
    label: String,
    time: String,
    connected: Option<Instant>,
    duration: Duration,
    /// The Line key's lamp has been lit for this call: its going dark
    /// (with the phone at rest) ends the call, while a first digit's
    /// display change, before the lamp lights, does not.
    line_seen: bool,
}

/// Follows the phone and writes a journal entry when a call is over.
#[derive(Debug, Default)]
pub struct Tracker {
    current: Option<Current>,
}

impl Tracker {
    /// The user pressed a dial-pad key while off-hook.
    pub fn dialled(&mut self, digit: char, now_local: impl FnOnce() -> String) {
        let current = self.current.get_or_insert_with(|| Current {
            incoming: false,
            digits: String::new(),
            label: String::new(),
            time: now_local(),
            connected: None,
            duration: Duration::ZERO,
            line_seen: false,
        });
        if !current.incoming && current.connected.is_none() {
            current.digits.push(digit);
        }
    }

    /// Reads `changes` (already applied to `model`); the finished call, if
    /// one ended.
    pub fn changed(
        &mut self,
        now: Instant,
        changes: &[Change],
        model: &PhoneModel,
        now_local: impl FnOnce() -> String,
    ) -> Option<Entry> {
        for change in changes {
            match change {
                Change::Ringer(true) if self.current.is_none() => {
                    let top = model.display_row(0);
                    let label = top.strip_prefix("Call from ").unwrap_or(&top).to_owned();
                    self.current = Some(Current {
                        incoming: true,
                        digits: String::new(),
                        label,
                        time: now_local(),
                        connected: None,
                        duration: Duration::ZERO,
                        line_seen: true,
                    });
                    return None;
                }
                Change::Media(Some(_)) => {
                    if let Some(current) = &mut self.current {
                        current.connected.get_or_insert(now);
                        let top = model.display_row(0);
                        if !top.is_empty() {
                            current.label = top;
                        }
                    }
                }
                Change::Media(None) => {
                    if let Some(current) = &mut self.current
                        && let Some(since) = current.connected
                    {
                        current.duration = now.saturating_duration_since(since);
                    }
                }
                _ => {}
            }
        }
        self.finish_if_idle(model)
    }

    /// The user changed the hook switch; the finished call, if one ended.
    pub fn hook_changed(&mut self, model: &PhoneModel) -> Option<Entry> {
        self.finish_if_idle(model)
    }

    /// A call is over when the phone is back to rest: on-hook, silent, no
    /// media, and the Line key's lamp off (the gateway keeps it lit while
    /// dialling and in a call, and flashing while a call rings).
    fn finish_if_idle(&mut self, model: &PhoneModel) -> Option<Entry> {
        let line_lit =
            (1..=20).any(|fpk| model.label(fpk) == Some("Line") && model.led(fpk) != Led::Off);
        let current = self.current.as_mut()?;
        current.line_seen |= line_lit;
        if !current.line_seen
            || model.hook() == Hook::OffHook
            || model.ringer()
            || model.media().is_some()
            || line_lit
        {
            return None;
        }
        let current = self.current.take()?;
        let kind = match (current.incoming, current.connected.is_some()) {
            (true, false) => Kind::Missed,
            (true, true) => Kind::Received,
            (false, _) => Kind::Dialled,
        };
        let digits = current.digits.trim_end_matches('#').to_owned();
        if kind == Kind::Dialled && digits.is_empty() {
            return None; // lifted and put down: no call
        }
        let number = if current.incoming {
            caller_number(&current.label)
        } else {
            digits.clone()
        };
        let label = if current.label.is_empty() {
            digits
        } else {
            current.label
        };
        Some(Entry {
            kind,
            number,
            label,
            time: current.time,
            seconds: current.duration.as_secs(),
        })
    }
}

/// The number at the start of a caller's label ("202 Ben" → "202"), if the
/// label starts with one.
fn caller_number(label: &str) -> String {
    let first = label.split_whitespace().next().unwrap_or_default();
    if !first.is_empty()
        && first
            .chars()
            .all(|ch| ch.is_ascii_digit() || ch == '*' || ch == '#' || ch == '+')
    {
        first.trim_start_matches('+').to_owned()
    } else {
        String::new()
    }
}

/// A duration as the journal shows it: "0:42", "1:02:03".
pub fn format_duration(seconds: u64) -> String {
    let (h, m, s) = (seconds / 3600, seconds / 60 % 60, seconds % 60);
    if h > 0 {
        format!("{h}:{m:02}:{s:02}")
    } else {
        format!("{m}:{s:02}")
    }
}

#[cfg(test)]
mod tests {
    use shared::hfa::Stimulus;
    use shared::hfa::stimulus::{Cadence, RingerSound, RingerVolume, StartRinger};

    use super::*;

    #[test]
    fn callers_and_durations_read_as_people_write_them() {
        assert_eq!(caller_number("202 Ben"), "202");
        assert_eq!(caller_number("Echo test"), "");
        assert_eq!(format_duration(42), "0:42");
        assert_eq!(format_duration(3723), "1:02:03");
    }

    #[test]
    fn a_ringing_call_nobody_answers_is_missed() {
        let mut model = PhoneModel::new();
        let mut tracker = Tracker::default();
        let now = Instant::now();
        let ringer = |on: bool| -> shared::hfa::Message {
            if on {
                Stimulus::StartRinger(StartRinger {
                    volume: RingerVolume(0x94),
                    sound: RingerSound(0x30),
                    cadence: Cadence {
                        pulse: 20,
                        pause: 80,
                    },
                    second: None,
                })
                .into()
            } else {
                Stimulus::StopRinger.into()
            }
        };
        let changes = model.apply(&ringer(true));
        assert_eq!(changes, [Change::Ringer(true)]);
        assert!(
            tracker
                .changed(now, &changes, &model, String::new)
                .is_none()
        );
        let changes = model.apply(&ringer(false));
        let entry = tracker
            .changed(now, &changes, &model, String::new)
            .expect("the call ended");
        assert_eq!(entry.kind, Kind::Missed);
        assert_eq!(entry.seconds, 0);
    }

    #[test]
    fn the_journal_keeps_the_newest_first_and_a_bounded_number() {
        let mut journal = Journal::default();
        for n in 0..KEEP + 3 {
            journal.record(Entry {
                kind: Kind::Dialled,
                number: n.to_string(),
                label: n.to_string(),
                time: String::new(),
                seconds: 0,
            });
        }
        assert_eq!(journal.entries.len(), KEEP);
        assert_eq!(journal.entries[0].number, (KEEP + 2).to_string());
        let text = toml::to_string(&journal).expect("serialises");
        assert_eq!(toml::from_str::<Journal>(&text).expect("parses"), journal);
    }
}
