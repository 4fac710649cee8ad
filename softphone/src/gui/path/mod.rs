//! The path view: a live picture of the path of the current registration
//! and call, for demos and for support: this PC, the home router, the
//! internet, the company router and its forwards, the gateway with its SBC
//! channel, the other party. The route in use and the media path are
//! highlighted; the SBC's latch and channel number show when the gateway
//! runs in-process (the demo), and are "unknown" against a remote one.
//!
//! The model ([`model::PathModel`]) is rebuilt from facts as they change:
//! registration events, media reports (which come every second during a
//! call and also refresh the SBC's latch) and network moves. Drawing it
//! costs nothing between events.

pub mod draw;
pub mod model;
pub mod probe;

use std::net::SocketAddr;

use eframe::egui;

use crate::media::call::MediaReport;
use model::{ClientFacts, PathModel, Route};
use probe::GatewayProbe;

/// The personality names the path view shows.
pub const HFA: &str = "HFA";
pub const PORTAL: &str = "myPortal to go";

/// The path view's state.
#[derive(Debug, Default)]
pub struct PathView {
    client: ClientFacts,
    probe: Option<GatewayProbe>,
    model: PathModel,
}

impl PathView {
    /// The in-process gateway's side (the demo).
    pub fn set_probe(&mut self, probe: GatewayProbe) {
        self.probe = Some(probe);
        self.refresh();
    }

    /// The client's app ("HFA", "myPortal to go") and its local address.
    pub fn set_client(&mut self, personality: &'static str, local_ip: Option<std::net::IpAddr>) {
        self.client.personality = personality;
        self.client.local_ip = local_ip;
        self.refresh();
    }

    /// Registered with `server` ("host:port") over `route`, or not
    /// (`None`): unregistered, the path ends at this PC.
    pub fn registration(&mut self, registered: Option<(Route, String)>) {
        let (route, server) = registered.unzip();
        self.client.route = route;
        if server.is_some() {
            self.client.server = server;
        }
        self.refresh();
    }

    /// Where the phone's RTP socket receives.
    pub fn local_media(&mut self, local: SocketAddr) {
        self.client.local_media = Some(local);
        self.refresh();
    }

    /// The other party, as the phone shows it.
    pub fn party(&mut self, party: Option<String>) {
        if self.client.party != party {
            self.client.party = party;
            self.refresh();
        }
    }

    /// Takes in one media report.
    pub fn report(&mut self, report: &MediaReport) {
        match report {
            MediaReport::Started { remote, codec } => {
                self.client.media_remote = Some(*remote);
                self.client.codec = Some(codec.clone());
            }
            MediaReport::Moved { local } => self.client.local_media = Some(*local),
            MediaReport::Redirected { remote } => self.client.media_remote = Some(*remote),
            MediaReport::Stopped(_) => {
                self.client.media_remote = None;
                self.client.codec = None;
                self.client.party = None;
            }
            MediaReport::Quality(_) | MediaReport::Dtmf(_) | MediaReport::Audio(_) => {}
        }
        self.refresh();
    }

    /// Rebuilds the model, reading the gateway's side again.
    pub fn refresh(&mut self) {
        self.model = PathModel {
            client: self.client.clone(),
            gateway: self.probe.as_ref().map(|probe| {
                let portal = self.client.personality == PORTAL;
                probe.facts(self.client.media_remote, portal)
            }),
        };
    }

    pub fn model(&self) -> &PathModel {
        &self.model
    }

    pub fn show(&self, ui: &mut egui::Ui) {
        draw::show(ui, &self.model);
    }
}
