//! Call control, sans-IO: the system owns every call and decides what each
//! device shows and plays; devices only report hook, digits and keys.
//!
//! Driven like the protocol engines: `attach`/`detach` as devices register
//! and vanish, `handle_input` for what a device reports, `handle_timeout` at
//! `poll_timeout`, and `poll_output` for the indications to send and the
//! events to log.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::time::{Duration, Instant};

use super::dialplan::Service;
use super::dialplan::{Analysis, DialPlan};
use super::indication::{CallId, FeatureKey, Indication};
use super::media::{MediaOffer, MediaPolicy, RemoteMedia};
use super::model::{Call, CallState, Failure, Line, LineState, Party, Purpose};
use super::screen::{Directory, Screen};
use crate::config::cos::CallClass;
use crate::config::{Client, ValidatedConfig};

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
}

/// Something worth a log line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallEvent {
    /// A number the subscriber's class of service bars: possible toll fraud.
    Barred {
        subscriber: String,
        dialled: String,
        class: CallClass,
        forwarding: bool,
    },
    Connected {
        call: CallId,
        a: String,
        b: String,
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
    Event(CallEvent),
}

/// A deadline and what it belongs to (checked against the state when it
/// fires, so stale entries are harmless).
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
    trunk_channels: usize,
    timers: CallTimers,
    media: MediaPolicy,
    lines: BTreeMap<String, Line>,
    calls: BTreeMap<CallId, Call>,
    next_call: u64,
    deadlines: BTreeSet<(Instant, Timer)>,
    dirty: BTreeSet<String>,
    outputs: VecDeque<Output>,
}

impl CallControl {
    /// `trunk_channels`: calls the built-in test trunk carries at once.
    pub fn new(
        config: &ValidatedConfig,
        timers: CallTimers,
        trunk_channels: usize,
        media: MediaPolicy,
    ) -> Self {
        Self {
            plan: DialPlan::new(config),
            clients: config
                .clients()
                .iter()
                .map(|c| (c.number.clone(), c.clone()))
                .collect(),
            trunk_channels,
            timers,
            media,
            lines: BTreeMap::new(),
            calls: BTreeMap::new(),
            next_call: 0,
            deadlines: BTreeSet::new(),
            dirty: BTreeSet::new(),
            outputs: VecDeque::new(),
        }
    }

    /// A device of `number` registered (a re-registration replaces the old).
    pub fn attach(&mut self, number: &str) {
        self.detach(number);
        let Some(client) = self.clients.get(number) else {
            return;
        };
        self.lines
            .insert(number.to_owned(), Line::new(client.name.clone()));
        self.dirty.insert(number.to_owned());
        self.refresh();
    }

    /// The device of `number` is gone: its calls end for the other parties.
    pub fn detach(&mut self, number: &str) {
        if self.lines.contains_key(number) {
            self.release(number);
            self.lines.remove(number);
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
        }
        self.refresh();
    }

    pub fn handle_timeout(&mut self, now: Instant) {
        while let Some((at, timer)) = self.deadlines.first().cloned() {
            if at > now {
                break;
            }
            self.deadlines.pop_first();
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

    /// The next deadline (possibly one that turns out stale: harmless).
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.deadlines.first().map(|(at, _)| *at)
    }

    /// Calls in progress (alerting, connected or held).
    pub fn calls(&self) -> usize {
        self.calls.len()
    }

    /// Trunk channels taken by calls now.
    pub fn trunk_channels_in_use(&self) -> usize {
        self.calls.values().filter(|call| call.uses_trunk()).count()
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
        }
        self.refresh();
    }

    /// What the device of `number` shows now, as far as call control knows.
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
        self.remove_call(held);
        self.remove_call(consultation);
        let id = self.new_call(Call {
            a: x,
            b: y,
            state,
            held_by: None,
            via: None,
        });
        if let CallState::Alerting { until } = state {
            self.deadlines.insert((until, Timer::Call(id)));
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
            Analysis::External {
                number: external,
                class,
            } => {
                if self.may_dial(number, class) {
                    self.finish_forward(number, digits);
                } else {
                    self.barred(number, &external, class, true);
                    self.fail(now, number, Failure::NotAllowed);
                }
            }
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
mod timers;

impl CallControl {
    fn parties(&self) -> Parties<'_> {
        Parties {
            lines: &self.lines,
            media: &self.media,
        }
    }
}

/// The parties' names and media, as screens see them.
struct Parties<'a> {
    lines: &'a BTreeMap<String, Line>,
    media: &'a MediaPolicy,
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

    fn media_offer(&self, party: &Party) -> Option<&MediaOffer> {
        let services = &self.media.services;
        match party {
            Party::Device(number) => self.lines.get(number)?.media_offer.as_ref(),
            Party::Trunk(_) => services.trunk.as_ref(),
            Party::Service(Service::EchoTest) => services.echo_test.as_ref(),
            Party::Service(Service::AnnouncementTest) => services.announcement.as_ref(),
        }
    }

    fn media_policy(&self) -> &MediaPolicy {
        self.media
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
        Ok(())
    }
}
