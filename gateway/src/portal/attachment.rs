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
use crate::calls::{DisplayRow, FeatureKey, Indication, Lamp, MediaIndication, Tone};
use crate::clock::Clock;

/// Events queued for one stream before it counts as stuck and is closed
/// (the app reconnects and gets the current state first).
const STREAM_QUEUE: usize = 64;

/// Identifies one login session for the life of the gateway.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PortalSessionId(pub u64);

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

    /// The login session this app registered in.
    pub fn session(&self) -> PortalSessionId {
        self.session
    }

    /// Takes in one indication (sent on at [`Self::settle`]).
    pub fn show(&mut self, indication: &Indication) {
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
    pub fn settle(&mut self) {
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
            view.reason = text(&self.top);
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
