//! A device that changes network mid-call (a myPortal to go app moving
//! from the company WiFi to the home WiFi, or back): its calls stay up and
//! are re-anchored. From the LAN to the internet the device's media must
//! now go through an RTP proxy channel (guide 1.3.5); back on the LAN the
//! channel is given back. Every party is told the new media targets.

use std::time::Instant;

use super::{CallControl, CallEvent, Output, SbcCommand};
use crate::calls::indication::CallId;
use crate::calls::model::{CallState, Failure, LineState, Origin, Party};

impl CallControl {
    /// The device of `number` now reaches the system from `origin`: from
    /// the internet or from the company LAN. Its calls keep running with a
    /// channel taken or given back; a call that cannot have a channel ends
    /// (the device sees "No line free", the other party "Call ended").
    pub fn rehome(&mut self, now: Instant, number: &str, origin: Origin) {
        let Some(line) = self.lines.get_mut(number) else {
            return;
        };
        let internet = origin.internet;
        let moved_in_or_out = line.origin.internet != internet;
        line.origin = origin;
        if !moved_in_or_out {
            return;
        }
        let current = match line.state {
            LineState::InCall(id) => Some(id),
            _ => None,
        };
        let calls: Vec<CallId> = current.into_iter().chain(line.held).collect();
        for id in calls {
            self.rehome_call(now, number, id, internet);
        }
        self.refresh();
    }

    fn rehome_call(&mut self, now: Instant, number: &str, id: CallId, internet: bool) {
        let party = Party::Device(number.to_owned());
        let Some(call) = self.calls.get(&id) else {
            return;
        };
        let new_channel = match (internet, call.anchor_of(&party)) {
            (true, None) => {
                // The moving party becomes one more anchored leg.
                match self.pool.take(1, self.internet_calls()) {
                    Ok(taken) => {
                        let Some(channel) = taken.first().copied() else {
                            return;
                        };
                        if let Some(call) = self.calls.get_mut(&id) {
                            call.anchors.push((party, channel));
                        }
                        Some(channel)
                    }
                    Err(refusal) => {
                        self.outputs
                            .push_back(Output::Event(CallEvent::ProxyRefused {
                                subscriber: number.to_owned(),
                                refusal,
                            }));
                        self.end_call(id, number);
                        self.end_own_side(now, number, id);
                        return;
                    }
                }
            }
            (false, Some(channel)) => {
                if let Some(call) = self.calls.get_mut(&id) {
                    call.anchors.retain(|(_, held)| *held != channel);
                }
                self.outputs
                    .push_back(Output::Sbc(SbcCommand::Release { channel }));
                self.pool.give_back([channel]);
                None
            }
            _ => return,
        };
        let connected = self
            .calls
            .get(&id)
            .is_some_and(|call| call.state == CallState::Connected);
        if connected {
            self.command_channels(id, None, |channel, inner_peer, device, _| {
                vec![if Some(channel) == new_channel {
                    SbcCommand::Anchor {
                        channel,
                        inner_peer,
                        device,
                    }
                } else {
                    SbcCommand::SetInnerPeer {
                        channel,
                        inner_peer,
                    }
                }]
            });
        }
        self.touch_call(id);
        self.service_media_update(id);
    }

    /// The moved device's side of a call that could not be re-anchored.
    fn end_own_side(&mut self, now: Instant, number: &str, id: CallId) {
        let Some(line) = self.lines.get_mut(number) else {
            return;
        };
        if line.held == Some(id) {
            line.held = None;
        }
        if matches!(line.state, LineState::InCall(current) if current == id) {
            self.fail(now, number, Failure::NoLineFree);
        }
        self.dirty.insert(number.to_owned());
    }
}

/// The channels anchoring `number`'s device, in any call (tests).
#[cfg(test)]
pub(crate) fn anchors_of(
    control: &CallControl,
    number: &str,
) -> Vec<crate::calls::channels::ChannelId> {
    let party = Party::Device(number.to_owned());
    control
        .calls
        .values()
        .filter_map(|call| call.anchor_of(&party))
        .collect()
}
