//! What each line's device should show, derived from call control's state,
//! and the indications that take a device from one screen to the next.
//!
//! Deriving the screen (instead of sending indications from every event
//! handler) keeps the device in step with the gateway by construction: after
//! any event, every affected line is re-derived and only what changed is
//! sent, always in the same order.

use super::indication::{
    CallId, ClockKind, DisplayRow, FeatureKey, Indication, Lamp, MediaIndication, Tone,
};
use super::media::RemoteMedia;
use super::model::{Call, CallState, Failure, Line, LineState, Party, Purpose};

/// Everything a device shows or plays.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Screen {
    pub top: String,
    pub bottom: String,
    pub clock: ClockKind,
    pub tone: Tone,
    pub ringer: bool,
    /// The call whose media flows, and where to send it (if known).
    pub media: Option<(CallId, Option<RemoteMedia>)>,
    pub line_lamp: Lamp,
    pub hold_lamp: Lamp,
    pub forward_lamp: Lamp,
    /// "Hold", or "Retrieve" while a call is held.
    pub hold_label: &'static str,
}

/// What screens need to know about the parties of calls.
pub trait Directory {
    /// "202 Ben" for a subscriber, the digits for an external number.
    fn label(&self, party: &Party) -> String;
    /// Where and how the device `own` sends the media of `call`, when both
    /// ends announced theirs.
    fn media_for(&self, call: &Call, own: &str) -> Option<RemoteMedia>;
}

impl Screen {
    /// The screen of `line` (number `own`), given the call it is in.
    pub fn of(own: &str, line: &Line, call: Option<&Call>, names: &impl Directory) -> Self {
        let held = line.held.is_some();
        let mut screen = Self {
            top: format!("{own} {}", line.name),
            bottom: String::new(),
            clock: ClockKind::Hidden,
            tone: Tone::Silence,
            ringer: false,
            media: None,
            line_lamp: Lamp::On,
            hold_lamp: if held { Lamp::Winking } else { Lamp::Off },
            forward_lamp: if line.forward.is_some() {
                Lamp::On
            } else {
                Lamp::Off
            },
            hold_label: if held {
                "Retrieve"
            } else {
                FeatureKey::Hold.label()
            },
        };
        match (&line.state, call) {
            (LineState::Idle, _) => {
                screen.line_lamp = Lamp::Off;
                screen.clock = ClockKind::TimeOfDay;
                if let Some(destination) = &line.forward {
                    screen.bottom = format!("Forwarded to {destination}");
                }
            }
            (
                LineState::Dialing {
                    digits, purpose, ..
                },
                _,
            ) => {
                screen.top = match (purpose, held) {
                    (Purpose::Forward, _) => "Forward to:".into(),
                    (Purpose::Call, true) => "Consultation".into(),
                    (Purpose::Call, false) => "Enter number".into(),
                };
                screen.bottom = digits.clone();
                if digits.is_empty() && *purpose == Purpose::Call {
                    screen.tone = Tone::Dial;
                }
            }
            (LineState::InCall(id), Some(call)) => screen.in_call(own, *id, call, names),
            (LineState::InCall(_), None) => {}
            (LineState::Failed { failure, .. }, _) => {
                (screen.top, screen.tone) = failure_text(failure);
                // Which rule refused the number, below "Not allowed".
                if let Failure::NotAllowed(refusal) = failure {
                    screen.bottom = refusal.to_string();
                }
                screen.line_lamp = Lamp::Off;
            }
        }
        screen
    }

    fn in_call(&mut self, own: &str, id: CallId, call: &Call, names: &impl Directory) {
        let other = names.label(call.other(own));
        let calling = call.a.device() == Some(own);
        match call.state {
            CallState::Alerting { .. } if calling => {
                self.top = format!("Calling {other}");
                self.tone = Tone::RingBack;
            }
            CallState::Alerting { .. } => {
                self.top = format!("Call from {other}");
                if let Some(via) = &call.via {
                    self.bottom = format!("for {}", names.label(&Party::Device(via.clone())));
                }
                self.ringer = true;
                self.line_lamp = Lamp::Flashing;
            }
            CallState::Connected if call.held_by.as_deref().is_some_and(|by| by != own) => {
                self.top = other;
                self.bottom = "On hold".into();
            }
            CallState::Connected => {
                self.top = other;
                self.bottom = "Connected".into();
                self.clock = ClockKind::CallTimer;
                self.media = Some((id, names.media_for(call, own)));
            }
        }
    }

    /// The indications that change a device from `old` (or from nothing,
    /// when it just attached) to `self`, in a fixed order: first what the
    /// user reads (display text, then the clock, which is drawn over the
    /// bottom row; labels and lamps), then media, and the sounds last, so
    /// that a phone already shows why when a busy tone starts.
    pub fn changes_from(&self, old: Option<&Screen>) -> Vec<Indication> {
        let mut out = Vec::new();
        let differs = |changed: &dyn Fn(&Screen) -> bool| old.is_none_or(changed);
        if differs(&|o: &Screen| o.top != self.top) {
            out.push(Indication::Display {
                row: DisplayRow::Top,
                text: self.top.clone(),
            });
        }
        let bottom_changed = differs(&|o: &Screen| o.bottom != self.bottom);
        if bottom_changed {
            out.push(Indication::Display {
                row: DisplayRow::Bottom,
                text: self.bottom.clone(),
            });
        }
        // Rewriting the bottom row erases a clock drawn on it.
        if differs(&|o: &Screen| o.clock != self.clock)
            || (bottom_changed && self.clock != ClockKind::Hidden)
        {
            out.push(Indication::Clock(self.clock));
        }
        if old.is_none() {
            for key in FeatureKey::ALL {
                out.push(Indication::Label {
                    key,
                    text: key.label().into(),
                });
            }
        }
        let shown_hold_label = old.map_or(FeatureKey::Hold.label(), |o| o.hold_label);
        if shown_hold_label != self.hold_label {
            out.push(Indication::Label {
                key: FeatureKey::Hold,
                text: self.hold_label.into(),
            });
        }
        for (key, lamp, was) in [
            (FeatureKey::Line, self.line_lamp, old.map(|o| o.line_lamp)),
            (FeatureKey::Hold, self.hold_lamp, old.map(|o| o.hold_lamp)),
            (
                FeatureKey::Forward,
                self.forward_lamp,
                old.map(|o| o.forward_lamp),
            ),
        ] {
            if was != Some(lamp) {
                out.push(Indication::Lamp { key, lamp });
            }
        }
        if differs(&|o: &Screen| o.media != self.media) {
            out.push(Indication::Media(match self.media {
                Some((call, remote)) => MediaIndication::Start { call, remote },
                None => MediaIndication::Stop,
            }));
        }
        if differs(&|o: &Screen| o.ringer != self.ringer) {
            out.push(Indication::Ringer(self.ringer));
        }
        if differs(&|o: &Screen| o.tone != self.tone) {
            out.push(Indication::Tone(self.tone));
        }
        out
    }
}

/// The top row and tone of a failure.
fn failure_text(failure: &Failure) -> (String, Tone) {
    match failure {
        Failure::Busy(number) => (format!("{number} busy"), Tone::Busy),
        Failure::UnknownNumber => ("Unknown number".into(), Tone::Congestion),
        Failure::NotAllowed(_) => ("Not allowed".into(), Tone::Congestion),
        Failure::NoLineFree => ("No line free".into(), Tone::Congestion),
        Failure::NotReachable(number) => (format!("{number} not reachable"), Tone::Congestion),
        Failure::Rejected(number) => (format!("{number} rejected"), Tone::Busy),
        Failure::NoAnswer(number) => (format!("{number} no answer"), Tone::Busy),
        Failure::Ended => ("Call ended".into(), Tone::Busy),
    }
}
