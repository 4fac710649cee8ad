//! The myPortal to go personality in the app shell: its account saved and
//! applied, and what its face ([`super::super::portal_face`]) asks of the
//! shell (journal, notification, saving).

use eframe::egui;
use shared::secret::Secret;

use super::super::engine::Command;
use super::super::portal_face;
use super::super::settings::{Personality, PortalAccount};
use super::{PhoneApp, Status};

impl PhoneApp {
    /// Saves the myPortal to go account (and its UC password) and
    /// registers with it.
    pub(super) fn apply_portal(&mut self, account: PortalAccount, password: Option<Secret>) {
        if let Some(password) = &password
            && let Err(error) = self.profile.save_uc_password(password)
        {
            self.notice = Some(format!("The UC password was not saved: {error}"));
        }
        let password = password.or_else(|| self.profile.uc_password().ok().flatten());
        self.settings.portal = Some(account.clone());
        self.settings.personality = Personality::Portal;
        self.save_settings();
        self.dialog = None;
        self.engine.send(Command::Unregister);
        self.status = Status::NoAccount;
        match password {
            Some(password) => self.portal.start(account, password),
            None => self.dialog = Some(self.account_dialog()),
        }
    }

    /// Saves the VoIP settings page's account and applies it: a call goes
    /// on when only the flags or the network changed.
    pub(super) fn save_portal(&mut self, account: PortalAccount, password: Option<Secret>) {
        if let Some(password) = &password
            && let Err(error) = self.profile.save_uc_password(password)
        {
            self.notice = Some(format!("The UC password was not saved: {error}"));
        }
        let typed = password.is_some();
        let saved = self.profile.uc_password().ok().flatten();
        self.settings.portal = Some(account.clone());
        self.save_settings();
        match password.or(saved) {
            Some(current) => self.portal.apply(account, typed, current),
            None => self.dialog = Some(self.account_dialog()),
        }
    }

    /// What the myPortal to go face asked for.
    pub(super) fn portal_outputs(
        &mut self,
        outputs: Vec<portal_face::Output>,
        ctx: Option<&egui::Context>,
    ) {
        for output in outputs {
            match output {
                portal_face::Output::Journal(entry) => {
                    self.journal.record(entry);
                    if let Err(error) = self.journal.save(&self.profile) {
                        self.notice = Some(format!("The journal was not saved: {error}"));
                    }
                }
                portal_face::Output::Ringing(caller) => {
                    self.sounds.ring_app(&self.engine.audio.choice());
                    if let Some(notifier) = &self.notifier {
                        notifier.ringing(caller);
                    }
                    if let Some(ctx) = ctx {
                        ctx.send_viewport_cmd(egui::ViewportCommand::RequestUserAttention(
                            egui::UserAttentionType::Critical,
                        ));
                    }
                }
                portal_face::Output::RingingStopped => {
                    self.sounds.stop_ringing();
                    if let Some(notifier) = &self.notifier {
                        notifier.stopped();
                    }
                }
                portal_face::Output::AccountChanged(account) => {
                    self.settings.portal = Some(account);
                    self.save_settings();
                }
                portal_face::Output::Saved(account, password) => {
                    self.save_portal(account, password);
                }
            }
        }
    }

    /// The myPortal to go personality's window body.
    pub(super) fn portal_ui(&mut self, ui: &mut egui::Ui) {
        let outputs = self.portal.windows(ui.ctx());
        self.portal_outputs(outputs, Some(ui.ctx()));
        egui::Panel::right("journal")
            .default_size(300.0)
            .min_size(260.0)
            .show(ui, |ui| self.journal_panel(ui));
        let outputs = egui::CentralPanel::default()
            .show(ui, |ui| self.portal.show(ui))
            .inner;
        self.portal_outputs(outputs, Some(ui.ctx()));
    }
}
