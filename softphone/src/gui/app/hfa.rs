//! The HFA desk phone personality in the app shell: registering the
//! account with the engine, the phone model following what the gateway
//! sends (LEDs, ringer, call timer, journal), and the user's presses on
//! the face ([`super::super::face`]) or the keyboard turned into stimuli.

use std::time::{Duration, Instant};

use eframe::egui;
use shared::hfa_engine::phone::PhoneState;
use shared::secret::Secret;

use super::super::engine::Command;
use super::super::face::{self, FaceState, Input};
use super::{METER_PERIOD, PhoneApp, Status, local_time};
use crate::hfa::{Change, ClockShown, GatewayAddress, HfaAccount, PhoneModel};
use crate::hfa::{press_digit, press_feature};

impl PhoneApp {
    pub(super) fn register(&mut self, password: Secret) {
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
                let mut dialog = self.account_dialog();
                dialog.error = Some(error.to_string());
                self.dialog = Some(dialog);
                return;
            }
        };
        account.phone_id = settings.phone_type.id();
        account.bind_address = self.bind;
        if let Some(release) = self.settings.hfa_release.as_deref() {
            match release.parse() {
                Ok(release) => account.software_version = release,
                Err(error) => {
                    self.notice = Some(format!(
                        "hfa_release {release:?} in the settings is not a release ({error}): \
                         registering with {}",
                        account.software_version
                    ));
                }
            }
        }
        self.model = PhoneModel::new();
        self.status = Status::Checking;
        self.engine.send(Command::Register {
            account: Box::new(account),
            timers: self.timers,
        });
    }

    pub(super) fn changed(&mut self, changes: &[Change], ctx: Option<&egui::Context>) {
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
    pub(super) fn save_account(&mut self) {
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

    pub(super) fn registered(&self) -> bool {
        matches!(self.status, Status::Phone(PhoneState::Registered { .. }))
    }

    pub(super) fn dial_pending(&mut self) {
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
    pub(super) fn input(&mut self, input: Input) {
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
    pub(super) fn keyboard(&mut self, ctx: &egui::Context) {
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

    pub(super) fn phone(&mut self, ui: &mut egui::Ui) {
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

    pub(super) fn hfa_status(&self, ui: &mut egui::Ui) {
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
    }
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
