//! Call control at work: one [`CallControl`] shared by every device
//! connection, a task that fires its deadlines, and the [`DeviceSink`]s
//! that carry its indications to devices. The front ends (HFA phones,
//! myPortal to go apps, and SIP clients later) implement the sink; call
//! control knows none of them.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tokio::sync::Notify;
use tracing::{info, warn};

use super::channels::{ChannelId, Refusal};
use super::control::{CallControl, CallEvent, DeviceInput, Output, SbcCommand};
use super::indication::Indication;
use super::media::MediaOffer;
use super::model::Origin;
use super::screen::Screen;
use crate::clock::Clock;
use crate::media::ServiceMedia;

/// The RTP proxy's figures, for `gateway status` and tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChannelFigures {
    pub capacity: usize,
    pub in_use: usize,
    pub peak: usize,
    /// Internet calls in progress (guide 2.3), one per anchored leg.
    pub internet_calls: usize,
    pub refused_no_channel: u64,
    pub refused_budget: u64,
}

/// What the SBC's data plane does for call control.
pub trait SbcControl: Send + Sync + std::fmt::Debug {
    fn apply(&self, command: &SbcCommand);
}

/// Which attachment of a number a device is: a detach names it, so that
/// an old connection or session ending leaves a newer attachment alone.
/// A front end makes it from its own identity of the attachment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AttachmentId {
    front_end: &'static str,
    id: u64,
}

impl AttachmentId {
    /// The attachment `id` of `front_end` (unique within that front end).
    pub const fn new(front_end: &'static str, id: u64) -> Self {
        Self { front_end, id }
    }
}

/// Where a registered device's indications go: a front end's handle on
/// one device (an HFA phone's connection, a myPortal to go app's session).
pub trait DeviceSink: Send + std::fmt::Debug {
    /// Which attachment this is.
    fn attachment(&self) -> AttachmentId;

    /// Takes in one indication.
    fn show(&mut self, indication: &Indication);

    /// A batch of indications is complete (an app is sent one event for
    /// the whole change; a phone got each stimulus already).
    fn settle(&mut self) {}
}

#[derive(Debug)]
struct Inner {
    control: CallControl,
    devices: HashMap<String, Box<dyn DeviceSink>>,
}

/// Call control shared by the gateway's device connections.
#[derive(Debug)]
pub struct CallService {
    inner: Mutex<Inner>,
    /// The system's own media ends (echo, announcement, test trunk).
    service_media: Option<Arc<ServiceMedia>>,
    /// The RTP proxy's data plane.
    sbc: Option<Arc<dyn SbcControl>>,
    clock: Clock,
    /// Wakes the timer task when a deadline may have moved earlier.
    deadline_changed: Notify,
}

impl CallService {
    pub fn new(
        control: CallControl,
        clock: Clock,
        service_media: Option<Arc<ServiceMedia>>,
        sbc: Option<Arc<dyn SbcControl>>,
    ) -> Arc<Self> {
        Arc::new(Self {
            service_media,
            sbc,
            inner: Mutex::new(Inner {
                control,
                devices: HashMap::new(),
            }),
            clock,
            deadline_changed: Notify::new(),
        })
    }

    /// A device registered from `origin` (replacing any earlier attachment
    /// of `number`).
    pub fn attach(&self, number: &str, sink: Box<dyn DeviceSink>, origin: Origin) {
        let mut inner = self.lock();
        inner.devices.insert(number.to_owned(), sink);
        inner.control.attach(number, origin);
        self.dispatch(&mut inner);
    }

    /// The device's attachment `attachment` ended; a newer attachment of
    /// the same number is left alone.
    pub fn detach(&self, number: &str, attachment: AttachmentId) {
        let mut inner = self.lock();
        if inner
            .devices
            .get(number)
            .is_none_or(|sink| sink.attachment() != attachment)
        {
            return;
        }
        inner.devices.remove(number);
        inner.control.detach(number);
        self.dispatch(&mut inner);
    }

    /// What the device of `number` reported.
    pub fn input(&self, number: &str, input: DeviceInput) {
        let mut inner = self.lock();
        let now = self.clock.now();
        inner.control.handle_input(now, number, input);
        self.dispatch(&mut inner);
    }

    /// Several inputs of `number` at once (an app dialling a whole
    /// number): the device is sent the outcome, not every step.
    pub fn inputs(&self, number: &str, inputs: impl IntoIterator<Item = DeviceInput>) {
        let mut inner = self.lock();
        let now = self.clock.now();
        for input in inputs {
            inner.control.handle_input(now, number, input);
        }
        self.dispatch(&mut inner);
    }

    /// The device of `number` registered again, from `origin`, with a new
    /// media address (a change of network): its calls stay up, re-anchored
    /// if it moved between the company LAN and the internet
    /// (`CallControl::rehome`), their channels learning its media from its
    /// new address, and every party is told the new targets once.
    pub fn reregister(&self, number: &str, offer: MediaOffer, origin: Origin) {
        let mut inner = self.lock();
        let now = self.clock.now();
        inner.control.rehome(now, number, origin);
        inner.control.offer_media(number, offer);
        self.dispatch(&mut inner);
    }

    /// Where and how the device of `number` receives media.
    pub fn offer_media(&self, number: &str, offer: MediaOffer) {
        let mut inner = self.lock();
        inner.control.offer_media(number, offer);
        self.dispatch(&mut inner);
    }

    /// The system's public address changed: see [`CallControl::set_public_ip`].
    pub fn set_public_ip(&self, ip: std::net::IpAddr) {
        let mut inner = self.lock();
        inner.control.set_public_ip(ip);
        self.dispatch(&mut inner);
    }

    /// The public address call control announces now.
    pub fn public_ip(&self) -> Option<std::net::IpAddr> {
        self.lock().control.channels().public_ip()
    }

    /// The media of the call holding `channel` stopped: end that call.
    pub fn media_idle(&self, channel: ChannelId) {
        let mut inner = self.lock();
        inner.control.media_idle(channel);
        self.dispatch(&mut inner);
    }

    /// Calls in progress.
    pub fn calls(&self) -> usize {
        self.lock().control.calls()
    }

    /// The RTP proxy's figures: channels in use and peak, refusals.
    pub fn channel_figures(&self) -> ChannelFigures {
        let inner = self.lock();
        let pool = inner.control.channels();
        ChannelFigures {
            capacity: pool.capacity(),
            in_use: pool.in_use(),
            peak: pool.peak,
            internet_calls: inner.control.internet_calls(),
            refused_no_channel: pool.refused_no_channel,
            refused_budget: pool.refused_budget,
        }
    }

    /// The RTP proxy channel anchoring `number`'s device in its call.
    pub fn anchor_of(&self, number: &str) -> Option<ChannelId> {
        self.lock().control.anchor_of(number)
    }

    /// What `number`'s device shows, as call control derives it.
    pub fn screen(&self, number: &str) -> Option<Screen> {
        self.lock().control.screen(number).cloned()
    }

    /// Fires call control's deadlines (until the task is aborted).
    pub async fn run_timers(self: Arc<Self>) {
        loop {
            let deadline = self.lock().control.poll_timeout();
            let sleep = async {
                match deadline {
                    Some(at) => tokio::time::sleep(self.clock.until(at)).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                () = sleep => {
                    let mut inner = self.lock();
                    let now = self.clock.now();
                    inner.control.handle_timeout(now);
                    self.dispatch(&mut inner);
                }
                () = self.deadline_changed.notified() => {}
            }
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // Every update is completed under the lock before it is released,
        // so a panic elsewhere cannot leave half a change behind.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn dispatch(&self, inner: &mut Inner) {
        let mut shown = BTreeSet::new();
        while let Some(output) = inner.control.poll_output() {
            match output {
                Output::Indicate { device, indication } => {
                    if let Some(sink) = inner.devices.get_mut(&device) {
                        sink.show(&indication);
                        shown.insert(device);
                    }
                }
                Output::ServiceMedia {
                    call,
                    party,
                    send_to,
                } => {
                    if let Some(media) = &self.service_media {
                        media.update(call, &party, send_to);
                    }
                }
                Output::Sbc(command) => {
                    if let Some(sbc) = &self.sbc {
                        sbc.apply(&command);
                    }
                }
                Output::Event(event) => log(&event),
            }
        }
        for device in shown {
            if let Some(sink) = inner.devices.get_mut(&device) {
                sink.settle();
            }
        }
        self.deadline_changed.notify_one();
    }
}

fn log(event: &CallEvent) {
    match event {
        CallEvent::Barred {
            subscriber,
            number,
            reason,
            forwarding,
        } => warn!(
            subscriber,
            dialled = number.dialled,
            destination = %number.destination,
            class = %number.class,
            %reason,
            forwarding,
            "refused by class of service: possible toll fraud ({} {} = {}, {}: {reason}, from \
             {subscriber})",
            if *forwarding {
                "forwarding to"
            } else {
                "call to"
            },
            number.dialled,
            number.destination,
            number.class,
        ),
        CallEvent::Connected { call, a, b } => info!(%call, "connected: {a} with {b}"),
        CallEvent::Released { call, by } => info!(%call, "released by {by}"),
        CallEvent::Failed {
            subscriber,
            failure,
        } => info!(subscriber, ?failure, "call attempt failed"),
        CallEvent::ProxyRefused {
            subscriber,
            refusal,
        } => warn!(
            subscriber,
            ?refusal,
            "call refused, no line free: {}",
            match refusal {
                Refusal::NoChannel => "every RTP proxy channel is in use (guide 1.3.5)",
                Refusal::NoInternetCall => "every simultaneous internet call is in use (guide 2.3)",
            }
        ),
    }
}
