//! Deadlines: inter-digit, no answer, the trunk answering, a failure shown
//! on a handsfree phone; and bringing devices' screens up to date.

use std::time::Instant;

use super::{CallControl, Output, Timer};
use crate::calls::indication::CallId;
use crate::calls::model::{CallState, Failure, LineState, Party};
use crate::calls::screen::Screen;

impl CallControl {
    pub(super) fn set_line_deadline(&mut self, number: &str, deadline: Option<Instant>) {
        let timer = Timer::Line(number.to_owned());
        match deadline {
            Some(at) => self.schedule(timer, at),
            None => self.unschedule(&timer),
        }
    }

    /// Sets `timer`'s deadline, replacing the one it had.
    pub(super) fn schedule(&mut self, timer: Timer, at: Instant) {
        if let Some(old) = self.scheduled.insert(timer.clone(), at) {
            self.deadlines.remove(&(old, timer.clone()));
        }
        self.deadlines.insert((at, timer));
    }

    /// Forgets `timer`'s deadline.
    pub(super) fn unschedule(&mut self, timer: &Timer) {
        if let Some(at) = self.scheduled.remove(timer) {
            self.deadlines.remove(&(at, timer.clone()));
        }
    }

    /// Deadlines pending (for tests: they stay as few as the calls and
    /// lines in progress).
    #[cfg(test)]
    pub(crate) fn pending_deadlines(&self) -> usize {
        debug_assert_eq!(self.deadlines.len(), self.scheduled.len());
        self.deadlines.len()
    }

    /// A line's deadline passed (if it is still the line's current one).
    pub(super) fn line_timeout(&mut self, now: Instant, number: &str) {
        let Some(line) = self.lines.get_mut(number) else {
            return;
        };
        match &line.state {
            LineState::Dialing {
                digits,
                purpose,
                deadline: Some(at),
            } if *at <= now => {
                let (digits, purpose) = (digits.clone(), *purpose);
                self.dirty.insert(number.to_owned());
                if digits.is_empty() {
                    line.state = LineState::Idle;
                } else {
                    self.complete(now, number, &digits, purpose);
                }
            }
            LineState::Failed {
                until: Some(at), ..
            } if *at <= now => {
                line.state = LineState::Idle;
                self.dirty.insert(number.to_owned());
            }
            _ => {}
        }
    }

    /// A call's alerting deadline passed: the trunk answers, a subscriber
    /// did not.
    pub(super) fn call_timeout(&mut self, now: Instant, id: CallId) {
        let Some(call) = self.calls.get(&id) else {
            return;
        };
        let CallState::Alerting { until } = call.state else {
            return;
        };
        if until > now {
            return;
        }
        match &call.b {
            Party::Trunk(_) => self.answer(id),
            Party::Device(callee) => {
                let callee = callee.clone();
                let caller = call.a.device().map(str::to_owned);
                self.remove_call(id);
                if let Some(line) = self.lines.get_mut(&callee) {
                    line.state = LineState::Idle;
                }
                if let Some(caller) = caller {
                    self.fail(now, &caller, Failure::NoAnswer(callee));
                }
            }
            Party::Service(_) => self.answer(id),
        }
    }

    /// Sends every changed line the indications that bring its device to
    /// the screen call control now derives for it.
    pub(super) fn refresh(&mut self) {
        for number in std::mem::take(&mut self.dirty) {
            let Some(line) = self.lines.get(&number) else {
                continue;
            };
            let call = match line.state {
                LineState::InCall(id) => self.calls.get(&id),
                _ => None,
            };
            let screen = Screen::of(&number, line, call, &self.parties());
            let changes = screen.changes_from(line.screen.as_ref());
            for indication in changes {
                self.outputs.push_back(Output::Indicate {
                    device: number.clone(),
                    indication,
                });
            }
            if let Some(line) = self.lines.get_mut(&number) {
                line.screen = Some(screen);
            }
        }
    }

    /// Whether `number` is being alerted by call `id`.
    pub(super) fn is_ringing(&self, number: &str, id: CallId) -> bool {
        self.calls.get(&id).is_some_and(|call| {
            matches!(call.state, CallState::Alerting { .. }) && call.b.device() == Some(number)
        })
    }
}
