//! The app shell: the account dialog on first run, the menu bar (Phone,
//! Demo, View), the status line, the audio window and the call journal,
//! around one of two personalities, each in its own module: [`hfa`] (the
//! desk phone's model and stimuli, drawn by [`super::face`]) and
//! [`portal`] (myPortal to go, drawn by [`super::portal_face`]). The
//! engines' events arrive on one channel and are dispatched here. It never
//! blocks and repaints only when an event arrives, a LED flashes, or a
//! clock shown moves on.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use eframe::egui;
use shared::hfa_engine::phone::{PhoneEvent, PhoneState, PhoneTimers};
use shared::secret::Secret;

use super::account::{self, AccountDialog, DialogAction};
use super::demo::Demo;
use super::engine::{AudioChoice, Command, Engine, Event, SharedAudio};
use super::feedback::Feedback;
use super::journal::{Journal, Tracker, format_duration};
use super::notification::Notifier;
use super::path::model::Route;
use super::portal_engine::PortalEvent;
use super::portal_face::PortalFace;
use super::settings::{Personality, Profile, Settings, Theme};
use super::sound::{self, AudioAction, AudioView, DeviceWatch, Lister, Role, Sounds};
use super::views::Views;
use crate::audio::{DeviceInfo, Direction};
use crate::hfa::PhoneModel;
use crate::media::call::MediaReport;
use crate::portal::agent::AgentEvent;
use crate::portal::agent::AgentTimers;

mod hfa;
mod portal;

/// How the app is started.
#[derive(Debug, Clone)]
pub struct AppOptions {
    pub profile: Profile,
    /// Open sound devices for calls (`false`: calls run without audio).
    pub audio_devices: bool,
    pub timers: PhoneTimers,
    /// Connect from this local address (the demo's "home" address).
    pub bind: Option<IpAddr>,
    /// A number to dial once registered (a `tel:` link).
    pub dial: Option<String>,
    /// Where the sound device list comes from.
    pub list_devices: Lister,
    /// Show a desktop notification when a call comes in.
    pub notifications: bool,
}

/// The registration as the user reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Status {
    NoAccount,
    /// The engine is checking the account before registering.
    Checking,
    Phone(PhoneState),
    /// The connection broke; the engine reconnects.
    Lost(String),
}

pub struct PhoneApp {
    profile: Profile,
    settings: Settings,
    timers: PhoneTimers,
    bind: Option<IpAddr>,
    engine: Engine,
    model: PhoneModel,
    status: Status,
    dialog: Option<AccountDialog>,
    journal: Journal,
    tracker: Tracker,
    /// When the call timer was shown.
    timer_since: Option<Instant>,
    /// Why the last call had no sound.
    no_audio: Option<String>,
    /// A problem to show the user (a file that could not be saved).
    notice: Option<String>,
    /// The firmware update the system delivered, said once it happened.
    update: Option<String>,
    /// The last title sent to the window.
    title: String,
    /// A number waiting for the registration to be dialled.
    pending_dial: Option<String>,
    /// The password of a dialog being applied, saved once accepted.
    unsaved_password: Option<Secret>,
    /// The demo office, when the app runs as `make run`.
    demo: Option<Demo>,
    sounds: Sounds,
    device_watch: DeviceWatch,
    /// The usable sound devices, once listed.
    devices: Option<Vec<DeviceInfo>>,
    /// The audio settings window is open.
    audio_open: bool,
    notifier: Option<Notifier>,
    /// The myPortal to go personality (its agent runs while chosen).
    portal: PortalFace,
    /// The path view and the quality panel.
    views: Views,
    /// The call summaries and the feedback archive (guide 7).
    feedback: Feedback,
}

impl PhoneApp {
    /// The app on `runtime`, from the profile's saved settings: registering
    /// at once when an account is saved, else showing the account dialog.
    pub fn new(options: AppOptions, runtime: &tokio::runtime::Handle) -> Self {
        let (settings, notice) = match options.profile.load() {
            Ok(settings) => (settings, None),
            Err(error) => (Settings::default(), Some(error.to_string())),
        };
        let audio = SharedAudio::new(AudioChoice {
            devices: options.audio_devices,
            muted: false,
            volume: settings.volume.unwrap_or(100),
            ..preferred_devices(&settings)
        });
        let engine = Engine::start(runtime, audio);
        let volume = settings.volume.unwrap_or(100);
        let sounds = Sounds::new(options.audio_devices, volume, engine.sender());
        let device_watch = DeviceWatch::start(options.list_devices, engine.sender());
        let journal = Journal::load(&options.profile);
        let portal = PortalFace::new(
            runtime,
            engine.sender(),
            engine.audio.clone(),
            AgentTimers::default(),
        );
        let feedback = Feedback::new(&options.profile, runtime);
        let mut app = Self {
            feedback,
            profile: options.profile,
            settings,
            timers: options.timers,
            bind: options.bind,
            engine,
            model: PhoneModel::new(),
            status: Status::NoAccount,
            dialog: None,
            journal,
            tracker: Tracker::default(),
            timer_since: None,
            no_audio: None,
            notice,
            update: None,
            title: String::new(),
            pending_dial: options.dial,
            unsaved_password: None,
            demo: None,
            sounds,
            device_watch,
            devices: None,
            audio_open: false,
            notifier: options.notifications.then(|| Notifier::start(runtime)),
            portal,
            views: Views::default(),
        };
        app.start_personality();
        app
    }

    /// Registers the chosen personality's saved account, or asks for one.
    fn start_personality(&mut self) {
        match self.settings.personality {
            Personality::Hfa => {
                self.portal.stop();
                self.views.path.set_client(super::path::HFA, self.bind);
                let password = self.profile.password().ok().flatten();
                match (&self.settings.account, password) {
                    (Some(_), Some(password)) => self.register(password),
                    _ => self.dialog = Some(self.account_dialog()),
                }
            }
            Personality::Portal => {
                self.engine.send(Command::Unregister);
                self.model = PhoneModel::new();
                self.status = Status::NoAccount;
                let password = self.profile.uc_password().ok().flatten();
                match (self.settings.portal.clone(), password) {
                    (Some(account), Some(password)) => self.portal.start(account, password),
                    _ => self.dialog = Some(self.account_dialog()),
                }
            }
        }
    }

    /// Changes to `personality` with its saved account.
    pub fn set_personality(&mut self, personality: Personality) {
        if personality != self.settings.personality {
            self.settings.personality = personality;
            self.save_settings();
            self.dialog = None;
            self.start_personality();
        }
    }

    fn account_dialog(&self) -> AccountDialog {
        AccountDialog::new(account::Current {
            hfa: self.settings.account.as_ref(),
            portal: self.settings.portal.as_ref(),
            personality: self.settings.personality,
            has_uc_password: self.profile.uc_password().ok().flatten().is_some(),
        })
    }

    /// For helpers that report to the window (the `tel:` socket).
    pub fn sender(&self) -> super::engine::EventSender {
        self.engine.sender()
    }

    /// Shows the demo menu, for the demo office `demo` (kept running).
    pub fn set_demo(&mut self, demo: Demo) {
        self.views.path.set_probe(demo.gateway_probe());
        self.demo = Some(demo);
    }

    /// Dials `number` now if registered and idle, else once registered.
    pub fn dial_later(&mut self, number: String) {
        if self.settings.personality == Personality::Portal {
            self.portal.dial(&number);
            return;
        }
        self.pending_dial = Some(number);
        self.dial_pending();
    }

    /// Waits up to `patience` for the engine's next event and handles it;
    /// `false` if none came (tests wait on events, never on the clock).
    #[cfg(test)]
    pub fn wait_for_event(&mut self, patience: Duration) -> bool {
        match self.engine.events.recv_timeout(patience) {
            Ok(event) => {
                self.handle(event, None);
                true
            }
            Err(_) => false,
        }
    }

    /// The live views, for a test office's gateway and for assertions.
    #[cfg(test)]
    pub fn views_mut(&mut self) -> &mut Views {
        &mut self.views
    }

    #[cfg(test)]
    pub fn feedback_mut(&mut self) -> &mut Feedback {
        &mut self.feedback
    }

    #[cfg(test)]
    pub fn views(&self) -> &Views {
        &self.views
    }

    #[cfg(test)]
    pub fn model(&self) -> &PhoneModel {
        &self.model
    }

    #[cfg(test)]
    pub fn ringing_device(&self) -> Option<String> {
        self.engine.audio.choice().ringer
    }

    #[cfg(test)]
    pub fn audio_choice(&self) -> AudioChoice {
        self.engine.audio.choice()
    }

    #[cfg(test)]
    pub fn journal(&self) -> &Journal {
        &self.journal
    }

    #[cfg(test)]
    pub fn portal(&self) -> &PortalFace {
        &self.portal
    }

    /// The whole window.
    pub fn ui(&mut self, ui: &mut egui::Ui) {
        self.engine.wake(ui.ctx());
        while let Ok(event) = self.engine.events.try_recv() {
            self.handle(event, Some(ui.ctx()));
        }
        self.update_title(ui.ctx());
        let theme = match self.settings.theme {
            Theme::Light => egui::Theme::Light,
            Theme::Dark => egui::Theme::Dark,
        };
        ui.ctx().set_theme(theme);
        egui::Panel::top("menu").show(ui, |ui| self.menu_bar(ui));
        egui::Panel::bottom("status").show(ui, |ui| self.status_line(ui));
        if let Some(mut dialog) = self.dialog.take() {
            let can_cancel = match self.settings.personality {
                Personality::Hfa => {
                    self.settings.account.is_some()
                        && !matches!(self.status, Status::NoAccount | Status::Checking)
                }
                Personality::Portal => self.portal.account().is_some(),
            };
            let portal_status = self.portal.status_text();
            let action = egui::CentralPanel::default()
                .show(ui, |ui| dialog.show(ui, can_cancel, &portal_status))
                .inner;
            self.dialog = Some(dialog);
            match action {
                Some(DialogAction::ApplyPortal(account, password)) => {
                    self.apply_portal(account, password);
                }
                Some(DialogAction::Apply(account, password)) => {
                    if self.settings.personality == Personality::Portal {
                        self.portal.stop();
                        self.settings.personality = Personality::Hfa;
                    }
                    self.settings.account = Some(account);
                    self.unsaved_password = Some(password.clone());
                    self.register(password);
                }
                Some(DialogAction::Cancel) => self.dialog = None,
                None => {}
            }
            return;
        }
        self.audio_window(ui.ctx());
        self.feedback.window(ui.ctx());
        if self.views.show(ui.ctx(), &mut self.settings.open_views) {
            self.save_settings();
        }
        if self.settings.personality == Personality::Portal {
            self.portal_ui(ui);
            return;
        }
        egui::Panel::right("journal")
            .default_size(300.0)
            .min_size(260.0)
            .show(ui, |ui| self.journal_panel(ui));
        egui::CentralPanel::default().show(ui, |ui| self.phone(ui));
    }

    fn handle(&mut self, event: Event, ctx: Option<&egui::Context>) {
        self.views_see(&event);
        match event {
            Event::Refused(why) => {
                self.status = Status::NoAccount;
                let fresh = self.account_dialog();
                let dialog = self.dialog.get_or_insert(fresh);
                dialog.checking = false;
                dialog.error = Some(why);
            }
            Event::Started => {
                if let Some(dialog) = &mut self.dialog {
                    dialog.checking = false;
                }
                self.dialog = None;
                self.save_account();
            }
            Event::Phone(PhoneEvent::StateChanged(state)) => {
                if let PhoneState::Declined { .. } = state {
                    // Offer the account again: the password or number is wrong.
                    self.dialog = Some(self.account_dialog());
                }
                let registered = matches!(state, PhoneState::Registered { .. });
                self.status = Status::Phone(state);
                if registered {
                    self.dial_pending();
                }
            }
            Event::Phone(PhoneEvent::ConnectionLost(loss)) => {
                self.status = Status::Lost(loss.to_string());
                self.model = PhoneModel::new();
                self.sounds.stop_call_sounds();
                if let Some(notifier) = &self.notifier {
                    notifier.stopped();
                }
            }
            Event::Phone(PhoneEvent::SoftwareUpdated { from, to }) => {
                self.settings.hfa_release = Some(to.to_string());
                self.save_settings();
                self.update = Some(format!(
                    "Software updated from {from} to {to} by the system (connected \
                     internally, guide 1.3.4)"
                ));
            }
            Event::Phone(PhoneEvent::Received(message)) => {
                self.sounds.message(&message, &self.engine.audio.choice());
                let changes = self.model.apply(&message);
                self.changed(&changes, ctx);
                let party = self
                    .model
                    .media()
                    .map(|_| self.model.display_row(0).trim().to_owned());
                self.views.path.party(party);
            }
            Event::Phone(_) | Event::MediaBound(_) => {}
            Event::Media(MediaReport::Audio(event)) => {
                self.no_audio = Some(format!("{event:?}"));
            }
            Event::Media(_) => {}
            Event::NoAudio(why) => self.no_audio = Some(why),
            Event::Devices(devices) => self.devices_changed(devices),
            Event::CallMoved => self.no_audio = None,
            Event::Dial(number) => {
                raise(ctx);
                self.dial_later(number);
            }
            Event::Raise => raise(ctx),
            Event::Portal(event) => {
                let outputs = self.portal.handle(event);
                self.portal_outputs(outputs, ctx);
            }
        }
    }

    /// What the live views learn from an event: the media's reports and
    /// socket, the registration, the other party as the display shows it.
    fn views_see(&mut self, event: &Event) {
        match event {
            Event::Media(report) => {
                self.views.media(report);
                self.feedback.media(report, &self.settings);
            }
            Event::MediaBound(local) => self.views.path.local_media(*local),
            Event::Phone(PhoneEvent::StateChanged(state)) => {
                let server =
                    self.settings.account.as_ref().map(|account| {
                        format!("{}:{}", account.gateway_host, account.gateway_port)
                    });
                // An HFA phone at home reaches the company's public address.
                let registered = matches!(state, PhoneState::Registered { .. });
                let route = server.filter(|_| registered).map(|s| (Route::Wan, s));
                self.views.path.registration(route);
            }
            Event::Phone(PhoneEvent::ConnectionLost(_)) => self.views.path.registration(None),
            Event::Portal(PortalEvent::Agent(agent)) => match &**agent {
                AgentEvent::Media(report) => {
                    self.views.media(report);
                    self.feedback.media(report, &self.settings);
                }
                AgentEvent::Registered {
                    server,
                    rtp,
                    internet,
                    ..
                } => {
                    let route = if *internet { Route::Wan } else { Route::Lan };
                    self.views.path.set_client(super::path::PORTAL, None);
                    self.views.path.local_media(*rtp);
                    self.views
                        .path
                        .registration(Some((route, server.to_string())));
                }
                // The other party while the call has media, as for the desk phone.
                AgentEvent::Call(view) => {
                    let party = view.media.as_ref().and(view.peer.clone());
                    self.views.path.party(party);
                }
                // Registering again, unavailable or logged out: no path.
                AgentEvent::Status(change)
                    if !matches!(change.status, crate::portal::Status::Registered { .. }) =>
                {
                    self.views.path.registration(None);
                }
                _ => {}
            },
            _ => {}
        }
    }

    fn journal_panel(&mut self, ui: &mut egui::Ui) {
        ui.heading("Journal");
        if self.journal.entries.is_empty() {
            ui.label("No calls yet.");
        }
        let mut call_back = None;
        egui::ScrollArea::vertical().show(ui, |ui| {
            for entry in &self.journal.entries {
                ui.horizontal(|ui| {
                    let kind = egui::RichText::new(entry.kind.name());
                    let kind = match entry.kind {
                        super::journal::Kind::Missed => kind.color(ui.visuals().error_fg_color),
                        _ => kind,
                    };
                    ui.label(kind);
                    let text = format!(
                        "{}  {}  {}",
                        entry.label,
                        entry.time,
                        format_duration(entry.seconds)
                    );
                    if entry.number.is_empty() {
                        ui.label(text);
                    } else if ui
                        .link(text)
                        .on_hover_text(format!("Call {}", entry.number))
                        .clicked()
                    {
                        call_back = Some(entry.number.clone());
                    }
                });
            }
        });
        if let Some(number) = call_back {
            self.dial_later(number);
        }
    }

    fn menu_bar(&mut self, ui: &mut egui::Ui) {
        egui::MenuBar::new().ui(ui, |ui| {
            ui.menu_button("Phone", |ui| {
                if ui.button("Account…").clicked() {
                    self.dialog = Some(self.account_dialog());
                }
                if self.settings.personality == Personality::Portal
                    && self.portal.account().is_some()
                    && ui.button("VoIP settings…").clicked()
                {
                    let has_password = self.profile.uc_password().ok().flatten().is_some();
                    self.portal.open_settings(has_password);
                }
                if ui.button("Audio…").clicked() {
                    self.audio_open = true;
                    self.device_watch.refresh();
                }
                ui.separator();
                self.feedback.menu_entry(ui);
            });
            if let Some(demo) = &self.demo {
                let mut dial = None;
                let mut personality = self.settings.personality;
                ui.menu_button("Demo", |ui| {
                    ui.radio_value(
                        &mut personality,
                        Personality::Hfa,
                        format!("HFA desk phone ({})", super::demo::USER),
                    );
                    ui.radio_value(
                        &mut personality,
                        Personality::Portal,
                        format!("myPortal to go ({})", super::demo::PORTAL_USER),
                    );
                    ui.separator();
                    if ui.button("Call me (202 calls you)").clicked() {
                        demo.call_me(personality);
                    }
                    if ui.button("Echo test (*98)").clicked() {
                        dial = Some("*98");
                    }
                    if ui.button("Announcement (*99)").clicked() {
                        dial = Some("*99");
                    }
                    if ui.button("Call 202 (answers with speech)").clicked() {
                        dial = Some("202");
                    }
                });
                if let Some(number) = dial {
                    self.dial_later(number.to_owned());
                }
                self.set_personality(personality);
            }
            // The View menu: the theme, and the windows that show the call.
            ui.menu_button("View", |ui| {
                if Views::menu(ui, &mut self.settings.open_views) {
                    self.save_settings();
                }
                ui.separator();
                let mut theme = self.settings.theme;
                ui.radio_value(&mut theme, Theme::Light, "Light");
                ui.radio_value(&mut theme, Theme::Dark, "Dark");
                if theme != self.settings.theme {
                    self.settings.theme = theme;
                    self.save_settings();
                }
            });
        });
    }

    /// The audio settings, while open.
    fn audio_window(&mut self, ctx: &egui::Context) {
        if !self.audio_open {
            return;
        }
        let choice = self.engine.audio.choice();
        let view = AudioView {
            enabled: self.sounds.enabled(),
            devices: self.devices.as_deref(),
            choice: &choice,
            mic_level: self.sounds.microphone_level(),
            testing_microphone: self.sounds.testing_microphone(),
            problem: self.no_audio.as_deref(),
        };
        let mut open = true;
        let actions = egui::Window::new("Audio")
            .open(&mut open)
            .resizable(false)
            .collapsible(false)
            .default_pos([200.0, 140.0])
            .show(ctx, |ui| sound::audio_window(ui, &view))
            .and_then(|shown| shown.inner)
            .unwrap_or_default();
        for action in actions {
            self.audio_action(action, &choice);
        }
        if self.sounds.testing_microphone() {
            ctx.request_repaint_after(METER_PERIOD);
        }
        if !open {
            self.audio_open = false;
            self.sounds.test_microphone(false, &choice);
        }
    }

    fn audio_action(&mut self, action: AudioAction, choice: &AudioChoice) {
        match action {
            AudioAction::Input(id) => {
                self.settings.input_device.clone_from(&id);
                self.use_device(Role::Microphone, id);
                self.save_settings();
            }
            AudioAction::Output(id) => {
                self.settings.output_device.clone_from(&id);
                self.use_device(Role::Speaker, id);
                self.save_settings();
            }
            AudioAction::Ringer(id) => {
                self.settings.ringing_device.clone_from(&id);
                self.use_device(Role::Ringing, id);
                self.save_settings();
            }
            AudioAction::TestTone => {
                self.no_audio = None;
                self.sounds.test_tone(choice);
            }
            AudioAction::TestRinging => {
                self.no_audio = None;
                self.sounds.test_ringing(choice);
            }
            AudioAction::TestMicrophone(on) => {
                self.no_audio = None;
                self.sounds.test_microphone(on, choice);
            }
        }
    }

    /// Uses `device` for `role` now: a call in progress moves to it.
    fn use_device(&self, role: Role, device: Option<String>) {
        match role {
            Role::Microphone => self.engine.use_device(Direction::Capture, device),
            Role::Speaker => self.engine.use_device(Direction::Playback, device),
            Role::Ringing => self.engine.audio.update(|choice| choice.ringer = device),
        }
    }

    /// A new device list: a chosen device that has gone gives way to the
    /// system default (saying so), and is used again once it is back.
    fn devices_changed(&mut self, devices: Vec<DeviceInfo>) {
        let before = self.devices.take().unwrap_or_default();
        let changes = sound::follow_devices(
            &preferred_devices(&self.settings),
            &self.engine.audio.choice(),
            &before,
            &devices,
        );
        let mut whys = Vec::new();
        for change in changes {
            self.use_device(change.role, change.device);
            whys.push(change.why);
        }
        if !whys.is_empty() {
            self.notice = Some(whys.join(" "));
        }
        self.devices = Some(devices);
    }

    fn save_settings(&mut self) {
        if let Err(error) = self.profile.save(&self.settings) {
            self.notice = Some(format!("Settings not saved: {error}"));
        }
    }

    fn status_line(&mut self, ui: &mut egui::Ui) {
        if self.settings.personality == Personality::Portal {
            ui.add(egui::Label::new(self.portal.status_text()).truncate());
        } else {
            self.hfa_status(ui);
        }
        if let Some(update) = &self.update {
            ui.label(update);
        }
        if let Some(notice) = &self.notice {
            ui.colored_label(ui.visuals().warn_fg_color, notice);
        }
    }

    fn number(&self) -> &str {
        match self.settings.personality {
            Personality::Hfa => self
                .settings
                .account
                .as_ref()
                .map_or("", |account| account.number.as_str()),
            Personality::Portal => self
                .settings
                .portal
                .as_ref()
                .map_or("", |account| account.user.as_str()),
        }
    }

    /// The window title says the registration state.
    fn update_title(&mut self, ctx: &egui::Context) {
        let state = match &self.status {
            _ if self.settings.personality == Personality::Portal => {
                if self.portal.registered() {
                    "registered".to_owned()
                } else {
                    "not registered".to_owned()
                }
            }
            Status::Phone(PhoneState::Registered { .. }) => "registered".to_owned(),
            Status::Phone(PhoneState::Declined { .. }) => "registration refused".to_owned(),
            Status::Phone(_) | Status::Checking => "registering".to_owned(),
            Status::Lost(_) => "connection lost".to_owned(),
            Status::NoAccount => "no account".to_owned(),
        };
        let title = match self.number() {
            "" => format!("Device@Home softphone: {state}"),
            number => format!("Device@Home {number}: {state}"),
        };
        if title != self.title {
            ctx.send_viewport_cmd(egui::ViewportCommand::Title(title.clone()));
            self.title = title;
        }
    }
}

/// The devices the settings name (the rest of the choice at its default).
fn preferred_devices(settings: &Settings) -> AudioChoice {
    AudioChoice {
        input: settings.input_device.clone(),
        output: settings.output_device.clone(),
        ringer: settings.ringing_device.clone(),
        ..AudioChoice::default()
    }
}

/// Brings the window to the front.
fn raise(ctx: Option<&egui::Context>) {
    if let Some(ctx) = ctx {
        ctx.send_viewport_cmd(egui::ViewportCommand::Minimized(false));
        ctx.send_viewport_cmd(egui::ViewportCommand::Focus);
    }
}

/// How often the microphone test's level meter redraws.
const METER_PERIOD: Duration = Duration::from_millis(100);

/// Local time for the journal, "2026-11-20 14:03".
pub(super) fn local_time() -> String {
    jiff::ZonedDateTime::now()
        .strftime("%Y-%m-%d %H:%M")
        .to_string()
}

impl eframe::App for PhoneApp {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        PhoneApp::ui(self, ui);
    }
}
