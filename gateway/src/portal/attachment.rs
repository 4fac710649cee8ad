//! A myPortal to go app as call control's device: the indications call
//! control sends a phone (display rows, tones, ringer, lamps, media) become
//! one [`CallView`] of the line, sent to the session's event stream only
//! when it changes.
//!
//! The view is derived once a batch of indications is complete
//! ([`PortalAttachment::settle`]), so the app sees "ringing" once, not the
//! half-drawn screens in between. A call that disappears without a failure
//! on screen (the other side hung up, or this one did) shows as `ended`
//! ("Call ended") before `idle`, so the app can tell it apart from never
//! having had a call.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use shared::portal::{CallState, CallView, Event, MediaTarget, RegistrationState};
use tokio::sync::mpsc;

use crate::calls::media::RemoteMedia;
use crate::calls::{
    AttachmentId, DeviceSink, DisplayRow, FeatureKey, Indication, Lamp, MediaIndication, Tone,
};
use crate::clock::Clock;

/// Events queued for one stream before it counts as stuck and is closed
/// (the app reconnects and gets the current state first).
const STREAM_QUEUE: usize = 64;

/// Identifies one login session for the life of the gateway.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PortalSessionId(pub u64);

impl PortalSessionId {
    /// The app of this session, as call control knows its attachment.
    pub const fn attachment(self) -> AttachmentId {
        AttachmentId::new("portal", self.0)
    }
}

/// What one session's app is told: the latest registration and call
/// state, and the event stream open now, if any.
#[derive(Debug)]
pub struct Outlet {
    clock: Clock,
    state: Mutex<OutletState>,
}

#[derive(Debug)]
struct OutletState {
    registration: Event,
    call: CallView,
    stream: Option<(u64, mpsc::Sender<Event>)>,
    next_stream: u64,
    /// Since when no stream is open (`None` while one is).
    streamless_since: Option<Instant>,
}

/// An event stream of a session: the events to send, its id for
/// [`Outlet::unsubscribe`].
#[derive(Debug)]
pub struct Subscription {
    pub id: u64,
    /// The current registration and call, to send first.
    pub current: Vec<Event>,
    pub events: mpsc::Receiver<Event>,
}

fn idle() -> CallView {
    CallView {
        state: CallState::Idle,
        peer: None,
        reason: None,
        media: None,
    }
}

impl Outlet {
    pub fn new(clock: Clock) -> Arc<Self> {
        let now = clock.now();
        Arc::new(Self {
            clock,
            state: Mutex::new(OutletState {
                registration: Event::Registration {
                    state: RegistrationState::Unregistered,
                    reason: None,
                },
                call: idle(),
                stream: None,
                next_stream: 0,
                streamless_since: Some(now),
            }),
        })
    }

    fn lock(&self) -> MutexGuard<'_, OutletState> {
        // Every update is a plain assignment: a poisoned lock is consistent.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Records `event` (registration and call state are kept for the next
    /// stream) and sends it to the open stream. A stream that does not keep
    /// up is closed.
    pub fn publish(&self, event: Event) {
        let mut state = self.lock();
        match &event {
            Event::Registration {
                state: new_state, ..
            } => {
                // A new registration gets its full grace period to open a
                // stream.
                if *new_state == RegistrationState::Registered && state.stream.is_none() {
                    state.streamless_since = Some(self.clock.now());
                }
                state.registration = event.clone();
            }
            Event::Call(view) => state.call = view.clone(),
            Event::LoggedOut { .. } => {}
        }
        let stuck = state
            .stream
            .as_ref()
            .is_some_and(|(_, sender)| sender.try_send(event).is_err());
        if stuck {
            state.stream = None;
            state.streamless_since = Some(self.clock.now());
        }
    }

    /// Opens the session's event stream, closing an older one.
    pub fn subscribe(&self) -> Subscription {
        let mut state = self.lock();
        let (sender, events) = mpsc::channel(STREAM_QUEUE);
        state.next_stream += 1;
        let id = state.next_stream;
        state.stream = Some((id, sender));
        state.streamless_since = None;
        Subscription {
            id,
            current: vec![state.registration.clone(), Event::Call(state.call.clone())],
            events,
        }
    }

    /// The session ended: the open stream gets `event` (why) and closes.
    pub fn close(&self, event: Event) {
        self.publish(event);
        let mut state = self.lock();
        if state.stream.take().is_some() {
            state.streamless_since = Some(self.clock.now());
        }
    }

    /// Stream `id` ended (the app went away or reconnected).
    pub fn unsubscribe(&self, id: u64) {
        let mut state = self.lock();
        if state.stream.as_ref().is_some_and(|(open, _)| *open == id) {
            state.stream = None;
            state.streamless_since = Some(self.clock.now());
        }
    }

    /// Since when the session has had no open event stream.
    pub fn streamless_since(&self) -> Option<Instant> {
        let mut state = self.lock();
        // A stream whose receiver is gone counts as closed.
        if state
            .stream
            .as_ref()
            .is_some_and(|(_, sender)| sender.is_closed())
        {
            state.stream = None;
            state.streamless_since = Some(self.clock.now());
        }
        state.streamless_since
    }

    /// The line's state as last sent.
    pub fn call(&self) -> CallView {
        self.lock().call.clone()
    }

    /// Whether the VoIP registration is up.
    pub fn registered(&self) -> bool {
        matches!(
            self.lock().registration,
            Event::Registration {
                state: RegistrationState::Registered,
                ..
            }
        )
    }
}

/// Call control's handle on one registered app.
#[derive(Debug)]
pub struct PortalAttachment {
    session: PortalSessionId,
    outlet: Arc<Outlet>,
    top: String,
    bottom: String,
    tone: Tone,
    ringer: bool,
    line_lamp: Lamp,
    hold_lamp: Lamp,
    /// `Some` while media runs, with the target when known.
    media: Option<Option<RemoteMedia>>,
    /// The other party of the connected call, kept while holding it.
    peer: Option<String>,
    /// The view last published.
    view: CallView,
}

impl PortalAttachment {
    pub fn new(session: PortalSessionId, outlet: Arc<Outlet>) -> Self {
        Self {
            session,
            outlet,
            top: String::new(),
            bottom: String::new(),
            tone: Tone::Silence,
            ringer: false,
            line_lamp: Lamp::Off,
            hold_lamp: Lamp::Off,
            media: None,
            peer: None,
            view: idle(),
        }
    }
}

impl DeviceSink for PortalAttachment {
    fn attachment(&self) -> AttachmentId {
        self.session.attachment()
    }

    /// Takes in one indication (sent on at [`Self::settle`]).
    fn show(&mut self, indication: &Indication) {
        match indication {
            Indication::Display {
                row: DisplayRow::Top,
                text,
            } => self.top.clone_from(text),
            Indication::Display {
                row: DisplayRow::Bottom,
                text,
            } => self.bottom.clone_from(text),
            Indication::Tone(tone) => self.tone = *tone,
            Indication::Ringer(on) => self.ringer = *on,
            Indication::Lamp {
                key: FeatureKey::Line,
                lamp,
            } => self.line_lamp = *lamp,
            Indication::Lamp {
                key: FeatureKey::Hold,
                lamp,
            } => self.hold_lamp = *lamp,
            Indication::Media(MediaIndication::Start { remote, .. }) => {
                self.media = Some(*remote);
            }
            Indication::Media(MediaIndication::Stop) => self.media = None,
            Indication::Lamp { .. } | Indication::Label { .. } | Indication::Clock(_) => {}
        }
    }

    /// A batch of indications is complete: publish the view if it changed.
    fn settle(&mut self) {
        let view = self.derive();
        if view == self.view {
            return;
        }
        let in_call = matches!(
            self.view.state,
            CallState::Calling | CallState::Ringing | CallState::Connected | CallState::Held
        );
        if in_call && view.state == CallState::Idle {
            self.outlet.publish(Event::Call(CallView {
                state: CallState::Ended,
                peer: self.view.peer.clone(),
                reason: Some("Call ended".into()),
                media: None,
            }));
        }
        self.outlet.publish(Event::Call(view.clone()));
        self.view = view;
    }
}

impl PortalAttachment {
    /// The view the indications so far make.
    fn derive(&mut self) -> CallView {
        let text = |text: &str| (!text.is_empty()).then(|| text.to_owned());
        let mut view = idle();
        if self.ringer {
            view.state = CallState::Ringing;
            view.peer = text(self.top.strip_prefix("Call from ").unwrap_or(&self.top));
        } else if let Some(remote) = self.media {
            view.state = CallState::Connected;
            view.peer = text(&self.top);
            view.media = remote.map(target);
            self.peer.clone_from(&view.peer);
        } else if self.hold_lamp == Lamp::Winking {
            view.state = CallState::Held;
            view.peer.clone_from(&self.peer);
        } else if self.bottom == "On hold" {
            // The other side holds this call.
            view.state = CallState::Connected;
            view.peer = text(&self.top);
            view.reason = Some("On hold".into());
        } else if self.tone == Tone::RingBack {
            view.state = CallState::Calling;
            view.peer = text(self.top.strip_prefix("Calling ").unwrap_or(&self.top));
        } else if matches!(self.tone, Tone::Busy | Tone::Congestion) && self.line_lamp == Lamp::Off
        {
            view.state = CallState::Ended;
            // "Not allowed" has the rule that refused the number below it.
            view.reason = match text(&self.bottom) {
                Some(why) => Some(format!("{}: {why}", self.top)),
                None => text(&self.top),
            };
        } else if self.line_lamp == Lamp::On {
            view.state = CallState::Dialing;
            view.peer = text(&self.bottom);
        }
        view
    }
}

fn target(remote: RemoteMedia) -> MediaTarget {
    MediaTarget {
        rtp: remote.rtp,
        rtcp_port: remote.rtcp_port,
        payload_type: remote.payload_type.0,
        ptime_ms: remote.packet_ms,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeSet, HashMap};
    use std::net::SocketAddr;

    use shared::hfa::PayloadType;

    use super::*;
    use crate::calls::channels::ChannelPlan;
    use crate::calls::control::{CallControl, CallTimers, DeviceInput, Output};
    use crate::calls::media::{MediaOffer, MediaPolicy};
    use crate::config::ValidatedConfig;
    use crate::testing::{Office, PASSWORDS, Subscriber};

    /// Three myPortal to go users.
    fn office() -> ValidatedConfig {
        Office::x3()
            .loopback_lan()
            .subscribers(
                [("201", "Anna"), ("202", "Ben"), ("203", "Clara")]
                    .into_iter()
                    .zip(PASSWORDS)
                    .map(|((number, name), password)| {
                        Subscriber::portal(number, name).password(password)
                    }),
            )
            .validated()
    }

    /// Call control with three apps attached, each with an open stream.
    struct Apps {
        cc: CallControl,
        apps: HashMap<String, (PortalAttachment, Subscription)>,
    }

    impl Apps {
        fn new() -> Self {
            let config = office();
            let timers = CallTimers::from_config(&config);
            let cc = CallControl::new(
                &config,
                timers,
                ChannelPlan::default(),
                MediaPolicy::default(),
            );
            let mut apps = Self {
                cc,
                apps: HashMap::new(),
            };
            for (i, number) in ["201", "202", "203"].into_iter().enumerate() {
                let outlet = Outlet::new(Clock::manual());
                let subscription = outlet.subscribe();
                let app = PortalAttachment::new(PortalSessionId(i as u64), outlet);
                apps.apps.insert(number.to_owned(), (app, subscription));
                apps.cc.attach(
                    number,
                    crate::calls::Origin {
                        ip: [10, 10, 0, 20].into(),
                        internet: false,
                    },
                );
                let port = 40000 + 100 * i as u16;
                apps.cc.offer_media(
                    number,
                    MediaOffer {
                        rtp: SocketAddr::from(([127, 0, 0, 1], port)),
                        rtcp_port: port + 1,
                        codecs: vec![(PayloadType::PCMA, 20)],
                    },
                );
            }
            apps.pump();
            for number in ["201", "202", "203"] {
                let first = apps.views(number);
                assert!(first.is_empty(), "an idle line sends nothing: {first:?}");
            }
            apps
        }

        /// Indications to the apps, settled once per batch.
        fn pump(&mut self) {
            let mut shown = BTreeSet::new();
            while let Some(output) = self.cc.poll_output() {
                if let Output::Indicate { device, indication } = output
                    && let Some((app, _)) = self.apps.get_mut(&device)
                {
                    app.show(&indication);
                    shown.insert(device);
                }
            }
            for device in shown {
                if let Some((app, _)) = self.apps.get_mut(&device) {
                    app.settle();
                }
            }
        }

        fn input(&mut self, number: &str, inputs: &[DeviceInput]) {
            let now = Instant::now();
            for input in inputs {
                self.cc.handle_input(now, number, input.clone());
            }
            self.pump();
        }

        fn dial(&mut self, number: &str, digits: &str) {
            let inputs: Vec<DeviceInput> = digits
                .chars()
                .chain(['#'])
                .map(DeviceInput::Digit)
                .collect();
            self.input(number, &inputs);
        }

        /// (state, peer, reason, has media) of the events since last asked.
        fn views(&mut self, number: &str) -> Vec<(CallState, String, String, bool)> {
            let (_, subscription) = self.apps.get_mut(number).expect("an app");
            let mut views = Vec::new();
            while let Ok(event) = subscription.events.try_recv() {
                if let Event::Call(view) = event {
                    views.push((
                        view.state,
                        view.peer.unwrap_or_default(),
                        view.reason.unwrap_or_default(),
                        view.media.is_some(),
                    ));
                }
            }
            views
        }
    }

    fn view(
        state: CallState,
        peer: &str,
        reason: &str,
        media: bool,
    ) -> (CallState, String, String, bool) {
        (state, peer.into(), reason.into(), media)
    }

    #[test]
    fn outgoing_incoming_hold_and_remote_hangup() {
        use CallState::*;
        let mut o = Apps::new();
        o.dial("201", "202");
        assert_eq!(o.views("201"), [view(Calling, "202 Ben", "", false)]);
        assert_eq!(o.views("202"), [view(Ringing, "201 Anna", "", false)]);
        o.input("202", &[DeviceInput::Feature(FeatureKey::Line)]);
        assert_eq!(o.views("202"), [view(Connected, "201 Anna", "", true)]);
        assert_eq!(o.views("201"), [view(Connected, "202 Ben", "", true)]);
        o.input("201", &[DeviceInput::Feature(FeatureKey::Hold)]);
        assert_eq!(o.views("201"), [view(Held, "202 Ben", "", false)]);
        assert_eq!(
            o.views("202"),
            [view(Connected, "201 Anna", "On hold", false)]
        );
        o.input("201", &[DeviceInput::Feature(FeatureKey::Hold)]);
        assert_eq!(o.views("201"), [view(Connected, "202 Ben", "", true)]);
        assert_eq!(o.views("202"), [view(Connected, "201 Anna", "", true)]);
        o.input("202", &[DeviceInput::Feature(FeatureKey::Release)]);
        let ended = [
            view(Ended, "202 Ben", "Call ended", false),
            view(Idle, "", "", false),
        ];
        assert_eq!(o.views("201"), ended, "the other side hung up");
        assert_eq!(
            o.views("202"),
            [
                view(Ended, "201 Anna", "Call ended", false),
                view(Idle, "", "", false)
            ]
        );
    }

    #[test]
    fn a_connected_call_carries_where_to_send_media() {
        let mut o = Apps::new();
        o.dial("201", "202");
        o.input("202", &[DeviceInput::Feature(FeatureKey::Line)]);
        let (app, _) = &o.apps["201"];
        let media = app.outlet.call().media.expect("media while connected");
        assert_eq!(media.rtp.to_string(), "127.0.0.1:40100", "202's address");
        assert_eq!(
            (media.rtcp_port, media.payload_type, media.ptime_ms),
            (40101, 8, 20)
        );
    }

    #[test]
    fn a_barred_number_ends_with_the_rule_that_refused_it() {
        let mut o = Apps::new();
        // Every app of this office is internal only.
        o.dial("201", "00049900123");
        assert_eq!(
            o.views("201"),
            [view(
                CallState::Ended,
                "",
                "Not allowed: No external calls",
                false
            )]
        );
    }

    #[test]
    fn busy_and_rejected_calls_end_with_the_reason() {
        use CallState::*;
        let mut o = Apps::new();
        o.dial("201", "202");
        o.input("202", &[DeviceInput::Feature(FeatureKey::Line)]);
        o.views("201");
        o.dial("203", "201");
        assert_eq!(o.views("203"), [view(Ended, "", "201 busy", false)]);
        o.input("203", &[DeviceInput::Feature(FeatureKey::Release)]);
        assert_eq!(o.views("203"), [view(Idle, "", "", false)]);

        o.input("202", &[DeviceInput::Feature(FeatureKey::Release)]);
        o.views("201");
        o.views("202");
        o.dial("203", "202");
        assert_eq!(o.views("203"), [view(Calling, "202 Ben", "", false)]);
        assert_eq!(o.views("202"), [view(Ringing, "203 Clara", "", false)]);
        o.input("202", &[DeviceInput::Reject]);
        assert_eq!(o.views("203"), [view(Ended, "", "202 rejected", false)]);
        assert_eq!(
            o.views("202"),
            [
                view(Ended, "203 Clara", "Call ended", false),
                view(Idle, "", "", false)
            ]
        );
    }

    #[test]
    fn a_stream_that_does_not_keep_up_is_closed_and_the_state_kept() {
        let outlet = Outlet::new(Clock::manual());
        let subscription = outlet.subscribe();
        assert_eq!(outlet.streamless_since(), None);
        for _ in 0..=STREAM_QUEUE {
            outlet.publish(Event::Call(idle()));
        }
        assert!(outlet.streamless_since().is_some(), "closed when full");
        drop(subscription);
        let again = outlet.subscribe();
        assert_eq!(again.current.len(), 2, "registration and call first");
    }
}
