//! Trust on first use in the myPortal to go face: the first contact's
//! SHA-256 fingerprint, shown for the user to compare and accept into the
//! known-gateways store the command line uses.

use eframe::egui::{self, RichText};

use super::super::portal_engine::PortalCommand;
use super::super::settings::PortalAccount;
use super::PortalFace;
use crate::portal::agent::AgentCommand;
use crate::portal::trust::KnownGateways;

impl PortalFace {
    /// Trust on first use: the fingerprint, to compare and accept.
    pub(super) fn certificate_window(&mut self, ctx: &egui::Context) {
        let Some((server, fingerprint)) = self.unknown_certificate.clone() else {
            return;
        };
        let mut decision = None;
        egui::Window::new("New gateway certificate")
            .collapsible(false)
            .resizable(false)
            .anchor(egui::Align2::CENTER_CENTER, [0.0, 0.0])
            .show(ctx, |ui| {
                ui.label(format!("First contact with {server}."));
                ui.label("Its certificate's SHA-256 fingerprint:");
                ui.label(RichText::new(fingerprint.to_string()).monospace());
                ui.label(
                    "Compare it with the fingerprint your administrator gave you. Accept it \
                     only if they match: this app then trusts this certificate, and refuses \
                     any other from this server.",
                );
                ui.horizontal(|ui| {
                    if ui.button("Accept certificate").clicked() {
                        decision = Some(true);
                    }
                    if ui.button("Do not connect").clicked() {
                        decision = Some(false);
                    }
                });
            });
        match decision {
            Some(true) => {
                self.unknown_certificate = None;
                let stored = self
                    .account
                    .as_ref()
                    .map(PortalAccount::store_path)
                    .map(|path| {
                        path.and_then(|path| {
                            KnownGateways::new(path).remember(&server, fingerprint)
                        })
                    });
                match stored {
                    Some(Ok(())) => self.engine.send(PortalCommand::Agent(AgentCommand::Retry)),
                    Some(Err(error)) => self.problem = Some(error.to_string()),
                    None => {}
                }
            }
            Some(false) => {
                self.unknown_certificate = None;
                self.problem = Some(format!("the certificate of {server} was not accepted"));
                self.engine.send(PortalCommand::Stop);
            }
            None => {}
        }
    }
}
