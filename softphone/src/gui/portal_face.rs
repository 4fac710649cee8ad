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

use std::time::{Duration, Instant};

use eframe::egui::{self, RichText, Vec2};
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
use crate::portal::trust::KnownGateways;
use crate::portal::{Fingerprint, Network, Status};

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

const DIAL_PAD: [[char; 3]; 4] = [
    ['1', '2', '3'],
    ['4', '5', '6'],
    ['7', '8', '9'],
    ['*', '0', '#'],
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
    changed_certificate: Option<String>,
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
            Err(why) => self.problem = Some(why),
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
    pub fn call(&self) -> Option<&CallView> {
        self.call.as_ref()
    }

    /// Packets of the current call received, by the last quality report.
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
                if self.registered()
                    && let Some(number) = self.pending_dial.take()
                {
                    self.dial(&number);
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
                self.changed_certificate = Some(format!(
                    "The certificate of {server} has CHANGED. You accepted SHA-256 {expected}; \
                     it now shows {found}. The connection is refused: someone may be \
                     intercepting it. Only your administrator can confirm a new certificate."
                ));
            }
            AgentEvent::Call(view) => self.call_changed(view, &mut outputs),
            AgentEvent::Media(MediaReport::Quality(stats)) => self.received = Some(stats.received),
            AgentEvent::RequestFailed { request, reason } => {
                self.refused = Some(format!("{}: {reason}", request_name(&request)));
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
        if let Some(warning) = &self.changed_certificate {
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
    }

    fn call_screen(&mut self, ui: &mut egui::Ui) {
        let state = self
            .call
            .as_ref()
            .map_or(CallState::Idle, |call| call.state);
        let peer = self
            .call
            .as_ref()
            .and_then(|call| call.peer.clone())
            .unwrap_or_default();
        let headline = match state {
            CallState::Idle => "No call".to_owned(),
            CallState::Dialing => format!("Dialling {peer}"),
            CallState::Calling => format!("Calling {peer}"),
            CallState::Ringing => format!("Call from {peer}"),
            CallState::Connected => format!("Connected: {peer}"),
            CallState::Held => format!("On hold: {peer}"),
            CallState::Ended => format!(
                "Call ended: {}",
                self.call
                    .as_ref()
                    .and_then(|call| call.reason.clone())
                    .unwrap_or_else(|| "hung up".to_owned())
            ),
        };
        ui.horizontal(|ui| {
            ui.label(RichText::new(headline).size(20.0).strong());
            if let Some(since) = self.connected_since {
                let seconds = since.elapsed().as_secs();
                ui.label(
                    RichText::new(format!("{:02}:{:02}", seconds / 60, seconds % 60)).size(20.0),
                );
                // The call timer moves each second.
                ui.ctx().request_repaint_after(Duration::from_millis(
                    1000 - u64::from(since.elapsed().subsec_millis()),
                ));
            }
        });
        if let Some(received) = self.received {
            ui.small(format!("Media: {received} packets received"));
        }
        ui.add_space(8.0);
        ui.horizontal_top(|ui| {
            ui.vertical(|ui| self.dial_pad(ui, state));
            ui.add_space(16.0);
            ui.vertical(|ui| self.call_buttons(ui, state));
        });
        if let Some(refused) = &self.refused {
            ui.colored_label(ui.visuals().warn_fg_color, refused);
        }
    }

    fn dial_pad(&mut self, ui: &mut egui::Ui, state: CallState) {
        let in_call = state == CallState::Connected;
        if in_call {
            ui.label("The keys send DTMF tones");
        } else {
            self.number_field(ui);
        }
        let mut pressed = None;
        egui::Grid::new("portal-dial-pad")
            .spacing([6.0, 6.0])
            .show(ui, |ui| {
                for row in DIAL_PAD {
                    for key in row {
                        let button = egui::Button::new(RichText::new(key.to_string()).size(20.0))
                            .min_size(Vec2::new(56.0, 42.0));
                        if ui.add(button).clicked() {
                            pressed = Some(key);
                        }
                    }
                    ui.end_row();
                }
            });
        match pressed {
            // In a call the keys send DTMF, through the gateway.
            Some(key) if in_call => self.request(CallRequest::Dtmf(key.to_string())),
            Some(key) => self.number.push(key),
            None => {}
        }
    }

    /// The number being typed; Enter dials it.
    fn number_field(&mut self, ui: &mut egui::Ui) {
        ui.horizontal(|ui| {
            let label = ui.label("Number");
            let field = ui
                .add(egui::TextEdit::singleline(&mut self.number).desired_width(150.0))
                .labelled_by(label.id);
            if field.lost_focus() && ui.input(|input| input.key_pressed(egui::Key::Enter)) {
                self.dial_typed();
            }
            if ui.button("Delete").clicked() {
                self.number.pop();
            }
        });
    }

    fn dial_typed(&mut self) {
        let number = self.number.trim().to_owned();
        if !number.is_empty() {
            self.dial(&number);
            self.number.clear();
        }
    }

    fn call_buttons(&mut self, ui: &mut egui::Ui, state: CallState) {
        let big = |text: &str| {
            egui::Button::new(RichText::new(text).size(16.0)).min_size(Vec2::new(130.0, 34.0))
        };
        let mut requests = Vec::new();
        match state {
            CallState::Idle | CallState::Ended => {
                let can_dial = self.registered() && !self.number.trim().is_empty();
                if ui.add_enabled(can_dial, big("Call")).clicked() {
                    self.dial_typed();
                }
            }
            CallState::Ringing => {
                if ui.add(big("Answer")).clicked() {
                    requests.push(CallRequest::Answer);
                }
                if ui.add(big("Reject")).clicked() {
                    requests.push(CallRequest::Reject);
                }
            }
            CallState::Dialing | CallState::Calling => {
                if ui.add(big("Hang up")).clicked() {
                    requests.push(CallRequest::Hangup);
                }
            }
            CallState::Connected | CallState::Held => {
                if ui.add(big("Hang up")).clicked() {
                    requests.push(CallRequest::Hangup);
                }
                if state == CallState::Connected && ui.add(big("Hold")).clicked() {
                    requests.push(CallRequest::Hold);
                }
                if state == CallState::Held && ui.add(big("Retrieve")).clicked() {
                    requests.push(CallRequest::Retrieve);
                }
                let muted = self.audio.choice().muted;
                let mute = egui::Button::new(RichText::new("Mute").size(16.0))
                    .selected(muted)
                    .min_size(Vec2::new(130.0, 34.0));
                if ui.add(mute).clicked() {
                    self.audio.update(|choice| choice.muted = !muted);
                }
            }
        }
        for request in requests {
            self.request(request);
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

    /// Trust on first use: the fingerprint, to compare and accept.
    fn certificate_window(&mut self, ctx: &egui::Context) {
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

/// The status field's colour when registered: green, readable on either
/// theme.
fn registered_color(dark: bool) -> egui::Color32 {
    if dark {
        egui::Color32::from_rgb(0x5c, 0xd6, 0x6b)
    } else {
        egui::Color32::from_rgb(0x16, 0x7a, 0x2a)
    }
}

fn request_name(request: &CallRequest) -> &'static str {
    match request {
        CallRequest::Dial(_) => "Call",
        CallRequest::Answer => "Answer",
        CallRequest::Reject => "Reject",
        CallRequest::Hangup => "Hang up",
        CallRequest::Hold => "Hold",
        CallRequest::Retrieve => "Retrieve",
        CallRequest::Dtmf(_) => "Key",
    }
}
