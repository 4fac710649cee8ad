//! The expectations of the waiting steps, read from what a party shows:
//! each check says `Ok` once it holds, or what is seen instead.

use shared::portal::CallState;

use super::model::{Action, CallStateName, ToneName};
use super::party::{HfaRun, PortalRun, Running};
use crate::hfa::indicators::ToneKind;
use crate::hfa::phone_model::PhoneModel;

/// The HFA function key that holds a call shows this while one is held.
const RETRIEVE_LABEL: &str = "Retrieve";

/// A phone's call state as its user reads it from the display, the keys,
/// the tone and the media.
pub fn hfa_call_state(model: &PhoneModel) -> CallStateName {
    let holding = (1..=20).any(|fpk| model.label(fpk) == Some(RETRIEVE_LABEL));
    match model.tone() {
        _ if model.media().is_some() => CallStateName::Connected,
        _ if model.ringer() => CallStateName::Ringing,
        Some(ToneKind::RingBack) => CallStateName::Calling,
        Some(ToneKind::Busy | ToneKind::Congestion) => CallStateName::Ended,
        _ if holding || model.display_row(1) == "On hold" => CallStateName::Held,
        Some(ToneKind::Dial) => CallStateName::Dialing,
        _ => CallStateName::Idle,
    }
}

fn portal_call_state(run: &PortalRun) -> CallStateName {
    match run.call.as_ref().map(|view| view.state) {
        None | Some(CallState::Idle) => CallStateName::Idle,
        Some(CallState::Dialing) => CallStateName::Dialing,
        Some(CallState::Calling) => CallStateName::Calling,
        Some(CallState::Ringing) => CallStateName::Ringing,
        Some(CallState::Connected) => CallStateName::Connected,
        Some(CallState::Held) => CallStateName::Held,
        Some(CallState::Ended) => CallStateName::Ended,
    }
}

fn tone_name(tone: Option<ToneKind>) -> Option<ToneName> {
    match tone {
        None => Some(ToneName::None),
        Some(ToneKind::Dial) => Some(ToneName::Dial),
        Some(ToneKind::RingBack) => Some(ToneName::RingBack),
        Some(ToneKind::Busy) => Some(ToneName::Busy),
        Some(ToneKind::Congestion) => Some(ToneName::Congestion),
        Some(ToneKind::Other(_)) => None,
    }
}

/// What the waiting `action` expects, in words.
pub fn expected(action: &Action) -> String {
    match action {
        Action::Register { refused: None, .. } => "a registration".to_owned(),
        Action::Register {
            refused: Some(text),
            ..
        } => format!("the registration refused with {text:?}"),
        Action::ExpectDisplay { top, bottom, .. } => {
            let rows: Vec<String> = [("top", top), ("bottom", bottom)]
                .into_iter()
                .filter_map(|(row, text)| text.as_ref().map(|t| format!("{row} row with {t:?}")))
                .collect();
            format!("the display's {}", rows.join(" and "))
        }
        Action::ExpectCall { state, reason, .. } => {
            let state = state_name(*state);
            match reason {
                Some(reason) => format!("call state {state} with the reason {reason:?}"),
                None => format!("call state {state}"),
            }
        }
        Action::ExpectTone { tone, .. } => format!(
            "tone {}",
            serde_json::to_value(tone)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default()
        ),
        Action::ExpectStatus { text, .. } => format!("a status with {text:?}"),
        Action::WaitFor { line, .. } => format!("a line with {line:?}"),
        Action::Quality {
            min_mos,
            max_loss_percent,
            max_jitter_ms,
            packets,
            ..
        } => {
            let mut bounds = Vec::new();
            bounds.extend(min_mos.map(|v| format!("MOS >= {v}")));
            bounds.extend(max_loss_percent.map(|v| format!("loss <= {v} %")));
            bounds.extend(max_jitter_ms.map(|v| format!("jitter <= {v} ms")));
            format!("{} after {packets} packets received", bounds.join(", "))
        }
        other => other.name().to_owned(),
    }
}

/// Where a waiting step stands.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// The expectation holds.
    Holds,
    /// Not yet: what is seen instead (waiting goes on).
    NotYet(String),
    /// Missed for good: the figures were measured and miss the bound.
    Missed(String),
}

/// Whether the waiting `action` holds for `party` now. `line` is the line
/// the party just printed, if any.
pub fn check(action: &Action, party: &Running, line: Option<&str>) -> Verdict {
    match (action, party) {
        (Action::ExpectDisplay { top, bottom, .. }, Running::Hfa(run)) => {
            let holds = |row: usize, text: &Option<String>| {
                text.as_ref()
                    .is_none_or(|text| run.model.display_row(row).contains(text.as_str()))
            };
            holds_if(holds(0, top) && holds(1, bottom), || hfa_seen(run))
        }
        (Action::ExpectCall { state, reason, .. }, _) => {
            let (now, why) = match party {
                Running::Hfa(run) => (
                    hfa_call_state(&run.model),
                    format!("{} {}", run.model.display_row(0), run.model.display_row(1)),
                ),
                Running::Portal(run) => (
                    portal_call_state(run),
                    run.call
                        .as_ref()
                        .and_then(|view| view.reason.clone())
                        .unwrap_or_default(),
                ),
            };
            let reason_holds = reason
                .as_ref()
                .is_none_or(|reason| why.contains(reason.as_str()));
            holds_if(now == *state && reason_holds, || {
                format!("call state {} ({})", state_name(now), seen(party))
            })
        }
        (Action::ExpectTone { tone, .. }, Running::Hfa(run)) => {
            holds_if(tone_name(run.model.tone()) == Some(*tone), || hfa_seen(run))
        }
        (Action::ExpectStatus { text, .. }, Running::Portal(run)) => holds_if(
            run.status
                .as_ref()
                .is_some_and(|status| status.to_string().contains(text.as_str())),
            || seen(party),
        ),
        (Action::WaitFor { line: wanted, .. }, _) => holds_if(
            line.is_some_and(|line| line.contains(wanted.as_str())),
            || format!("no such line ({})", seen(party)),
        ),
        (
            Action::Quality {
                min_mos,
                max_loss_percent,
                max_jitter_ms,
                packets,
                ..
            },
            _,
        ) => match party.quality() {
            Some(stats) if stats.received >= *packets => {
                let loss = stats.loss_fraction * 100.0;
                let holds = min_mos.is_none_or(|min| stats.mos >= min)
                    && max_loss_percent.is_none_or(|max| loss <= max)
                    && max_jitter_ms.is_none_or(|max| stats.jitter_ms <= max);
                if holds {
                    Verdict::Holds
                } else {
                    Verdict::Missed(format!(
                        "MOS {:.2}, loss {loss:.2} %, jitter {:.1} ms over {} packets",
                        stats.mos, stats.jitter_ms, stats.received
                    ))
                }
            }
            Some(stats) => Verdict::NotYet(format!("{} packets received so far", stats.received)),
            None => Verdict::NotYet("no media figures yet".to_owned()),
        },
        _ => Verdict::Missed(format!("{} cannot be checked on this party", action.name())),
    }
}

fn holds_if(holds: bool, seen: impl FnOnce() -> String) -> Verdict {
    if holds {
        Verdict::Holds
    } else {
        Verdict::NotYet(seen())
    }
}

/// The call state as scenario files name it.
pub fn state_name(state: CallStateName) -> String {
    serde_json::to_value(state)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// What the party shows now, for a failure message.
pub fn seen(party: &Running) -> String {
    match party {
        Running::Hfa(run) => hfa_seen(run),
        Running::Portal(run) => {
            let status = run
                .status
                .as_ref()
                .map_or_else(|| "no status yet".to_owned(), ToString::to_string);
            let call = match &run.call {
                Some(view) => format!(
                    "call {}{}",
                    state_name(portal_call_state(run)),
                    view.reason
                        .as_ref()
                        .map(|reason| format!(" ({reason})"))
                        .unwrap_or_default()
                ),
                None => "no call".to_owned(),
            };
            format!("status \"{status}\", {call}")
        }
    }
}

fn hfa_seen(run: &HfaRun) -> String {
    let model = &run.model;
    let tone = model
        .tone()
        .map_or_else(|| "none".to_owned(), |tone| tone.to_string());
    let registration = match (run.registered, run.declined) {
        (true, _) => "registered".to_owned(),
        (false, Some(cause)) => format!("declined: {}", cause.describe()),
        (false, None) => match &run.last_event {
            Some(line) => format!("not registered (last: {line})"),
            None => "not registered".to_owned(),
        },
    };
    format!(
        "display \"{}\" / \"{}\", tone {tone}, ringer {}, media {}, {registration}",
        model.display_row(0),
        model.display_row(1),
        if model.ringer() { "on" } else { "off" },
        if model.media().is_some() {
            "up"
        } else {
            "down"
        },
    )
}

#[cfg(test)]
mod tests {
    use shared::hfa::stimulus::{Cadence, StartTone, ToneCadence, ToneFlags};
    use shared::hfa::{Message, Stimulus};

    use super::*;

    fn tone(pulse: u8, pause: u8) -> Message {
        Stimulus::StartTone(StartTone {
            flags: ToneFlags {
                mode: 0,
                looped: true,
                volume: 16,
            },
            frequencies: [7, 0, 0],
            cadence: ToneCadence::Single(Cadence { pulse, pause }),
        })
        .into()
    }

    fn labelled(fpk: u8, text: &str) -> Message {
        use shared::hfa::stimulus::{FpkLabel, SetFpkText};
        use shared::hfa::{Key, Text};
        Stimulus::SetFpkText(SetFpkText {
            level: 0,
            labels: vec![FpkLabel {
                key: Key::fpk(fpk).expect("a function key"),
                text: Text::new(text).expect("Latin-1"),
            }],
        })
        .into()
    }

    #[test]
    fn an_hfa_phone_s_call_state_is_read_from_its_tones_and_keys() {
        let mut model = PhoneModel::new();
        assert_eq!(hfa_call_state(&model), CallStateName::Idle);
        model.apply(&tone(40, 0));
        assert_eq!(hfa_call_state(&model), CallStateName::Dialing);
        model.apply(&tone(40, 160));
        assert_eq!(hfa_call_state(&model), CallStateName::Calling);
        model.apply(&tone(10, 10));
        assert_eq!(hfa_call_state(&model), CallStateName::Ended, "congestion");
        model.apply(&Stimulus::StopTone.into());
        model.apply(&labelled(2, RETRIEVE_LABEL));
        assert_eq!(hfa_call_state(&model), CallStateName::Held);
        model.apply(&tone(40, 0));
        assert_eq!(
            hfa_call_state(&model),
            CallStateName::Held,
            "a consultation's dial tone with a call held"
        );
        model.apply(&labelled(2, "Hold"));
        assert_eq!(hfa_call_state(&model), CallStateName::Dialing);
    }
}
