//! Call control, sans-IO: the system owns every call and decides what each
//! device shows and plays; devices only report hook, digits and keys.
//!
//! Driven like the protocol engines: `attach`/`detach` as devices register
//! and vanish, `handle_input` for what a device reports, `handle_timeout` at
//! `poll_timeout`, and `poll_output` for the indications to send and the
//! events to log.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::time::{Duration, Instant};

use std::net::{IpAddr, SocketAddr};

use super::channels::{ChannelId, ChannelPlan, ChannelPool, Refusal};
use super::dialplan::Service;
use super::dialplan::{Analysis, DialPlan};
use super::indication::{CallId, FeatureKey, Indication};
use super::media::{MediaOffer, MediaPolicy, RemoteMedia};
use super::model::{Call, CallState, Failure, Line, LineState, Origin, Party, Purpose};
use super::screen::{Directory, Screen};
use crate::config::cos::{BarReason, ExternalNumber};
use crate::config::{Client, ValidatedConfig};
use crate::sbc::{AnnouncedPorts, DeviceSource};

/// How long call control waits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallTimers {
    /// After the last digit of an external number.
    pub inter_digit: Duration,
    /// For the callee to answer.
    pub no_answer: Duration,
    /// For the built-in test trunk to answer.
    pub trunk_answer: Duration,
    /// A failure shown on a handsfree (on-hook) phone before it goes idle.
    pub failure_display: Duration,
}

impl CallTimers {
    pub fn from_config(config: &ValidatedConfig) -> Self {
        let section = &config.config().call_control;
        Self {
            inter_digit: section.inter_digit(),
            no_answer: section.no_answer(),
            trunk_answer: Duration::from_secs(1),
            failure_display: Duration::from_secs(10),
        }
    }
}

/// What a device reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeviceInput {
    OffHook,
    OnHook,
    /// A dial key: `0`-`9`, `*`, `#` (`#` dials at once).
    Digit(char),
    Feature(FeatureKey),
    /// Refuse the call ringing here (an app's "reject"): the caller is
    /// told it was rejected, as with a busy line.
    Reject,
}

/// Something worth a log line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallEvent {
    /// A number the subscriber's class of service bars: possible toll
    /// fraud. `forwarding`: programmed as (or used by) call forwarding.
    Barred {
        subscriber: String,
        number: ExternalNumber,
        reason: BarReason,
        forwarding: bool,
    },
    Connected {
        call: CallId,
        a: String,
        b: String,
    },
    /// A call refused for want of an RTP proxy channel or of an internet
    /// call (guide 1.3.5, 2.3).
    ProxyRefused {
        subscriber: String,
        refusal: Refusal,
    },
    Released {
        call: CallId,
        by: String,
    },
    Failed {
        subscriber: String,
        failure: Failure,
    },
}

/// What call control asks of its owner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// Send `indication` to the device of `device`.
    Indicate {
        device: String,
        indication: Indication,
    },
    /// The system's own end of `call` (a service or the test trunk) sends
    /// media as `send_to` says from now on, or stops (`None`).
    ServiceMedia {
        call: CallId,
        party: Party,
        send_to: Option<RemoteMedia>,
    },
    /// What the RTP proxy's data plane does with a channel.
    Sbc(SbcCommand),
    Event(CallEvent),
}

/// Instructions to the SBC's data plane (see `docs/sbc.md`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SbcCommand {
    /// The channel carries a connected call: relay between the device it
    /// anchors (latched in a learning window opened now, from where
    /// `device` says) and `inner_peer`.
    Anchor {
        channel: ChannelId,
        inner_peer: Option<(SocketAddr, SocketAddr)>,
        device: DeviceSource,
    },
    /// The rest of the call moved (a transfer, a LAN device's new address).
    SetInnerPeer {
        channel: ChannelId,
        inner_peer: Option<(SocketAddr, SocketAddr)>,
    },
    /// The device announced a new address: learn its source again, from
    /// where `device` says.
    Relearn {
        channel: ChannelId,
        device: DeviceSource,
    },
    /// The call ended: stop relaying, the channel is free.
    Release { channel: ChannelId },
}

/// A deadline and what it belongs to (checked against the state when it
/// fires). Each timer has at most one deadline: a new one replaces it, and
/// a call's goes with the call, a line's with the line, so the set stays
/// as small as the calls and lines in progress.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Timer {
    Line(String),
    Call(CallId),
}

/// The system's call control.
#[derive(Debug)]
pub struct CallControl {
    plan: DialPlan,
    clients: HashMap<String, Client>,
    pool: ChannelPool,
    timers: CallTimers,
    media: MediaPolicy,
    lines: BTreeMap<String, Line>,
    calls: BTreeMap<CallId, Call>,
    next_call: u64,
    deadlines: BTreeSet<(Instant, Timer)>,
    /// Each timer's deadline in `deadlines`.
    scheduled: BTreeMap<Timer, Instant>,
    dirty: BTreeSet<String>,
    outputs: VecDeque<Output>,
}

impl CallControl {
    /// `channels`: the RTP proxy's pool as the SBC bound it.
    pub fn new(
        config: &ValidatedConfig,
        timers: CallTimers,
        channels: ChannelPlan,
        media: MediaPolicy,
    ) -> Self {
        Self {
            plan: DialPlan::new(config),
            clients: config
                .clients()
                .iter()
                .map(|c| (c.number.clone(), c.clone()))
                .collect(),
            pool: ChannelPool::new(channels),
            timers,
            media,
            lines: BTreeMap::new(),
            calls: BTreeMap::new(),
            next_call: 0,
            deadlines: BTreeSet::new(),
            scheduled: BTreeMap::new(),
            dirty: BTreeSet::new(),
            outputs: VecDeque::new(),
        }
    }

    /// A device of `number` registered (a re-registration replaces the
    /// old) from `origin`; from outside the company LAN, its calls are
    /// anchored in the RTP proxy.
    pub fn attach(&mut self, number: &str, origin: Origin) {
        self.detach(number);
        let Some(client) = self.clients.get(number) else {
            return;
        };
        self.lines
            .insert(number.to_owned(), Line::new(client.name.clone(), origin));
        self.dirty.insert(number.to_owned());
        self.refresh();
    }

    /// The device of `number` is gone: its calls end for the other parties.
    pub fn detach(&mut self, number: &str) {
        if self.lines.contains_key(number) {
            self.release(number);
            self.lines.remove(number);
            self.unschedule(&Timer::Line(number.to_owned()));
            self.refresh();
        }
    }

    pub fn handle_input(&mut self, now: Instant, number: &str, input: DeviceInput) {
        let Some(line) = self.lines.get_mut(number) else {
            return;
        };
        match input {
            DeviceInput::OffHook => {
                line.off_hook = true;
                self.seize_or_answer(now, number);
            }
            DeviceInput::OnHook => {
                line.off_hook = false;
                self.release(number);
            }
            DeviceInput::Digit(digit) => self.digit(now, number, digit),
            DeviceInput::Feature(FeatureKey::Line) => {
                let state = line.state.clone();
                let ringing = matches!(state, LineState::InCall(id) if self.is_ringing(number, id));
                if matches!(state, LineState::Idle) || ringing {
                    self.seize_or_answer(now, number);
                } else {
                    self.release(number);
                }
            }
            DeviceInput::Feature(FeatureKey::Release) => self.release(number),
            DeviceInput::Feature(FeatureKey::Hold) => self.hold_or_retrieve(number),
            DeviceInput::Feature(FeatureKey::Transfer) => self.transfer(number),
            DeviceInput::Feature(FeatureKey::Forward) => self.forward_key(number),
            DeviceInput::Reject => self.reject(now, number),
        }
        self.refresh();
    }

    pub fn handle_timeout(&mut self, now: Instant) {
        while let Some((at, timer)) = self.deadlines.first().cloned() {
            if at > now {
                break;
            }
            self.deadlines.pop_first();
            self.scheduled.remove(&timer);
            match timer {
                Timer::Line(number) => self.line_timeout(now, &number),
                Timer::Call(id) => self.call_timeout(now, id),
            }
        }
        self.refresh();
    }

    pub fn poll_output(&mut self) -> Option<Output> {
        self.outputs.pop_front()
    }

    /// The next deadline (possibly one whose state moved on: harmless).
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.deadlines.first().map(|(at, _)| *at)
    }

    /// Calls in progress (alerting, connected or held).
    pub fn calls(&self) -> usize {
        self.calls.len()
    }

    /// Calls on the test trunk now.
    pub fn trunk_calls(&self) -> usize {
        self.calls.values().filter(|call| call.uses_trunk()).count()
    }

    /// The RTP proxy's pool: channels in use, peak, refusals.
    pub fn channels(&self) -> &ChannelPool {
        &self.pool
    }

    /// Internet calls in progress (guide 2.3): one per anchored leg, so a
    /// call between two phones at home counts two.
    pub fn internet_calls(&self) -> usize {
        self.calls.values().map(|call| call.anchors.len()).sum()
    }

    /// The device of `number` receives media as `offer` says (its Codec
    /// Capabilities); a call in progress follows the new address.
    pub fn offer_media(&mut self, number: &str, offer: MediaOffer) {
        let Some(line) = self.lines.get_mut(number) else {
            return;
        };
        line.media_offer = Some(offer);
        if let LineState::InCall(id) = line.state {
            self.touch_call(id);
            self.service_media_update(id);
            self.repoint_channels(id, Some(number));
        }
        self.refresh();
    }

    /// The system's public address is now `ip` (dynamic DNS or STUN saw a
    /// change): new calls announce it, and the devices anchored in calls
    /// in progress are sent their media target again at the new address.
    pub fn set_public_ip(&mut self, ip: IpAddr) {
        if self.pool.public_ip() == Some(ip) {
            return;
        }
        self.pool.set_public_ip(ip);
        let anchored: Vec<CallId> = self
            .calls
            .iter()
            .filter(|(_, call)| !call.anchors.is_empty())
            .map(|(id, _)| *id)
            .collect();
        for id in anchored {
            self.touch_call(id);
        }
        self.refresh();
    }

    /// The media of the call holding `channel` stopped flowing (the SBC's
    /// idle-media timeout: a phone lost its network without a word): the
    /// call ends for everyone in it, and its channels are free again.
    pub fn media_idle(&mut self, channel: ChannelId) {
        let holding = self
            .calls
            .iter()
            .find(|(_, call)| call.anchors.iter().any(|(_, held)| *held == channel));
        if let Some((id, _)) = holding {
            let id = *id;
            self.end_call(id, "");
            self.refresh();
        }
    }

    /// What the device of `number` shows now, as far as call control knows.
    /// The RTP proxy channel anchoring `number`'s device in its call.
    pub fn anchor_of(&self, number: &str) -> Option<ChannelId> {
        let LineState::InCall(id) = self.lines.get(number)?.state else {
            return None;
        };
        self.calls
            .get(&id)?
            .anchor_of(&Party::Device(number.to_owned()))
    }

    pub fn screen(&self, number: &str) -> Option<&Screen> {
        self.lines.get(number)?.screen.as_ref()
    }

    // --- what devices do -------------------------------------------------

    /// Off-hook or the line key: answer a ringing call, or get dial tone.
    fn seize_or_answer(&mut self, now: Instant, number: &str) {
        let Some(line) = self.lines.get(number) else {
            return;
        };
        match line.state {
            LineState::InCall(id) if self.is_ringing(number, id) => self.answer(id),
            LineState::Idle => self.start_dialing(now, number, Purpose::Call),
            _ => {}
        }
    }

    fn start_dialing(&mut self, now: Instant, number: &str, purpose: Purpose) {
        let Some(line) = self.lines.get_mut(number) else {
            return;
        };
        // A handsfree line that never dials goes back to idle by itself.
        let deadline = (!line.off_hook).then(|| now + self.timers.inter_digit * 3);
        line.state = LineState::Dialing {
            digits: String::new(),
            purpose,
            deadline,
        };
        self.dirty.insert(number.to_owned());
        self.set_line_deadline(number, deadline);
    }

    fn digit(&mut self, now: Instant, number: &str, digit: char) {
        let Some(line) = self.lines.get_mut(number) else {
            return;
        };
        if !matches!(digit, '0'..='9' | '*' | '#') {
            return;
        }
        if matches!(line.state, LineState::Idle) {
            if digit == '#' {
                return;
            }
            self.start_dialing(now, number, Purpose::Call);
        }
        let Some(line) = self.lines.get_mut(number) else {
            return;
        };
        let LineState::Dialing {
            digits,
            purpose,
            deadline,
        } = &mut line.state
        else {
            return;
        };
        self.dirty.insert(number.to_owned());
        if digit == '#' {
            if !digits.is_empty() {
                let (digits, purpose) = (digits.clone(), *purpose);
                self.complete(now, number, &digits, purpose);
            }
            return;
        }
        digits.push(digit);
        let (digits, purpose) = (digits.clone(), *purpose);
        *deadline = Some(now + self.timers.inter_digit);
        let next_deadline = *deadline;
        match (self.plan.analyse(&digits), purpose) {
            (Analysis::Incomplete | Analysis::External { .. }, _) => {
                self.set_line_deadline(number, next_deadline)
            }
            (Analysis::Unknown, _) => self.fail(now, number, Failure::UnknownNumber),
            (analysis, Purpose::Call) => self.place(now, number, analysis),
            (_, Purpose::Forward) => self.set_forward(now, number, &digits),
        }
    }

    /// The user says the number is complete (`#`, or the inter-digit timeout).
    fn complete(&mut self, now: Instant, number: &str, digits: &str, purpose: Purpose) {
        match (self.plan.analyse(digits), purpose) {
            (_, Purpose::Forward) => self.set_forward(now, number, digits),
            (Analysis::Incomplete | Analysis::Unknown, Purpose::Call) => {
                self.fail(now, number, Failure::UnknownNumber)
            }
            (analysis, Purpose::Call) => self.place(now, number, analysis),
        }
    }

    /// On-hook, the release key, or the device vanished.
    fn release(&mut self, number: &str) {
        let Some(line) = self.lines.get_mut(number) else {
            return;
        };
        let state = std::mem::replace(&mut line.state, LineState::Idle);
        let held = line.held.take();
        self.dirty.insert(number.to_owned());
        if let LineState::InCall(id) = state {
            self.end_call(id, number);
        }
        if let Some(id) = held {
            self.end_call(id, number);
        }
    }

    fn hold_or_retrieve(&mut self, number: &str) {
        let Some(line) = self.lines.get_mut(number) else {
            return;
        };
        self.dirty.insert(number.to_owned());
        if let Some(held) = line.held.take() {
            // Retrieve: the consultation (if any) ends, the held call resumes.
            let state = std::mem::replace(&mut line.state, LineState::InCall(held));
            if let LineState::InCall(consultation) = state {
                self.end_call_quietly(consultation, number);
            }
            if let Some(call) = self.calls.get_mut(&held) {
                call.held_by = None;
            }
            self.touch_call(held);
            return;
        }
        let LineState::InCall(id) = line.state else {
            return;
        };
        let Some(call) = self.calls.get_mut(&id) else {
            return;
        };
        if call.state != CallState::Connected || call.held_by.is_some() {
            return;
        }
        call.held_by = Some(number.to_owned());
        line.held = Some(id);
        line.state = LineState::Dialing {
            digits: String::new(),
            purpose: Purpose::Call,
            deadline: None,
        };
        self.touch_call(id);
    }

    /// Connects the held party with the consultation call and leaves.
    fn transfer(&mut self, number: &str) {
        let Some(line) = self.lines.get(number) else {
            return;
        };
        let (Some(held), LineState::InCall(consultation)) = (line.held, &line.state) else {
            return;
        };
        let consultation = *consultation;
        let (Some(first), Some(second)) = (self.calls.get(&held), self.calls.get(&consultation))
        else {
            return;
        };
        let (x, y) = (first.other(number).clone(), second.other(number).clone());
        if x.device().is_none() && y.device().is_none() {
            return; // nobody left to end such a call
        }
        let state = second.state;
        // The held party's and the consultation party's channels carry on
        // in the new call; the transferring phone's are given back.
        let anchors: Vec<(Party, ChannelId)> = first
            .anchors
            .iter()
            .filter(|(party, _)| *party == x)
            .chain(second.anchors.iter().filter(|(party, _)| *party == y))
            .cloned()
            .collect();
        let kept: Vec<ChannelId> = anchors.iter().map(|(_, channel)| *channel).collect();
        self.remove_call_keeping(held, &kept);
        self.remove_call_keeping(consultation, &kept);
        let id = self.insert_call(Call {
            a: x,
            b: y,
            state,
            held_by: None,
            via: None,
            anchors,
        });
        if let CallState::Alerting { until } = state {
            self.schedule(Timer::Call(id), until);
        }
        if let Some(line) = self.lines.get_mut(number) {
            line.held = None;
            line.state = LineState::Idle;
        }
        self.dirty.insert(number.to_owned());
        let devices: Vec<String> = self.calls[&id].devices().map(str::to_owned).collect();
        for device in devices {
            if let Some(line) = self.lines.get_mut(&device) {
                line.state = LineState::InCall(id);
            }
        }
        self.touch_call(id);
        self.repoint_channels(id, None);
        self.service_media_update(id);
    }

    fn forward_key(&mut self, number: &str) {
        let Some(line) = self.lines.get_mut(number) else {
            return;
        };
        if !matches!(line.state, LineState::Idle) {
            return;
        }
        self.dirty.insert(number.to_owned());
        if line.forward.take().is_none() {
            line.state = LineState::Dialing {
                digits: String::new(),
                purpose: Purpose::Forward,
                deadline: None,
            };
        }
    }

    /// Programs forwarding to `digits`, if the subscriber may call them.
    fn set_forward(&mut self, now: Instant, number: &str, digits: &str) {
        match self.plan.analyse(digits) {
            Analysis::Internal(target) if target != number => self.finish_forward(number, digits),
            Analysis::External(external) => match self.bar_reason(number, &external) {
                None => self.finish_forward(number, digits),
                Some(reason) => {
                    self.barred(number, external, reason, true);
                    self.fail(now, number, Failure::NotAllowed(reason));
                }
            },
            _ => self.fail(now, number, Failure::UnknownNumber),
        }
    }

    fn finish_forward(&mut self, number: &str, digits: &str) {
        if let Some(line) = self.lines.get_mut(number) {
            line.forward = Some(digits.to_owned());
            line.state = LineState::Idle;
            self.dirty.insert(number.to_owned());
        }
    }
}

mod placing;
pub(crate) mod rehome;
mod timers;

impl CallControl {
    fn parties(&self) -> Parties<'_> {
        Parties {
            lines: &self.lines,
            media: &self.media,
            pool: &self.pool,
        }
    }
}

/// The parties' names and media, as screens and the SBC see them.
struct Parties<'a> {
    lines: &'a BTreeMap<String, Line>,
    media: &'a MediaPolicy,
    pool: &'a ChannelPool,
}

impl Parties<'_> {
    /// Where the media of `party`'s device comes from, as its signalling
    /// says: the address it registered from, the ports it announced.
    pub(super) fn device_source(&self, party: &Party) -> Option<DeviceSource> {
        let line = self.lines.get(party.device()?)?;
        Some(DeviceSource {
            ip: line.origin.ip,
            announced: line.media_offer.as_ref().map(|offer| AnnouncedPorts {
                rtp: offer.rtp.port(),
                rtcp: offer.rtcp_port,
            }),
        })
    }

    /// What `party` announced: a device's Codec Capabilities, or the
    /// system's own end for a service or the trunk.
    fn announced(&self, party: &Party) -> Option<&MediaOffer> {
        let services = &self.media.services;
        match party {
            Party::Device(number) => self.lines.get(number)?.media_offer.as_ref(),
            Party::Trunk(_) => services.trunk.as_ref(),
            Party::Service(Service::EchoTest) => services.echo_test.as_ref(),
            Party::Service(Service::AnnouncementTest) => services.announcement.as_ref(),
        }
    }

    /// Where the rest of `call` sends `party`'s media: what it announced,
    /// or for an anchored device, its channel's inner side.
    pub(super) fn effective_offer(&self, call: &Call, party: &Party) -> Option<MediaOffer> {
        let announced = self.announced(party)?;
        match (
            party,
            call.anchor_of(party)
                .and_then(|channel| self.pool.addresses(channel)),
        ) {
            (Party::Device(_), Some(channel)) => Some(MediaOffer {
                rtp: channel.inner_rtp,
                rtcp_port: channel.inner_rtcp.port(),
                codecs: announced.codecs.clone(),
            }),
            _ => Some(announced.clone()),
        }
    }

    /// The inner peer of a channel anchoring `party`: the other party's
    /// effective media address (RTP, RTCP).
    pub(super) fn inner_peer(
        &self,
        call: &Call,
        party: &Party,
    ) -> Option<(SocketAddr, SocketAddr)> {
        let other = if *party == call.a { &call.b } else { &call.a };
        let offer = self.effective_offer(call, other)?;
        Some((offer.rtp, SocketAddr::new(offer.rtp.ip(), offer.rtcp_port)))
    }

    /// The media the system's end of a service or trunk call sends: to the
    /// device's effective address.
    pub(super) fn service_leg(
        &self,
        call: &Call,
        system: &Party,
        device: &Party,
    ) -> Option<RemoteMedia> {
        self.media.leg(
            self.announced(system)?,
            &self.effective_offer(call, device)?,
        )
    }
}

impl Directory for Parties<'_> {
    fn label(&self, party: &Party) -> String {
        match party {
            Party::Device(number) => match self.lines.get(number) {
                Some(line) => format!("{number} {}", line.name),
                None => number.clone(),
            },
            Party::Trunk(number) => number.clone(),
            Party::Service(service) => service.name().to_owned(),
        }
    }

    fn media_for(&self, call: &Call, own: &str) -> Option<RemoteMedia> {
        let me = Party::Device(own.to_owned());
        let mine = self.announced(&me)?;
        let theirs = self.effective_offer(call, call.other(own))?;
        let mut leg = self.media.leg(mine, &theirs)?;
        // An anchored device sends to its channel's public side, at the
        // company's public address (guide 3.1: the router forwards it).
        if let Some(channel) = call
            .anchor_of(&me)
            .and_then(|channel| self.pool.addresses(channel))
        {
            leg.rtp = SocketAddr::new(self.pool.public_ip()?, channel.public_rtp_port);
            leg.rtcp_port = channel.public_rtp_port.saturating_add(1);
        }
        Some(leg)
    }
}
#[cfg(test)]
impl CallControl {
    /// Every call is referenced by a device line that is in it or holds
    /// it, and every line in or holding a call points at a live call of
    /// which it is a party.
    pub(crate) fn check_consistency(&self) -> Result<(), String> {
        for (id, call) in &self.calls {
            let referenced = call.devices().any(|device| {
                self.lines.get(device).is_some_and(|line| {
                    matches!(line.state, LineState::InCall(current) if current == *id)
                        || line.held == Some(*id)
                })
            });
            if !referenced {
                return Err(format!("{id} is referenced by no line: {call:?}"));
            }
        }
        for (number, line) in &self.lines {
            let in_call = match line.state {
                LineState::InCall(id) => Some(id),
                _ => None,
            };
            for id in in_call.into_iter().chain(line.held) {
                let Some(call) = self.calls.get(&id) else {
                    return Err(format!("{number} refers to ended {id}"));
                };
                if !call.devices().any(|device| device == number) {
                    return Err(format!("{number} refers to {id} it is not a party of"));
                }
            }
            if line.held.is_some() && matches!(line.state, LineState::Idle) {
                return Err(format!("{number} is idle while holding a call"));
            }
        }
        let held: Vec<ChannelId> = self
            .calls
            .values()
            .flat_map(|call| call.anchors.iter().map(|(_, c)| *c))
            .collect();
        let unique: BTreeSet<ChannelId> = held.iter().copied().collect();
        if unique.len() != held.len() || held.len() != self.pool.in_use() {
            return Err(format!(
                "calls hold channels {held:?}, the pool counts {} in use",
                self.pool.in_use()
            ));
        }
        Ok(())
    }
}
