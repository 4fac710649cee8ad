//! The app: the account dialog on first run, then the HFA desk phone's
//! face, the registration state, and the call journal. It holds the phone
//! model (what the gateway sent) and turns the user's presses into
//! stimuli for the engine; it never blocks and repaints only when an event
//! arrives, a LED flashes, or a clock shown on the display moves on.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use eframe::egui;
use shared::hfa_engine::phone::{PhoneEvent, PhoneState, PhoneTimers};
use shared::secret::Secret;

use super::account::{AccountDialog, DialogAction};
use super::demo::Demo;
use super::engine::{AudioChoice, Command, Engine, Event, SharedAudio};
use super::face::{self, FaceState, Input};
use super::journal::{Journal, Tracker, format_duration};
use super::notification::Notifier;
use super::path::model::Route;
use super::settings::{Profile, Settings, Theme};
use super::sound::{self, AudioAction, AudioView, DeviceWatch, Lister, Sounds};
use super::views::Views;
use crate::audio::DeviceInfo;
use crate::hfa::{Change, ClockShown, GatewayAddress, HfaAccount, PhoneModel};
use crate::hfa::{press_digit, press_feature};
use crate::media::call::MediaReport;

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
    /// The path view and the quality panel.
    views: Views,
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
            input: settings.input_device.clone(),
            output: settings.output_device.clone(),
            ringer: settings.ringing_device.clone(),
            muted: false,
            volume: settings.volume.unwrap_or(100),
        });
        let engine = Engine::start(runtime, audio);
        let sounds = Sounds::new(options.audio_devices, engine.sender());
        let device_watch = DeviceWatch::start(options.list_devices, engine.sender());
        let journal = Journal::load(&options.profile);
        let mut app = Self {
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
            title: String::new(),
            pending_dial: options.dial,
            unsaved_password: None,
            demo: None,
            sounds,
            device_watch,
            devices: None,
            audio_open: false,
            notifier: options.notifications.then(|| Notifier::start(runtime)),
            views: Views::default(),
        };
        app.views.path.set_client("HFA", app.bind);
        let password = app.profile.password().ok().flatten();
        match (app.settings.account.clone(), password) {
            (Some(_), Some(password)) => app.register(password),
            (current, _) => app.dialog = Some(AccountDialog::new(current.as_ref())),
        }
        app
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
    pub fn journal(&self) -> &Journal {
        &self.journal
    }

    fn register(&mut self, password: Secret) {
        let Some(settings) = &self.settings.account else {
            return;
        };
        let gateway = GatewayAddress {
            host: settings.gateway_host.clone(),
            port: settings.gateway_port,
        };
        let mut account = match HfaAccount::new(gateway, &settings.number, password) {
            Ok(account) => account,
            Err(error) => {
                self.dialog = Some(AccountDialog::new(Some(settings)));
                if let Some(dialog) = &mut self.dialog {
                    dialog.error = Some(error.to_string());
                }
                return;
            }
        };
        account.phone_id = settings.phone_type.id();
        account.bind_address = self.bind;
        self.model = PhoneModel::new();
        self.status = Status::Checking;
        self.engine.send(Command::Register {
            account: Box::new(account),
            timers: self.timers,
        });
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
            let can_cancel = self.settings.account.is_some()
                && !matches!(self.status, Status::NoAccount | Status::Checking);
            let action = egui::CentralPanel::default()
                .show(ui, |ui| dialog.show(ui, can_cancel))
                .inner;
            self.dialog = Some(dialog);
            match action {
                Some(DialogAction::Apply(account, password)) => {
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
        if self.views.show(ui.ctx(), &mut self.settings.open_views) {
            self.save_settings();
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
                let dialog = self
                    .dialog
                    .get_or_insert_with(|| AccountDialog::new(self.settings.account.as_ref()));
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
                    self.dialog = Some(AccountDialog::new(self.settings.account.as_ref()));
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
            Event::Devices(devices) => self.devices = Some(devices),
            Event::Dial(number) => {
                raise(ctx);
                self.dial_later(number);
            }
            Event::Raise => raise(ctx),
        }
    }

    /// What the live views learn from an event: the media's reports and
    /// socket, the registration, the other party as the display shows it.
    fn views_see(&mut self, event: &Event) {
        match event {
            Event::Media(report) => self.views.media(report),
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
            _ => {}
        }
    }

    fn changed(&mut self, changes: &[Change], ctx: Option<&egui::Context>) {
        let now = Instant::now();
        for change in changes {
            match change {
                Change::Clock(Some(ClockShown::CallTimer)) => self.timer_since = Some(now),
                Change::Clock(_) => self.timer_since = None,
                Change::Ringer(true) => {
                    if let Some(notifier) = &self.notifier {
                        let caller = self.model.display_row(0).trim().to_owned();
                        notifier.ringing(caller);
                    }
                    if let Some(ctx) = ctx {
                        ctx.send_viewport_cmd(egui::ViewportCommand::Focus);
                        ctx.send_viewport_cmd(egui::ViewportCommand::RequestUserAttention(
                            egui::UserAttentionType::Critical,
                        ));
                    }
                }
                Change::Ringer(false) => {
                    if let Some(notifier) = &self.notifier {
                        notifier.stopped();
                    }
                }
                Change::Media(Some(_)) => self.no_audio = None,
                _ => {}
            }
        }
        if let Some(entry) = self.tracker.changed(now, changes, &self.model, local_time) {
            self.journal.record(entry);
            if let Err(error) = self.journal.save(&self.profile) {
                self.notice = Some(format!("The journal was not saved: {error}"));
            }
        }
    }

    /// Saves the account once the engine accepted it.
    fn save_account(&mut self) {
        let mut problems = Vec::new();
        if let Some(password) = self.unsaved_password.take()
            && let Err(error) = self.profile.save_password(&password)
        {
            problems.push(error.to_string());
        }
        if let Err(error) = self.profile.save(&self.settings) {
            problems.push(error.to_string());
        }
        if !problems.is_empty() {
            self.notice = Some(format!("Settings not saved: {}", problems.join("; ")));
        }
    }

    fn registered(&self) -> bool {
        matches!(self.status, Status::Phone(PhoneState::Registered { .. }))
    }

    fn dial_pending(&mut self) {
        if !self.registered() {
            return;
        }
        let Some(number) = self.pending_dial.take() else {
            return;
        };
        self.input(Input::OffHook);
        for digit in number.chars().chain(['#']) {
            self.input(Input::Digit(digit));
        }
    }

    /// One press on the face or the keyboard, as stimuli.
    fn input(&mut self, input: Input) {
        match input {
            Input::Digit(digit) => {
                if let Some(message) = press_digit(digit) {
                    self.engine.send(Command::Send(message));
                    self.tracker.dialled(digit, local_time);
                    if self.model.media().is_some() {
                        self.engine.send(Command::Dtmf(digit));
                    }
                }
            }
            Input::FunctionKey(fpk) => {
                if let Some(message) = press_feature(fpk) {
                    self.engine.send(Command::Send(message));
                }
            }
            Input::OffHook => {
                let message = self.model.off_hook();
                self.engine.send(Command::Send(message));
            }
            Input::OnHook => {
                let message = self.model.on_hook();
                self.engine.send(Command::Send(message));
                if let Some(entry) = self.tracker.hook_changed(&self.model) {
                    self.journal.record(entry);
                    if let Err(error) = self.journal.save(&self.profile) {
                        self.notice = Some(format!("The journal was not saved: {error}"));
                    }
                }
            }
            Input::Mute(muted) => self.engine.audio.update(|choice| choice.muted = muted),
            Input::Volume(volume) => {
                self.engine.audio.update(|choice| choice.volume = volume);
                self.settings.volume = Some(volume);
            }
        }
    }

    /// Digits, `*` and `#` typed; Enter answers, lifts or ends dialling;
    /// Escape hangs up.
    fn keyboard(&mut self, ctx: &egui::Context) {
        if ctx.text_edit_focused() {
            return;
        }
        // Taken before the face is drawn, so that a focused button does
        // not also take Enter as a click.
        let (enter, escape, typed) = ctx.input_mut(|input| {
            let enter = input.consume_key(egui::Modifiers::NONE, egui::Key::Enter);
            let escape = input.consume_key(egui::Modifiers::NONE, egui::Key::Escape);
            let typed: String = input
                .events
                .iter()
                .filter_map(|event| match event {
                    egui::Event::Text(text) => Some(text.as_str()),
                    _ => None,
                })
                .collect();
            (enter, escape, typed)
        });
        for ch in typed.chars().filter(|ch| press_digit(*ch).is_some()) {
            self.input(Input::Digit(ch));
        }
        if enter {
            if self.model.hook() == crate::hfa::Hook::OnHook {
                self.input(Input::OffHook);
            } else {
                self.input(Input::Digit('#'));
            }
        }
        if escape {
            self.input(Input::OnHook);
        }
    }

    fn phone(&mut self, ui: &mut egui::Ui) {
        self.keyboard(ui.ctx());
        let time_of_day = local_clock();
        let call_timer = self.timer_since.map(|since| since.elapsed());
        let controls = self.engine.audio.controls();
        let choice = self.engine.audio.choice();
        let state = FaceState {
            time_of_day: &time_of_day,
            call_timer,
            muted: choice.muted,
            volume: choice.volume,
            mic_level: controls
                .as_ref()
                .filter(|_| self.sounds.enabled())
                .map(|c| c.mic_level_dbfs()),
        };
        let meter_shown = state.mic_level.is_some();
        let inputs = face::show(ui, &self.model, &state);
        for input in inputs {
            self.input(input);
        }
        if let Some(why) = &self.no_audio {
            ui.colored_label(
                ui.visuals().warn_fg_color,
                format!("No usable sound device ({why}): calls run without audio."),
            );
        }
        // Clocks: the call timer each second, the time of day each minute;
        // the level meter while a call's audio runs.
        let wait = match self.model.clock() {
            Some(ClockShown::CallTimer) => Some(Duration::from_millis(
                1000 - call_timer.map_or(0, |t| u64::from(t.subsec_millis())),
            )),
            Some(ClockShown::TimeOfDay) => Some(until_next_minute()),
            _ => None,
        };
        let wait = match (wait, meter_shown) {
            (wait, true) => Some(wait.map_or(METER_PERIOD, |w| w.min(METER_PERIOD))),
            (wait, false) => wait,
        };
        if let Some(wait) = wait {
            ui.ctx().request_repaint_after(wait);
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
                    self.dialog = Some(AccountDialog::new(self.settings.account.as_ref()));
                }
                if ui.button("Audio…").clicked() {
                    self.audio_open = true;
                    self.device_watch.watch(true);
                }
            });
            if let Some(demo) = &self.demo {
                let mut dial = None;
                ui.menu_button("Demo", |ui| {
                    if ui.button("Call me (202 calls you)").clicked() {
                        demo.call_me();
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
            }
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
            self.device_watch.watch(false);
            self.sounds.test_microphone(false, &choice);
        }
    }

    fn audio_action(&mut self, action: AudioAction, choice: &AudioChoice) {
        match action {
            AudioAction::Input(id) => {
                self.settings.input_device.clone_from(&id);
                self.engine.audio.update(|choice| choice.input = id);
                self.save_settings();
            }
            AudioAction::Output(id) => {
                self.settings.output_device.clone_from(&id);
                self.engine.audio.update(|choice| choice.output = id);
                self.save_settings();
            }
            AudioAction::Ringer(id) => {
                self.settings.ringing_device.clone_from(&id);
                self.engine.audio.update(|choice| choice.ringer = id);
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

    fn save_settings(&mut self) {
        if let Err(error) = self.profile.save(&self.settings) {
            self.notice = Some(format!("Settings not saved: {error}"));
        }
    }

    fn status_line(&mut self, ui: &mut egui::Ui) {
        ui.horizontal(|ui| match &self.status {
            Status::Phone(PhoneState::Declined { cause }) => {
                ui.colored_label(
                    ui.visuals().error_fg_color,
                    format!("Registration refused: {}", cause.describe()),
                );
            }
            Status::Phone(PhoneState::Registered { .. }) => {
                ui.label(format!("Registered as {}", self.number()));
            }
            Status::Phone(state) => {
                ui.label(format!("Not registered: {state}"));
            }
            Status::Lost(why) => {
                ui.colored_label(
                    ui.visuals().warn_fg_color,
                    format!("Connection lost: {why}; reconnecting"),
                );
            }
            Status::Checking => {
                ui.label("Checking the account…");
            }
            Status::NoAccount => {
                ui.label("No account: enter your Device@Home settings.");
            }
        });
        if let Some(notice) = &self.notice {
            ui.colored_label(ui.visuals().warn_fg_color, notice);
        }
    }

    fn number(&self) -> &str {
        self.settings
            .account
            .as_ref()
            .map_or("", |account| account.number.as_str())
    }

    /// The window title says the registration state.
    fn update_title(&mut self, ctx: &egui::Context) {
        let state = match &self.status {
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

/// Brings the window to the front.
fn raise(ctx: Option<&egui::Context>) {
    if let Some(ctx) = ctx {
        ctx.send_viewport_cmd(egui::ViewportCommand::Minimized(false));
        ctx.send_viewport_cmd(egui::ViewportCommand::Focus);
    }
}

/// How often the microphone level meter redraws during a call.
const METER_PERIOD: Duration = Duration::from_millis(100);

/// Local time for the journal, "2026-11-20 14:03".
fn local_time() -> String {
    jiff::ZonedDateTime::now()
        .strftime("%Y-%m-%d %H:%M")
        .to_string()
}

/// Local time of day for the display clock, "14:03".
fn local_clock() -> String {
    jiff::ZonedDateTime::now().strftime("%H:%M").to_string()
}

fn until_next_minute() -> Duration {
    let now = jiff::ZonedDateTime::now();
    let into_minute = Duration::from_secs(u64::from(now.second().unsigned_abs()))
        + Duration::from_nanos(u64::from(now.subsec_nanosecond().unsigned_abs()));
    Duration::from_secs(60).saturating_sub(into_minute) + Duration::from_millis(5)
}

impl eframe::App for PhoneApp {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        PhoneApp::ui(self, ui);
    }
}
