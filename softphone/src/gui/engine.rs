//! The bridge between the window and the phone engine: the engine (the
//! [`HfaClient`], its media and audio) runs as a task on the tokio runtime,
//! never on the UI thread. The UI sends [`Command`]s; the engine sends
//! [`Event`]s over a channel and wakes the UI with `request_repaint`, so
//! an idle phone costs no frames.
//!
//! ```text
//! UI thread                         tokio runtime
//! Engine::send(Command) ──────────▶ engine task: check the gateway's name,
//!                                   run HfaClient + media, forward events
//! App::drain() ◀── std mpsc ◀────── Event + ctx.request_repaint()
//! ```

use std::sync::mpsc as std_mpsc;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Duration;

use shared::hfa::Message;
use shared::hfa_engine::phone::{PhoneEvent, PhoneTimers};
use tokio::sync::mpsc;

use crate::audio::{
    AudioBackend, AudioConfig, AudioControls, AudioError, AudioStreams, CpalBackend, DeviceInfo,
    DeviceSwitch, Direction, NullBackend,
};
use crate::hfa::client::MediaHandle;
use crate::hfa::{HfaAccount, HfaClient};
use crate::media::MediaOptions;
use crate::media::call::MediaReport;

use super::portal_engine::PortalEvent;

/// What the UI asks of the engine.
#[derive(Debug)]
pub enum Command {
    /// Check that the gateway's name resolves, then register (replacing a
    /// running registration). A name that does not resolve is answered
    /// with [`Event::Refused`] and nothing is sent.
    Register {
        account: Box<HfaAccount>,
        timers: PhoneTimers,
    },
    /// Send a stimulus (key press, hook switch) to the gateway.
    Send(Message),
    /// Send a DTMF digit in the call's media.
    Dtmf(char),
    /// Stop the running phone (the app changes to another personality).
    Unregister,
    /// Move the call in progress to `device` (`None`: the system default).
    MoveCall {
        which: Direction,
        device: Option<String>,
    },
}

/// What the engine tells the UI.
#[derive(Debug)]
pub enum Event {
    /// The account was refused before anything was sent; the reason.
    Refused(String),
    /// The gateway's name resolved: registration starts.
    Started,
    /// The phone's RTP socket: where its media leaves from.
    MediaBound(std::net::SocketAddr),
    /// An event of the running phone.
    Phone(PhoneEvent),
    /// A report of the call's media.
    Media(MediaReport),
    /// No sound device could be opened (for a call, which then runs
    /// without audio, or for a ringer, tone or test); why.
    NoAudio(String),
    /// The usable sound devices, when the list has changed.
    Devices(Vec<DeviceInfo>),
    /// The call in progress now uses the devices the choice names.
    CallMoved,
    /// A second `softphone tel:…` of this profile handed over its number.
    Dial(String),
    /// A second `softphone` of this profile asked the window to come forward.
    Raise,
    /// From the myPortal to go engine ([`super::portal_engine`]).
    Portal(PortalEvent),
}

/// How calls get their sound.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AudioChoice {
    /// Use the sound devices; `false`: none at all (tests, `--no-audio`).
    pub devices: bool,
    pub input: Option<String>,
    pub output: Option<String>,
    /// The device that rings (`None`: the speaker, `output`).
    pub ringer: Option<String>,
    pub muted: bool,
    pub volume: u8,
}

/// The audio of the running call, shared with the UI: the devices to open
/// at the next call, and the controls (mute, volume, level meter) and
/// devices of the call in progress.
#[derive(Debug, Clone, Default)]
pub struct SharedAudio {
    choice: Arc<Mutex<AudioChoice>>,
    live: Arc<Mutex<Option<LiveAudio>>>,
}

/// The audio of the call in progress.
#[derive(Debug, Clone)]
struct LiveAudio {
    controls: Arc<AudioControls>,
    devices: DeviceSwitch,
}

impl SharedAudio {
    pub fn new(choice: AudioChoice) -> Self {
        Self {
            choice: Arc::new(Mutex::new(choice)),
            live: Arc::default(),
        }
    }

    /// Changes the choice; mute and volume apply to a call in progress too.
    pub fn update(&self, change: impl FnOnce(&mut AudioChoice)) {
        let mut choice = self.choice.lock().unwrap_or_else(PoisonError::into_inner);
        change(&mut choice);
        if let Some(controls) = self.controls() {
            controls.set_muted(choice.muted);
            controls.set_volume(choice.volume);
        }
    }

    pub fn choice(&self) -> AudioChoice {
        self.choice
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The controls of the call's audio while one runs.
    pub fn controls(&self) -> Option<Arc<AudioControls>> {
        self.live().map(|live| live.controls)
    }

    /// The device switch of the call's audio while one runs.
    fn devices(&self) -> Option<DeviceSwitch> {
        self.live().map(|live| live.devices)
    }

    fn live(&self) -> Option<LiveAudio> {
        self.live
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn set_live(&self, live: Option<LiveAudio>) {
        *self.live.lock().unwrap_or_else(PoisonError::into_inner) = live;
    }
}

/// The back end the app gives the media: the chosen sound devices, or
/// silence when none can be opened (the call still connects).
pub(super) struct AppAudio {
    pub(super) shared: SharedAudio,
    pub(super) events: EventSender,
}

impl SharedAudio {
    /// The call's audio has stopped: no controls until the next call.
    pub(super) fn call_ended(&self) {
        *self.live.lock().unwrap_or_else(PoisonError::into_inner) = None;
    }
}

impl AudioBackend for AppAudio {
    fn start(&mut self, config: AudioConfig) -> Result<AudioStreams, AudioError> {
        let choice = self.shared.choice();
        let streams = if choice.devices {
            let mut devices = CpalBackend {
                input: choice.input.clone(),
                output: choice.output.clone(),
            };
            match devices.start(config) {
                Ok(streams) => streams,
                Err(error) => {
                    self.events.send(Event::NoAudio(error.to_string()));
                    NullBackend.start(config)?
                }
            }
        } else {
            NullBackend.start(config)?
        };
        streams.controls.set_muted(choice.muted);
        streams.controls.set_volume(choice.volume);
        self.shared.set_live(Some(LiveAudio {
            controls: Arc::clone(&streams.controls),
            devices: streams.guard.switcher(),
        }));
        Ok(streams)
    }
}

/// Sends events to the UI and wakes it (once the UI has drawn its first
/// frame and handed over its context; until then it drains on that frame).
#[derive(Debug, Clone)]
pub struct EventSender {
    events: std_mpsc::Sender<Event>,
    ctx: Arc<OnceLock<eframe::egui::Context>>,
}

impl EventSender {
    /// A sender without a UI to wake (tests read the receiver).
    #[cfg(test)]
    pub fn detached(events: std_mpsc::Sender<Event>) -> Self {
        Self {
            events,
            ctx: Arc::new(OnceLock::new()),
        }
    }

    /// Redraws the window (nothing to tell, something to show).
    fn wake(&self) {
        if let Some(ctx) = self.ctx.get() {
            ctx.request_repaint();
        }
    }

    /// `false` once the UI has gone.
    pub fn send(&self, event: Event) -> bool {
        let sent = self.events.send(event).is_ok();
        if let Some(ctx) = self.ctx.get() {
            ctx.request_repaint();
        }
        sent
    }
}

/// The UI's handle on the engine.
#[derive(Debug)]
pub struct Engine {
    commands: mpsc::UnboundedSender<Command>,
    ctx: Arc<OnceLock<eframe::egui::Context>>,
    sender: EventSender,
    /// Events not yet taken by the UI.
    pub events: std_mpsc::Receiver<Event>,
    pub audio: SharedAudio,
}

impl Engine {
    /// Starts the engine task on `runtime`.
    pub fn start(runtime: &tokio::runtime::Handle, audio: SharedAudio) -> Self {
        let (commands, command_rx) = mpsc::unbounded_channel();
        let (events, event_rx) = std_mpsc::channel();
        let ctx = Arc::new(OnceLock::new());
        let sender = EventSender {
            events,
            ctx: Arc::clone(&ctx),
        };
        runtime.spawn(run(command_rx, sender.clone(), audio.clone()));
        Self {
            commands,
            ctx,
            sender,
            events: event_rx,
            audio,
        }
    }

    /// From now on every event repaints `ctx` (the first frame calls it).
    pub fn wake(&self, ctx: &eframe::egui::Context) {
        self.ctx.get_or_init(|| ctx.clone());
    }

    /// For helpers that report to the UI too (device list, sounds).
    pub fn sender(&self) -> EventSender {
        self.sender.clone()
    }

    pub fn send(&self, command: Command) {
        let _ = self.commands.send(command);
    }

    /// Uses `device` (`None`: the system default) for `which` from now on:
    /// for the call in progress, if any, and the next ones.
    pub fn use_device(&self, which: Direction, device: Option<String>) {
        self.audio.update(|choice| match which {
            Direction::Capture => choice.input.clone_from(&device),
            Direction::Playback => choice.output.clone_from(&device),
        });
        if self.audio.devices().is_some() {
            self.send(Command::MoveCall { which, device });
        }
    }
}

/// A registered (or registering) phone.
struct Running {
    client: HfaClient,
    events: mpsc::UnboundedReceiver<PhoneEvent>,
    media: MediaHandle,
}

/// How often the call's microphone level is looked at.
const METER_PERIOD: Duration = Duration::from_millis(100);

/// The call's level meter bar in steps of 2 %: what the window shows.
fn meter_step(controls: &AudioControls) -> u32 {
    (super::sound::meter_fraction(controls.mic_level_dbfs()) * 50.0).round() as u32
}

async fn run(mut commands: mpsc::UnboundedReceiver<Command>, ui: EventSender, audio: SharedAudio) {
    let mut running: Option<Running> = None;
    // The meter redraws the window only when its bar would move: not at
    // all in a quiet room (below -60 dBFS the bar is empty).
    let mut meter = tokio::time::interval(METER_PERIOD);
    meter.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut meter_shown = None;
    loop {
        tokio::select! {
            _ = meter.tick(), if audio.controls().is_some() => {
                let step = audio.controls().map(|controls| meter_step(&controls));
                if step != meter_shown {
                    meter_shown = step;
                    ui.wake();
                }
            }
            command = commands.recv() => match command {
                Some(Command::Register { account, timers }) => {
                    if let Some(old) = running.take() {
                        old.client.stop().await;
                    }
                    running = register(*account, timers, &ui, &audio).await;
                }
                Some(Command::Send(message)) => {
                    if let Some(phone) = &running {
                        phone.client.send(message);
                    }
                }
                Some(Command::Dtmf(digit)) => {
                    if let Some(phone) = &running {
                        phone.client.send_dtmf(digit);
                    }
                }
                Some(Command::Unregister) => {
                    if let Some(old) = running.take() {
                        old.client.stop().await;
                    }
                }
                Some(Command::MoveCall { which, device }) => {
                    if let Some(devices) = audio.devices() {
                        tokio::task::spawn_blocking({
                            let ui = ui.clone();
                            move || move_call(&devices, which, device, &ui)
                        });
                    }
                }
                None => break, // the UI has gone
            },
            from_phone = next_from(running.as_mut()) => match from_phone {
                FromPhone::Event(Some(event)) => {
                    if !ui.send(Event::Phone(event)) {
                        break;
                    }
                }
                FromPhone::Event(None) => running = None, // the client stopped
                FromPhone::Report(report) => {
                    if matches!(report, MediaReport::Stopped(_)) {
                        audio.set_live(None);
                        meter_shown = None;
                    }
                    if !ui.send(Event::Media(report)) {
                        break;
                    }
                }
            },
        }
    }
    if let Some(phone) = running {
        phone.client.stop().await;
    }
}

/// Moves the call's `which` to `device`; blocks while the device opens.
fn move_call(devices: &DeviceSwitch, which: Direction, device: Option<String>, ui: &EventSender) {
    match devices.switch(which, device.as_deref()) {
        Ok(()) => ui.send(Event::CallMoved),
        Err(error) => ui.send(Event::NoAudio(format!(
            "the call could not move to the {which} device {}: {error}",
            device.as_deref().unwrap_or("default")
        ))),
    };
}

async fn register(
    account: HfaAccount,
    timers: PhoneTimers,
    ui: &EventSender,
    audio: &SharedAudio,
) -> Option<Running> {
    let gateway = &account.gateway;
    let resolved = tokio::net::lookup_host((gateway.host.as_str(), gateway.port))
        .await
        .map(|addresses| addresses.count());
    match resolved {
        Ok(found) if found > 0 => {}
        Ok(_) => {
            ui.send(Event::Refused(format!(
                "{}: the name has no address",
                gateway.host
            )));
            return None;
        }
        Err(error) => {
            ui.send(Event::Refused(format!(
                "{}: cannot resolve the name ({error})",
                gateway.host
            )));
            return None;
        }
    }
    let backend = AppAudio {
        shared: audio.clone(),
        events: ui.clone(),
    };
    let mut options = MediaOptions::g711(Box::new(backend));
    options.report_every = super::quality::REPORT_EVERY;
    if crate::hfa::account::has_g722(account.phone_id) {
        options.offer_g722();
    }
    match HfaClient::spawn_with_media(account, timers, options).await {
        Ok((client, events, media)) => {
            ui.send(Event::Started);
            ui.send(Event::MediaBound(media.local_rtp));
            Some(Running {
                client,
                events,
                media,
            })
        }
        Err(error) => {
            ui.send(Event::Refused(format!(
                "cannot open the media sockets: {error}"
            )));
            None
        }
    }
}

/// What a running phone produced next.
enum FromPhone {
    /// A phone event; `None` when its client has stopped.
    Event(Option<PhoneEvent>),
    Report(MediaReport),
}

/// The next event or media report of the running phone; never completes
/// without one.
async fn next_from(running: Option<&mut Running>) -> FromPhone {
    let Some(phone) = running else {
        return std::future::pending().await;
    };
    tokio::select! {
        event = phone.events.recv() => FromPhone::Event(event),
        Some(report) = phone.media.reports.recv() => FromPhone::Report(report),
    }
}
