//! Placing, answering and ending calls.

use std::time::Instant;

use super::{CallControl, CallEvent, Timer};
use crate::calls::dialplan::Analysis;
use crate::calls::indication::CallId;
use crate::calls::model::{Call, CallState, Failure, LineState, Party};
use crate::calls::screen::Directory;
use crate::config::cos::CallClass;

impl CallControl {
    /// Calls what `digits` (analysed as `analysis`) lead to from `number`.
    pub(super) fn place(&mut self, now: Instant, number: &str, analysis: Analysis) {
        let caller = Party::Device(number.to_owned());
        let outcome = match analysis {
            Analysis::Internal(callee) => self.call_subscriber(now, caller, &callee),
            Analysis::External {
                number: external,
                class,
            } => {
                if self.may_dial(number, class) {
                    self.call_trunk(now, caller, external, None)
                } else {
                    self.barred(number, &external, class, false);
                    Err(Failure::NotAllowed)
                }
            }
            Analysis::Service(service) => Ok(self.new_call(Call {
                a: caller,
                b: Party::Service(service),
                state: CallState::Connected,
                held_by: None,
                via: None,
            })),
            Analysis::Incomplete | Analysis::Unknown => Err(Failure::UnknownNumber),
        };
        match outcome {
            Ok(id) => {
                if let Some(line) = self.lines.get_mut(number) {
                    line.state = LineState::InCall(id);
                }
                self.touch_call(id);
                self.connected_event(id);
            }
            Err(failure) => self.fail(now, number, failure),
        }
    }

    /// Rings `callee`, or where its forwarding points.
    fn call_subscriber(
        &mut self,
        now: Instant,
        caller: Party,
        callee: &str,
    ) -> Result<CallId, Failure> {
        let Some(line) = self.lines.get(callee) else {
            return Err(Failure::NotReachable(callee.to_owned()));
        };
        let caller_number = caller.device().unwrap_or_default().to_owned();
        if let Some(target) = line.forward.clone() {
            match self.plan.analyse(&target) {
                Analysis::Internal(next) if next != caller_number && next != callee => {
                    return self.ring(now, caller, &next, Some(callee.to_owned()));
                }
                Analysis::External { number, class } => {
                    // Checked when programmed; checked again in case the
                    // class of service was reduced since (guide 2.2).
                    if !self.may_dial(callee, class) {
                        self.barred(callee, &number, class, true);
                        return Err(Failure::NotAllowed);
                    }
                    return self.call_trunk(now, caller, number, Some(callee.to_owned()));
                }
                _ => {}
            }
        }
        if callee == caller_number {
            return Err(Failure::Busy(callee.to_owned()));
        }
        self.ring(now, caller, callee, None)
    }

    fn ring(
        &mut self,
        now: Instant,
        caller: Party,
        callee: &str,
        via: Option<String>,
    ) -> Result<CallId, Failure> {
        match self.lines.get(callee) {
            None => return Err(Failure::NotReachable(callee.to_owned())),
            Some(line) if !line.is_free() => return Err(Failure::Busy(callee.to_owned())),
            Some(_) => {}
        }
        let until = now + self.timers.no_answer;
        let id = self.new_call(Call {
            a: caller,
            b: Party::Device(callee.to_owned()),
            state: CallState::Alerting { until },
            held_by: None,
            via,
        });
        if let Some(line) = self.lines.get_mut(callee) {
            line.state = LineState::InCall(id);
        }
        self.deadlines.insert((until, Timer::Call(id)));
        Ok(id)
    }

    /// An external call on the test trunk, if a channel is free.
    fn call_trunk(
        &mut self,
        now: Instant,
        caller: Party,
        number: String,
        via: Option<String>,
    ) -> Result<CallId, Failure> {
        if self.trunk_channels_in_use() >= self.trunk_channels {
            return Err(Failure::NoLineFree);
        }
        let until = now + self.timers.trunk_answer;
        let id = self.new_call(Call {
            a: caller,
            b: Party::Trunk(number),
            state: CallState::Alerting { until },
            held_by: None,
            via,
        });
        self.deadlines.insert((until, Timer::Call(id)));
        Ok(id)
    }

    pub(super) fn answer(&mut self, id: CallId) {
        if let Some(call) = self.calls.get_mut(&id) {
            call.state = CallState::Connected;
            self.touch_call(id);
            self.connected_event(id);
        }
    }

    /// Ends call `id` because `by` left: every other device shows it.
    pub(super) fn end_call(&mut self, id: CallId, by: &str) {
        let Some(call) = self.remove_call(id) else {
            return;
        };
        for device in call.devices().filter(|device| *device != by) {
            let Some(line) = self.lines.get_mut(device) else {
                continue;
            };
            if line.held == Some(id) {
                line.held = None;
            }
            if matches!(line.state, LineState::InCall(current) if current == id) {
                line.state = if line.off_hook {
                    LineState::Failed {
                        failure: Failure::Ended,
                        until: None,
                    }
                } else {
                    LineState::Idle
                };
            }
            self.dirty.insert(device.to_owned());
        }
        self.outputs
            .push_back(super::Output::Event(CallEvent::Released {
                call: id,
                by: by.to_owned(),
            }));
    }

    /// Ends call `id` for everyone except `by` without a "call ended"
    /// screen for the others (retrieving a held call ends the consultation).
    pub(super) fn end_call_quietly(&mut self, id: CallId, by: &str) {
        let Some(call) = self.remove_call(id) else {
            return;
        };
        for device in call.devices().filter(|device| *device != by) {
            if let Some(line) = self.lines.get_mut(device) {
                if matches!(line.state, LineState::InCall(current) if current == id) {
                    line.state = LineState::Idle;
                }
                self.dirty.insert(device.to_owned());
            }
        }
        self.outputs
            .push_back(super::Output::Event(CallEvent::Released {
                call: id,
                by: by.to_owned(),
            }));
    }

    pub(super) fn fail(&mut self, now: Instant, number: &str, failure: Failure) {
        let Some(line) = self.lines.get_mut(number) else {
            return;
        };
        // A handsfree line clears the failure by itself, unless it holds a
        // call (it must retrieve or hang up).
        let until =
            (!line.off_hook && line.held.is_none()).then(|| now + self.timers.failure_display);
        line.state = LineState::Failed {
            failure: failure.clone(),
            until,
        };
        self.set_line_deadline(number, until);
        self.dirty.insert(number.to_owned());
        self.outputs
            .push_back(super::Output::Event(CallEvent::Failed {
                subscriber: number.to_owned(),
                failure,
            }));
    }

    pub(super) fn may_dial(&self, number: &str, class: CallClass) -> bool {
        self.clients
            .get(number)
            .is_some_and(|client| client.may_dial(class))
    }

    /// Logs a barred attempt: a possible toll-fraud event (guide 2.2).
    pub(super) fn barred(
        &mut self,
        subscriber: &str,
        dialled: &str,
        class: CallClass,
        forwarding: bool,
    ) {
        self.outputs
            .push_back(super::Output::Event(CallEvent::Barred {
                subscriber: subscriber.to_owned(),
                dialled: dialled.to_owned(),
                class,
                forwarding,
            }));
    }

    pub(super) fn new_call(&mut self, call: Call) -> CallId {
        self.next_call += 1;
        let id = CallId(self.next_call);
        self.calls.insert(id, call);
        id
    }

    pub(super) fn remove_call(&mut self, id: CallId) -> Option<Call> {
        let call = self.calls.remove(&id)?;
        for device in call.devices() {
            self.dirty.insert(device.to_owned());
        }
        let system = [&call.a, &call.b]
            .into_iter()
            .find(|party| party.device().is_none());
        if let (Some(party), CallState::Connected) = (system, call.state) {
            let party = party.clone();
            self.outputs.push_back(super::Output::ServiceMedia {
                call: id,
                party,
                send_to: None,
            });
        }
        Some(call)
    }

    /// Marks the devices of call `id` for a screen update.
    pub(super) fn touch_call(&mut self, id: CallId) {
        if let Some(call) = self.calls.get(&id) {
            self.dirty.extend(call.devices().map(str::to_owned));
        }
    }

    fn connected_event(&mut self, id: CallId) {
        let Some(call) = self.calls.get(&id) else {
            return;
        };
        if call.state != CallState::Connected {
            return;
        }
        let parties = self.parties();
        let (a, b) = (parties.label(&call.a), parties.label(&call.b));
        self.outputs
            .push_back(super::Output::Event(CallEvent::Connected {
                call: id,
                a,
                b,
            }));
        self.service_media_update(id);
    }

    /// Tells the system's end of a connected service or trunk call where
    /// to send its media.
    pub(super) fn service_media_update(&mut self, id: CallId) {
        let Some(call) = self.calls.get(&id) else {
            return;
        };
        if call.state != CallState::Connected {
            return;
        }
        let (system, device) = match (&call.a, &call.b) {
            (Party::Device(_), system @ (Party::Service(_) | Party::Trunk(_))) => (system, &call.a),
            (system @ (Party::Service(_) | Party::Trunk(_)), Party::Device(_)) => (system, &call.b),
            _ => return,
        };
        let parties = self.parties();
        let send_to = parties
            .media_offer(system)
            .zip(parties.media_offer(device))
            .and_then(|(ours, theirs)| self.media.leg(ours, theirs));
        let party = system.clone();
        self.outputs.push_back(super::Output::ServiceMedia {
            call: id,
            party,
            send_to,
        });
    }
}
