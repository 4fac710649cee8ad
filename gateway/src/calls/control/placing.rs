//! Placing, answering and ending calls.

use std::net::SocketAddr;
use std::time::Instant;

use super::{CallControl, CallEvent, SbcCommand, Timer};
use crate::calls::channels::ChannelId;
use crate::calls::dialplan::Analysis;
use crate::calls::indication::CallId;
use crate::calls::model::{Call, CallState, Failure, LineState, Party};
use crate::calls::screen::Directory;
use crate::config::cos::{BarReason, ExternalNumber};
use crate::sbc::DeviceSource;

impl CallControl {
    /// Calls what `digits` (analysed as `analysis`) lead to from `number`.
    pub(super) fn place(&mut self, now: Instant, number: &str, analysis: Analysis) {
        let caller = Party::Device(number.to_owned());
        let outcome = match analysis {
            Analysis::Internal(callee) => self.call_subscriber(now, caller, &callee),
            Analysis::External(external) => match self.bar_reason(number, &external) {
                None => self.call_trunk(now, caller, external.dialled, None),
                Some(reason) => {
                    self.barred(number, external, reason, false);
                    Err(Failure::NotAllowed(reason))
                }
            },
            Analysis::Service(service) => self.new_call(Call {
                a: caller,
                b: Party::Service(service),
                state: CallState::Connected,
                held_by: None,
                via: None,
                anchors: Vec::new(),
            }),
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
                Analysis::External(external) => {
                    // Checked when programmed; checked again in case the
                    // class of service was reduced since (guide 2.2).
                    if let Some(reason) = self.bar_reason(callee, &external) {
                        self.barred(callee, external, reason, true);
                        return Err(Failure::NotAllowed(reason));
                    }
                    let dialled = external.dialled;
                    return self.call_trunk(now, caller, dialled, Some(callee.to_owned()));
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
            anchors: Vec::new(),
        })?;
        if let Some(line) = self.lines.get_mut(callee) {
            line.state = LineState::InCall(id);
        }
        self.schedule(Timer::Call(id), until);
        Ok(id)
    }

    /// An external call on the test trunk: like an ITSP call, it takes an
    /// RTP proxy channel of its own (guide 1.3.5).
    fn call_trunk(
        &mut self,
        now: Instant,
        caller: Party,
        number: String,
        via: Option<String>,
    ) -> Result<CallId, Failure> {
        let until = now + self.timers.trunk_answer;
        tracing::info!(
            target: crate::trace::TRUNK_TARGET,
            caller = caller.device(),
            number,
            via,
            "outgoing call on the test trunk"
        );
        let id = self.new_call(Call {
            a: caller,
            b: Party::Trunk(number),
            state: CallState::Alerting { until },
            held_by: None,
            via,
            anchors: Vec::new(),
        })?;
        self.schedule(Timer::Call(id), until);
        Ok(id)
    }

    /// The callee `number` refuses the call ringing there: it goes idle,
    /// the caller sees it rejected.
    pub(super) fn reject(&mut self, now: Instant, number: &str) {
        let Some(line) = self.lines.get(number) else {
            return;
        };
        let LineState::InCall(id) = line.state else {
            return;
        };
        if !self.is_ringing(number, id) {
            return;
        }
        let Some(call) = self.remove_call(id) else {
            return;
        };
        if let Some(line) = self.lines.get_mut(number) {
            line.state = LineState::Idle;
        }
        self.dirty.insert(number.to_owned());
        self.outputs
            .push_back(super::Output::Event(CallEvent::Released {
                call: id,
                by: number.to_owned(),
            }));
        if let Some(caller) = call.a.device() {
            let caller = caller.to_owned();
            self.fail(now, &caller, Failure::Rejected(number.to_owned()));
        }
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

    /// Why subscriber `number` may not dial `external`, if it may not (an
    /// unknown subscriber may dial nothing).
    pub(super) fn bar_reason(&self, number: &str, external: &ExternalNumber) -> Option<BarReason> {
        match self.clients.get(number) {
            Some(client) => client.bar_reason(&external.class),
            None => Some(BarReason::NoExternal),
        }
    }

    /// Logs a barred attempt: a possible toll-fraud event (guide 2.2).
    pub(super) fn barred(
        &mut self,
        subscriber: &str,
        number: ExternalNumber,
        reason: BarReason,
        forwarding: bool,
    ) {
        self.outputs
            .push_back(super::Output::Event(CallEvent::Barred {
                subscriber: subscriber.to_owned(),
                number,
                reason,
                forwarding,
            }));
    }

    /// Enters `call` with the RTP proxy channels it needs (one per anchored
    /// device, one for the trunk), all or none: a call that cannot have
    /// them is refused before anything rings.
    pub(super) fn new_call(&mut self, mut call: Call) -> Result<CallId, Failure> {
        let needing: Vec<Party> = [&call.a, &call.b]
            .into_iter()
            .filter(|party| self.needs_channel(party))
            .cloned()
            .collect();
        let internet_calls = self.internet_calls();
        match self.pool.take(needing.len(), internet_calls) {
            Ok(channels) => call.anchors = needing.into_iter().zip(channels).collect(),
            Err(refusal) => {
                let subscriber = call.a.device().unwrap_or_default().to_owned();
                self.outputs
                    .push_back(super::Output::Event(CallEvent::ProxyRefused {
                        subscriber,
                        refusal,
                    }));
                return Err(Failure::NoLineFree);
            }
        }
        Ok(self.insert_call(call))
    }

    /// Enters `call` as it is (its channels already taken).
    pub(super) fn insert_call(&mut self, call: Call) -> CallId {
        self.next_call += 1;
        let id = CallId(self.next_call);
        self.calls.insert(id, call);
        id
    }

    /// A device registered from outside the company LAN, or the trunk.
    fn needs_channel(&self, party: &Party) -> bool {
        match party {
            Party::Device(number) => self
                .lines
                .get(number)
                .is_some_and(|line| line.origin.internet),
            Party::Trunk(_) => true,
            Party::Service(_) => false,
        }
    }

    /// Removes call `id`, giving back its channels except `keep` (a
    /// transfer carries those over to the call it makes).
    pub(super) fn remove_call_keeping(&mut self, id: CallId, keep: &[ChannelId]) -> Option<Call> {
        let call = self.calls.remove(&id)?;
        self.unschedule(&Timer::Call(id));
        for device in call.devices() {
            self.dirty.insert(device.to_owned());
        }
        let released: Vec<ChannelId> = call
            .anchors
            .iter()
            .map(|(_, channel)| *channel)
            .filter(|channel| !keep.contains(channel))
            .collect();
        for channel in &released {
            self.outputs
                .push_back(super::Output::Sbc(SbcCommand::Release {
                    channel: *channel,
                }));
        }
        self.pool.give_back(released);
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

    pub(super) fn remove_call(&mut self, id: CallId) -> Option<Call> {
        self.remove_call_keeping(id, &[])
    }

    /// Tells the SBC where each anchored device's media goes now, and to
    /// learn again the source of `moved`'s device.
    pub(super) fn repoint_channels(&mut self, id: CallId, moved: Option<&str>) {
        if self
            .calls
            .get(&id)
            .is_some_and(|call| call.state == CallState::Connected)
        {
            self.command_channels(id, moved, |channel, inner_peer, device, moved_here| {
                let relearn = moved_here.then_some(SbcCommand::Relearn { channel, device });
                std::iter::once(SbcCommand::SetInnerPeer {
                    channel,
                    inner_peer,
                })
                .chain(relearn)
                .collect()
            });
        }
    }

    /// The call connected: every anchored device's channel starts relaying
    /// and learning its device's source.
    fn anchor_channels(&mut self, id: CallId) {
        self.command_channels(id, None, |channel, inner_peer, device, _| {
            vec![SbcCommand::Anchor {
                channel,
                inner_peer,
                device,
            }]
        });
    }

    /// The commands `make` gives for each channel anchoring a device of
    /// call `id`, from the channel, its inner peer, where the device's
    /// media comes from, and whether the device is `moved`.
    pub(super) fn command_channels(
        &mut self,
        id: CallId,
        moved: Option<&str>,
        make: impl Fn(
            ChannelId,
            Option<(SocketAddr, SocketAddr)>,
            DeviceSource,
            bool,
        ) -> Vec<SbcCommand>,
    ) {
        let Some(call) = self.calls.get(&id) else {
            return;
        };
        let parties = self.parties();
        let commands: Vec<SbcCommand> = call
            .anchors
            .iter()
            .filter_map(|(party, channel)| Some((party, channel, parties.device_source(party)?)))
            .flat_map(|(party, channel, device)| {
                make(
                    *channel,
                    parties.inner_peer(call, party),
                    device,
                    party.device() == moved,
                )
            })
            .collect();
        self.outputs
            .extend(commands.into_iter().map(super::Output::Sbc));
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
        self.anchor_channels(id);
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
        let send_to = self.parties().service_leg(call, system, device);
        let party = system.clone();
        self.outputs.push_back(super::Output::ServiceMedia {
            call: id,
            party,
            send_to,
        });
    }
}
