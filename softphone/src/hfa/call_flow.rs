//! The decisions of the headless `hfa call` and `hfa answer` commands,
//! without I/O: fed with the gateway's messages, the registration and the
//! time, it says what to send, what to print and when to stop.
//!
//! A person at an HFA phone judges a call by what the phone shows and plays,
//! and so does this flow: media starting means connected; a busy or
//! congestion tone before that means the call failed, and the display says
//! why ("202 busy", "Not allowed"): the gateway writes the display before it
//! starts a tone, so the reason is there when the tone starts.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use shared::hfa::{Key, Message};

use super::indicators::{Hook, ToneKind};
use super::phone_model::{Change, PhoneModel, press_digit};

/// What the command is to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
    /// Dial `number`, then hang up `hangup_after` after it connects.
    Call {
        number: String,
        hangup_after: Duration,
    },
    /// Answer the first call; hang up after `hangup_after`, or else when
    /// the other side ends the call.
    Answer { hangup_after: Option<Duration> },
}

impl Plan {
    /// A call to `number`, which must be dial-pad characters (`0-9*#`).
    pub fn call(number: &str, hangup_after: Duration) -> Result<Self, NotDialable> {
        if number.is_empty() || !number.chars().all(|ch| Key::from_digit(ch).is_some()) {
            return Err(NotDialable(number.to_owned()));
        }
        Ok(Self::Call {
            number: number.to_owned(),
            hangup_after,
        })
    }
}

/// A number with characters a dial pad does not have.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a number to dial: use the digits 0-9, * and #")]
pub struct NotDialable(pub String);

/// How the command ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The call connected (and was hung up as planned).
    Connected,
    /// The call did not connect, or ended early; the reason in words.
    Failed(String),
}

/// What the driver does, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Send this stimulus to the gateway.
    Send(Message),
    /// Print this line on stdout.
    Print(String),
    /// Stop the phone and exit with this outcome.
    Finish(Outcome),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Waiting to be registered (call) or for the ringer (answer).
    Idle,
    /// Off-hook: dialled or answered; waiting for media.
    Connecting,
    /// Media is up; hang up at `hangup_at`, if set.
    Connected {
        hangup_at: Option<Instant>,
    },
    Done,
}

/// The decision logic of one headless call, owning the phone model. Sans-IO
/// like every engine here: inputs in (`registered`, `received`, ...,
/// `handle_timeout`), actions out through [`CallFlow::poll_action`].
#[derive(Debug)]
pub struct CallFlow {
    plan: Plan,
    phase: Phase,
    model: PhoneModel,
    actions: VecDeque<Action>,
}

impl CallFlow {
    pub fn new(plan: Plan) -> Self {
        Self {
            plan,
            phase: Phase::Idle,
            model: PhoneModel::new(),
            actions: VecDeque::new(),
        }
    }

    /// The next thing the driver is to do, in order.
    pub fn poll_action(&mut self) -> Option<Action> {
        self.actions.pop_front()
    }

    pub fn model(&self) -> &PhoneModel {
        &self.model
    }

    /// The phone registered: a call starts dialling.
    pub fn registered(&mut self) {
        let Plan::Call { number, .. } = &self.plan else {
            return;
        };
        if self.phase != Phase::Idle {
            return;
        }
        let keys: Vec<Message> = number
            .chars()
            .chain(['#'])
            .filter_map(press_digit)
            .collect();
        self.go_off_hook();
        self.actions.extend(keys.into_iter().map(Action::Send));
    }

    /// A message from the gateway: prints each change, then decides on it.
    pub fn received(&mut self, now: Instant, message: &Message) {
        for change in self.model.apply(message) {
            self.actions.push_back(Action::Print(change.to_string()));
            self.changed(now, &change);
        }
    }

    /// Decides on one change of the phone model.
    pub fn changed(&mut self, now: Instant, change: &Change) {
        let answering = matches!(self.plan, Plan::Answer { .. });
        let failure_tone = match change {
            Change::Tone(Some(tone @ (ToneKind::Busy | ToneKind::Congestion))) => Some(*tone),
            _ => None,
        };
        let media_stopped = matches!(change, Change::Media(None));
        match self.phase {
            Phase::Idle if answering && *change == Change::Ringer(true) => {
                self.phase = Phase::Connecting;
                self.go_off_hook()
            }
            Phase::Connecting if matches!(change, Change::Media(Some(_))) => {
                let hangup_after = match &self.plan {
                    Plan::Call { hangup_after, .. } => Some(*hangup_after),
                    Plan::Answer { hangup_after } => *hangup_after,
                };
                self.phase = Phase::Connected {
                    hangup_at: hangup_after.map(|after| now + after),
                };
                self.actions.push_back(Action::Print("connected".into()));
            }
            Phase::Connected { .. } if answering && (failure_tone.is_some() || media_stopped) => {
                self.hang_up(Outcome::Connected)
            }
            Phase::Connecting | Phase::Connected { .. }
                if failure_tone.is_some() || media_stopped =>
            {
                let reason = self.reason(failure_tone);
                self.hang_up(Outcome::Failed(reason));
            }
            _ => {}
        }
    }

    /// When [`handle_timeout`](Self::handle_timeout) is due next.
    pub fn poll_timeout(&self) -> Option<Instant> {
        match self.phase {
            Phase::Connected { hangup_at } => hangup_at,
            _ => None,
        }
    }

    pub fn handle_timeout(&mut self, now: Instant) {
        if let Phase::Connected {
            hangup_at: Some(at),
        } = self.phase
            && at <= now
        {
            self.hang_up(Outcome::Connected);
        }
    }

    /// The user pressed Ctrl-C: hang up; a success only if a call connected.
    pub fn interrupted(&mut self) {
        match self.phase {
            Phase::Connected { .. } => self.hang_up(Outcome::Connected),
            _ => self.hang_up(Outcome::Failed(
                "interrupted before a call connected".into(),
            )),
        }
    }

    /// The connection to the gateway broke: a call in progress is lost (the
    /// client reconnects, so before the call the flow just waits).
    pub fn connection_lost(&mut self, why: &str) {
        if !matches!(self.phase, Phase::Idle | Phase::Done) {
            self.hang_up(Outcome::Failed(format!("connection lost: {why}")));
        }
    }

    /// The gateway's reason: the bottom row, or the top row if the bottom
    /// one is empty (our gateway shows "202 busy" on top and clears the
    /// bottom row); the tone if the display is blank.
    fn reason(&self, tone: Option<ToneKind>) -> String {
        let shown = [1, 0]
            .map(|row| self.model.display_row(row))
            .into_iter()
            .find(|text| !text.is_empty());
        if let Some(text) = shown {
            return text;
        }
        match tone {
            Some(tone) => format!("{tone} tone"),
            None => "the call ended".into(),
        }
    }

    fn go_off_hook(&mut self) {
        self.phase = Phase::Connecting;
        let message = self.model.off_hook();
        self.actions
            .push_back(Action::Print(format!("hook: {}", Hook::OffHook)));
        self.actions.push_back(Action::Send(message));
    }

    /// Goes on-hook if off-hook, and finishes.
    fn hang_up(&mut self, outcome: Outcome) {
        self.phase = Phase::Done;
        if self.model.hook() == Hook::OffHook {
            let message = self.model.on_hook();
            self.actions
                .push_back(Action::Print(format!("hook: {}", Hook::OnHook)));
            self.actions.push_back(Action::Send(message));
        }
        self.actions.push_back(Action::Finish(outcome));
    }
}

#[cfg(test)]
mod tests;
