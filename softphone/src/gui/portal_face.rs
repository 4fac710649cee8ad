//! The myPortal to go personality's face: the status field with the
//! guide's texts ("Registered via LAN server 10.10.0.2:8802", "Not
//! registered: VoIP in remote WiFi networks is off", ...), the network
//! selector (company WiFi, remote WiFi, mobile data: each moves the app's
//! sockets to that network's address), the dial pad and the call screen
//! (answer, reject, hang up, hold, retrieve, DTMF, mute), the gateway
//! certificate's trust on first use, and the VoIP settings page.
//!
//! It holds what the agent reported and turns presses into commands for
//! the [`PortalEngine`]; what the app shell must do (journal, notification,
//! saving) comes back as [`Output`]s.

use std::time::Instant;

use eframe::egui::{self, RichText};
use shared::portal::{CallState, CallView};
use shared::secret::Secret;

use super::engine::{EventSender, SharedAudio};
use super::journal::Entry;
use super::portal_engine::{PortalCommand, PortalEngine, PortalEvent};
use super::portal_journal::CallTracker;
use super::portal_settings::{FormAction, PortalForm};
use super::settings::PortalAccount;
use crate::media::call::MediaReport;
use crate::portal::agent::{AgentCommand, AgentEvent, AgentTimers};
use crate::portal::client::CallRequest;
use crate::portal::{Fingerprint, Network, Status};

mod call_screen;
mod certificate;

/// What the app shell is asked to do.
#[derive(Debug)]
pub enum Output {
    /// A call is over: into the journal.
    Journal(Entry),
    /// A call rings here: notify, with the caller.
    Ringing(String),
    RingingStopped,
    /// The user moved to another network or changed a flag: save.
    AccountChanged(PortalAccount),
    /// The settings page was saved: save the account (and the UC password
    /// when one was typed), and register with it.
    Saved(PortalAccount, Option<Secret>),
}

/// The network selector's choices, with their names on the face.
pub const NETWORKS: [(Network, &str); 3] = [
    (Network::CompanyWifi, "Company WiFi"),
    (Network::RemoteWifi, "Remote WiFi"),
    (Network::Mobile, "Mobile data"),
];

pub struct PortalFace {
    engine: PortalEngine,
    audio: SharedAudio,
    timers: AgentTimers,
    account: Option<PortalAccount>,
    /// The status field; `None` before the agent's first word.
    status: Option<Status>,
    /// Why the agent does not run (settings refused, sockets unavailable).
    problem: Option<String>,
    call: Option<CallView>,
    connected_since: Option<Instant>,
    /// Packets of the call received, by the last quality report.
    received: Option<u64>,
    /// The number being typed.
    number: String,
    /// A number to dial once registered (a `tel:` link, the journal).
    pending_dial: Option<String>,
    /// First contact: the server and its certificate, to accept or not.
    unknown_certificate: Option<(String, Fingerprint)>,
    /// A known gateway showed another certificate: the warning.
    changed_certificate: Option<(String, String)>,
    /// The last refused call request, in words.
    refused: Option<String>,
    tracker: CallTracker,
    /// The VoIP settings page, while open.
    page: Option<PortalForm>,
}

impl PortalFace {
    /// The face with its engine on `runtime` (the agent starts with
    /// [`PortalFace::start`]).
    pub fn new(
        runtime: &tokio::runtime::Handle,
        ui: EventSender,
        audio: SharedAudio,
        timers: AgentTimers,
    ) -> Self {
        Self {
            engine: PortalEngine::start(runtime, ui, audio.clone()),
            audio,
            timers,
            account: None,
            status: None,
            problem: None,
            call: None,
            connected_since: None,
            received: None,
            number: String::new(),
            pending_dial: None,
            unknown_certificate: None,
            changed_certificate: None,
            refused: None,
            tracker: CallTracker::default(),
            page: None,
        }
    }

    /// Logs in and registers with `account` (replacing a running agent).
    pub fn start(&mut self, account: PortalAccount, password: Secret) {
        self.status = None;
        self.unknown_certificate = None;
        self.changed_certificate = None;
        self.call = None;
        match account.settings(password) {
            Ok(settings) => {
                self.problem = None;
                self.engine.send(PortalCommand::Start {
                    settings: Box::new(settings),
                    timers: self.timers,
                });
            }
            Err(why) => self.problem = Some(why.to_string()),
        }
        self.account = Some(account);
    }

    /// Takes a saved `account`: when only the flags or the network
    /// changed, the running agent follows (a call goes on); anything else
    /// (servers, user, addresses, a new password) starts it anew.
    pub fn apply(&mut self, account: PortalAccount, new_password: bool, password: Secret) {
        let live = self
            .account
            .as_ref()
            .filter(|_| !new_password && self.problem.is_none());
        let same_but_flags = live.is_some_and(|current| {
            PortalAccount {
                voip: account.voip,
                remote_wifi: account.remote_wifi,
                network: account.network,
                ..current.clone()
            } == account
        });
        if !same_but_flags {
            self.start(account, password);
            return;
        }
        if let Some(current) = &mut self.account {
            if current.network != account.network {
                let bind = account.bind_for(account.network);
                self.engine
                    .send(PortalCommand::Agent(AgentCommand::SetNetwork {
                        network: account.network,
                        bind,
                    }));
            }
            if current.flags() != account.flags() {
                self.engine
                    .send(PortalCommand::Agent(AgentCommand::SetFlags(
                        account.flags(),
                    )));
            }
            *current = account;
        }
    }

    /// Logs out (the app changes to the HFA personality).
    pub fn stop(&mut self) {
        self.engine.send(PortalCommand::Stop);
        self.status = None;
        self.call = None;
        self.account = None;
    }

    pub fn account(&self) -> Option<&PortalAccount> {
        self.account.as_ref()
    }

    pub fn registered(&self) -> bool {
        matches!(self.status, Some(Status::Registered { .. }))
    }

    /// The status field's text.
    pub fn status_text(&self) -> String {
        if let Some((server, _)) = &self.changed_certificate {
            return format!("Not registered: the certificate of {server} has changed; refused");
        }
        if let Some((server, _)) = &self.unknown_certificate {
            return format!(
                "Not registered: first contact with {server}: compare its certificate's \
                 fingerprint, then accept it"
            );
        }
        match (&self.problem, &self.status) {
            (Some(problem), _) => format!("Not registered: {problem}"),
            (None, Some(status)) => status.to_string(),
            (None, None) if self.account.is_some() => "Starting…".to_owned(),
            (None, None) => "No myPortal to go account".to_owned(),
        }
    }

    /// The call on the line, if any.
    #[cfg(test)]
    pub fn call(&self) -> Option<&CallView> {
        self.call.as_ref()
    }

    /// Packets of the current call received, by the last quality report.
    #[cfg(test)]
    pub fn received(&self) -> Option<u64> {
        self.received
    }

    /// Dials `number` now if registered, else once registered.
    pub fn dial(&mut self, number: &str) {
        if !self.registered() {
            self.pending_dial = Some(number.to_owned());
            return;
        }
        self.tracker.dialled(number, super::app::local_time());
        self.request(CallRequest::Dial(number.to_owned()));
    }

    /// Opens the VoIP settings page.
    pub fn open_settings(&mut self, has_password: bool) {
        self.page = Some(PortalForm::new(self.account.as_ref(), has_password));
    }

    fn request(&mut self, request: CallRequest) {
        self.refused = None;
        self.engine
            .send(PortalCommand::Agent(AgentCommand::Call(request)));
    }

    /// One event of the engine.
    pub fn handle(&mut self, event: PortalEvent) -> Vec<Output> {
        let mut outputs = Vec::new();
        let event = match event {
            PortalEvent::Failed(why) => {
                self.problem = Some(why);
                return outputs;
            }
            PortalEvent::Agent(event) => *event,
        };
        match event {
            AgentEvent::Status(change) => {
                self.status = Some(change.status);
                if self.registered() {
                    // Through another server, whose certificate is known.
                    self.changed_certificate = None;
                    if let Some(number) = self.pending_dial.take() {
                        self.dial(&number);
                    }
                }
            }
            AgentEvent::CertificateUnknown {
                server,
                fingerprint,
            } => self.unknown_certificate = Some((server, fingerprint)),
            AgentEvent::CertificateChanged {
                server,
                expected,
                found,
            } => {
                let store = self
                    .account
                    .as_ref()
                    .and_then(|account| account.store_path().ok())
                    .map_or_else(
                        || "the known-gateways store".to_owned(),
                        |path| path.display().to_string(),
                    );
                let warning = format!(
                    "The certificate of {server} has CHANGED. You accepted SHA-256 {expected}; \
                     it now shows {found}. The connection is refused: someone may be \
                     intercepting it. Only if your administrator confirms the new fingerprint, \
                     remove the entry of {server} from {store}."
                );
                self.changed_certificate = Some((server, warning));
            }
            AgentEvent::Call(view) => self.call_changed(view, &mut outputs),
            AgentEvent::Media(MediaReport::Quality(stats)) => self.received = Some(stats.received),
            AgentEvent::RequestFailed { request, reason } => {
                self.refused = Some(format!("{}: {reason}", call_screen::request_name(&request)));
            }
            AgentEvent::LoggedOut(reason) => {
                self.refused = Some(format!("Logged out: {reason}"));
            }
            AgentEvent::Registered { .. }
            | AgentEvent::StreamOpen
            | AgentEvent::SessionRefreshed { .. }
            | AgentEvent::Media(_)
            | AgentEvent::Notice(_) => {}
        }
        outputs
    }

    fn call_changed(&mut self, view: CallView, outputs: &mut Vec<Output>) {
        let now = Instant::now();
        let was_ringing = self
            .call
            .as_ref()
            .is_some_and(|call| call.state == CallState::Ringing);
        match view.state {
            CallState::Ringing if !was_ringing => {
                outputs.push(Output::Ringing(
                    view.peer
                        .clone()
                        .unwrap_or_else(|| "Unknown caller".to_owned()),
                ));
            }
            CallState::Ringing => {}
            _ if was_ringing => outputs.push(Output::RingingStopped),
            _ => {}
        }
        match view.state {
            CallState::Connected | CallState::Held => {
                self.connected_since.get_or_insert(now);
            }
            _ => {
                self.connected_since = None;
                self.received = None;
            }
        }
        if let Some(entry) = self.tracker.changed(now, &view, super::app::local_time) {
            outputs.push(Output::Journal(entry));
        }
        self.call = Some(view);
    }

    /// The face in the central panel.
    pub fn show(&mut self, ui: &mut egui::Ui) -> Vec<Output> {
        let mut outputs = Vec::new();
        self.status_field(ui);
        ui.add_space(8.0);
        self.network_selector(ui, &mut outputs);
        ui.add_space(10.0);
        ui.separator();
        self.call_screen(ui);
        outputs
    }

    fn status_field(&self, ui: &mut egui::Ui) {
        let text = self.status_text();
        let color = if self.registered() {
            registered_color(ui.visuals().dark_mode)
        } else if matches!(self.status, Some(Status::Registering { .. }) | None)
            && self.problem.is_none()
        {
            ui.visuals().weak_text_color()
        } else {
            ui.visuals().warn_fg_color
        };
        egui::Frame::group(ui.style())
            .inner_margin(10.0)
            .show(ui, |ui| {
                ui.set_width(ui.available_width().min(560.0));
                ui.small("myPortal to go VoIP status");
                ui.label(RichText::new(text).size(20.0).color(color));
            });
        if let Some((_, warning)) = &self.changed_certificate {
            egui::Frame::new()
                .fill(ui.visuals().error_fg_color.gamma_multiply(0.15))
                .stroke(egui::Stroke::new(2.0, ui.visuals().error_fg_color))
                .inner_margin(10.0)
                .show(ui, |ui| {
                    ui.set_width(ui.available_width().min(560.0));
                    ui.label(
                        RichText::new("Certificate changed: connection refused")
                            .strong()
                            .color(ui.visuals().error_fg_color),
                    );
                    ui.label(warning);
                });
        }
    }

    fn network_selector(&mut self, ui: &mut egui::Ui, outputs: &mut Vec<Output>) {
        let Some(account) = &mut self.account else {
            return;
        };
        let mut network = account.network;
        let mut flags = account.flags();
        ui.horizontal(|ui| {
            ui.label("Network");
            for (choice, name) in NETWORKS {
                ui.selectable_value(&mut network, choice, RichText::new(name).size(16.0));
            }
        });
        ui.horizontal(|ui| {
            ui.checkbox(&mut flags.voip, "VoIP");
            ui.checkbox(&mut flags.remote_wifi, "Use VoIP in remote WiFi networks");
        });
        if network != account.network {
            account.network = network;
            let bind = account.bind_for(network);
            self.engine
                .send(PortalCommand::Agent(AgentCommand::SetNetwork {
                    network,
                    bind,
                }));
            outputs.push(Output::AccountChanged(account.clone()));
        }
        if flags != account.flags() {
            account.voip = flags.voip;
            account.remote_wifi = flags.remote_wifi;
            self.engine
                .send(PortalCommand::Agent(AgentCommand::SetFlags(flags)));
            outputs.push(Output::AccountChanged(account.clone()));
        }
        // An open settings page saves what the face shows now.
        if let (Some(page), Some(Output::AccountChanged(account))) =
            (&mut self.page, outputs.last())
        {
            page.follow(account);
        }
    }

    /// The certificate prompt and the VoIP settings page, when open.
    pub fn windows(&mut self, ctx: &egui::Context) -> Vec<Output> {
        let mut outputs = Vec::new();
        self.certificate_window(ctx);
        let status = self.status_text();
        if let Some(page) = &mut self.page {
            let mut open = true;
            let action = egui::Window::new("VoIP settings")
                .open(&mut open)
                .collapsible(false)
                .max_width(580.0)
                .default_pos([160.0, 60.0])
                .show(ctx, |ui| page.show(ui, &status, true))
                .and_then(|shown| shown.inner)
                .flatten();
            match action {
                Some(FormAction::Save(account, password)) => {
                    self.page = None;
                    outputs.push(Output::Saved(account, password));
                }
                Some(FormAction::Cancel) => self.page = None,
                None if !open => self.page = None,
                None => {}
            }
        }
        outputs
    }
}

/// The status field's colour when registered: green, readable on either
/// theme.
fn registered_color(dark: bool) -> egui::Color32 {
    if dark {
        egui::Color32::from_rgb(0x5c, 0xd6, 0x6b)
    } else {
        egui::Color32::from_rgb(0x16, 0x7a, 0x2a)
    }
}
