//! The myPortal to go face driven through egui_kittest by its accessible
//! labels, against the real gateway in-process (its HTTPS portal is the
//! LAN server, a TCP port forward to it the WAN server), the real agent
//! and its media, no display and no sound devices. Waits are on the
//! engine's events, bounded by a patience reached only when a test fails.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use shared::portal::CallState;
use shared::secret::Secret;

use super::app::{AppOptions, PhoneApp};
use super::journal::Kind;
use super::settings::{Personality, PortalAccount, Profile, Settings};
use crate::portal::client::CallRequest;
use crate::portal::testing::{self, DAN, EVE, HOME_IP, LAN_IP, OtherApp, Servers};
use crate::portal::trust::KnownGateways;
use crate::portal::{Fingerprint, Network};

/// Long enough for anything on loopback; only reached when a test fails.
const PATIENCE: Duration = Duration::from_secs(15);

/// The gateway and its port forward on a runtime the app shares.
struct Office {
    runtime: tokio::runtime::Runtime,
    servers: Option<Servers>,
    dir: tempfile::TempDir,
}

impl Office {
    fn start() -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let servers = runtime.block_on(testing::servers());
        Self {
            runtime,
            servers: Some(servers),
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    fn servers(&self) -> &Servers {
        self.servers.as_ref().expect("running")
    }

    fn lan(&self) -> SocketAddr {
        self.servers().gateway.lan
    }

    fn wan(&self) -> SocketAddr {
        self.servers().wan.address
    }

    /// The gateway's side of the path view, as the demo gives it.
    fn probe(&self) -> crate::gui::path::probe::GatewayProbe {
        let gateway = &self.servers().gateway.gateway;
        let sbc = gateway.sbc_shared();
        let last = gateway::sbc::ChannelId(sbc.channels() - 1);
        let range = (
            sbc.public_rtp(gateway::sbc::ChannelId(0)).port(),
            sbc.public_rtp(last).port() + 1,
        );
        crate::gui::path::probe::GatewayProbe::new(
            sbc,
            gateway.hfa_addr().port(),
            Some(self.lan().port()),
            range,
        )
    }

    fn store(&self) -> KnownGateways {
        KnownGateways::new(self.dir.path().join("known-gateways.toml"))
    }

    /// Both servers' certificate accepted before, as after a first run.
    fn trust_both(&self) {
        let fingerprint = self.servers().gateway.fingerprint;
        for server in [self.lan(), self.wan()] {
            self.store()
                .remember(&server.to_string(), fingerprint)
                .expect("remembered");
        }
    }

    /// Dan's account in the company WiFi (127.0.0.1 there, 127.0.1.20
    /// elsewhere).
    fn account(&self) -> PortalAccount {
        PortalAccount {
            user: DAN.0.to_owned(),
            wan: self.wan().to_string(),
            lan: Some(self.lan().to_string()),
            voip: true,
            remote_wifi: false,
            network: Network::CompanyWifi,
            company_bind: Some(LAN_IP),
            remote_bind: Some(HOME_IP),
            known_gateways: Some(self.dir.path().join("known-gateways.toml")),
        }
    }

    /// A profile with `account` and Dan's UC password saved.
    fn profile(&self, account: PortalAccount) -> Profile {
        let profile = Profile::at(self.dir.path().join("profile"));
        let settings = Settings {
            personality: Personality::Portal,
            portal: Some(account),
            ..Settings::default()
        };
        profile.save(&settings).expect("saved");
        profile
            .save_uc_password(&Secret::new(DAN.1))
            .expect("password saved");
        profile
    }

    fn app(&self, profile: Profile) -> Harness<'static, PhoneApp> {
        let options = AppOptions {
            profile,
            audio_devices: false,
            timers: Default::default(),
            bind: None,
            dial: None,
            list_devices: Vec::new,
            notifications: false,
        };
        let app = PhoneApp::new(options, self.runtime.handle());
        Harness::builder()
            .with_size([1000.0, 720.0])
            .build_ui_state(|ui, app: &mut PhoneApp| app.ui(ui), app)
    }
}

impl Drop for Office {
    fn drop(&mut self) {
        if let Some(servers) = self.servers.take() {
            let gateway = servers.gateway.gateway;
            self.runtime.block_on(gateway.stop());
        }
    }
}

/// Draws frames and handles the engine's events until `condition` holds;
/// panics after [`PATIENCE`] with `what` and the status field.
fn until(
    harness: &mut Harness<'static, PhoneApp>,
    what: &str,
    condition: impl Fn(&Harness<'static, PhoneApp>) -> bool,
) {
    let deadline = Instant::now() + PATIENCE;
    loop {
        harness.run_steps(2);
        if condition(harness) {
            return;
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            let portal = harness.state().portal();
            panic!(
                "timed out waiting for {what}; status {:?}, call {:?}, received {:?}",
                portal.status_text(),
                portal.call(),
                portal.received(),
            );
        }
        harness.state_mut().wait_for_event(left);
    }
}

/// Whether some label holds `text` (the status field and the status line
/// both show the status).
fn shows(harness: &Harness<'static, PhoneApp>, text: &str) -> bool {
    harness.query_all_by_label_contains(text).next().is_some()
}

/// Replaces the text of the field labelled `field`.
fn retype(harness: &mut Harness<'static, PhoneApp>, field: &str, text: &str) {
    harness.get_by_label(field).focus();
    harness.run_steps(1);
    harness.key_press_modifiers(eframe::egui::Modifiers::COMMAND, eframe::egui::Key::A);
    harness.get_by_label(field).type_text(text);
    harness.run_steps(1);
}

fn call_state(harness: &Harness<'static, PhoneApp>) -> Option<CallState> {
    harness.state().portal().call().map(|call| call.state)
}

#[test]
fn the_settings_page_refuses_a_bad_port_and_saves_a_good_one() {
    let office = Office::start();
    office.trust_both();
    let mut account = office.account();
    // A remote WiFi, with a WAN port nobody forwards.
    account.network = Network::RemoteWifi;
    account.remote_wifi = true;
    account.wan = format!("{}:1", office.wan().ip());
    let profile = office.profile(account);
    let mut harness = office.app(profile.clone());
    let dead = format!(
        "Not registered: WAN server {}:1 did not answer",
        office.wan().ip()
    );
    until(&mut harness, "the dead WAN server", |h| shows(h, &dead));

    harness.get_by_label("Phone").click();
    harness.run_steps(2);
    harness.get_by_label("VoIP settings…").click();
    harness.run_steps(2);
    retype(&mut harness, "WAN server IP port", "70000");
    harness.get_by_label("Save VoIP settings").click();
    harness.run_steps(2);
    assert!(
        shows(&harness, "WAN server port \"70000\": out of range"),
        "refused in place"
    );
    let saved = profile.load().expect("settings");
    assert!(
        saved.portal.expect("account").wan.ends_with(":1"),
        "nothing saved"
    );

    retype(
        &mut harness,
        "WAN server IP port",
        &office.wan().port().to_string(),
    );
    harness.get_by_label("Save VoIP settings").click();
    let registered = format!("Registered via WAN server {}", office.wan());
    until(
        &mut harness,
        "registration through the saved WAN port",
        |h| shows(h, &registered),
    );
    assert!(
        harness.query_by_label("Save VoIP settings").is_none(),
        "page closed"
    );
    let saved = profile.load().expect("settings").portal.expect("account");
    assert_eq!(saved.wan, office.wan().to_string());
    let password = profile.uc_password().expect("readable").expect("kept");
    assert_eq!(password.expose(), DAN.1);
}

#[test]
fn the_account_dialog_offers_myportal_to_go() {
    let office = Office::start();
    let profile = Profile::at(office.dir.path().join("first-run"));
    let mut harness = office.app(profile.clone());
    harness.run_steps(2);
    assert!(shows(&harness, "Device@Home account"));
    assert!(harness.query_by_label("WAN server IP address").is_none());
    harness.get_by_label("myPortal to go").click();
    harness.run_steps(2);
    // The page of guide 4.2, with its defaults.
    assert!(
        harness
            .query_by_label("LAN server IP address (optional)")
            .is_some()
    );
    assert_eq!(
        harness
            .get_by_label("WAN server IP port")
            .value()
            .as_deref(),
        Some("8802")
    );
    harness.get_by_label("Save VoIP settings").click();
    harness.run_steps(2);
    assert!(shows(
        &harness,
        "Call number \"\": the user is the call number"
    ));
    assert!(
        profile.load().expect("settings").portal.is_none(),
        "nothing saved"
    );
}

#[test]
fn each_network_choice_gives_the_guides_status_text() {
    let office = Office::start();
    office.trust_both();
    let profile = office.profile(office.account());
    let mut harness = office.app(profile.clone());
    let lan = format!("Registered via LAN server {}", office.lan());
    until(&mut harness, "the LAN server", |h| shows(h, &lan));

    harness.get_by_label("Remote WiFi").click();
    until(&mut harness, "remote WiFi refused by the flag", |h| {
        shows(h, "Not registered: VoIP in remote WiFi networks is off")
    });
    let path = harness.state().views().path.model().describe();
    assert!(path.starts_with("Not registered. Path: This PC"), "{path}");
    harness
        .get_by_label("Use VoIP in remote WiFi networks")
        .click();
    let wan = format!("Registered via WAN server {}", office.wan());
    until(&mut harness, "the WAN server", |h| shows(h, &wan));
    // The app's sockets moved to this PC's address at home.
    assert!(office.servers().wan.peers().contains(&HOME_IP));

    harness.get_by_label("Mobile data").click();
    until(&mut harness, "mobile data refused", |h| {
        shows(h, "Not registered: VoIP is not available on mobile data")
    });
    harness.get_by_label("Company WiFi").click();
    until(&mut harness, "the LAN server again", |h| shows(h, &lan));
    let saved = profile.load().expect("settings").portal.expect("account");
    assert_eq!(saved.network, Network::CompanyWifi);
    assert!(saved.remote_wifi, "the flag is kept");
}

#[test]
fn a_call_survives_the_move_from_company_to_remote_wifi() {
    let office = Office::start();
    office.trust_both();
    let mut account = office.account();
    account.remote_wifi = true;
    let profile = office.profile(account);
    let mut harness = office.app(profile);
    harness
        .state_mut()
        .views_mut()
        .path
        .set_probe(office.probe());
    let lan = format!("Registered via LAN server {}", office.lan());
    until(&mut harness, "the LAN server", |h| shows(h, &lan));

    // The echo test, on the dial pad.
    for key in ["*", "9", "8"] {
        harness.get_by_label(key).click();
        harness.run_steps(1);
    }
    harness.get_by_label("Call").click();
    until(&mut harness, "the echo test with media", |h| {
        call_state(h) == Some(CallState::Connected)
            && h.state().portal().received().is_some_and(|n| n > 0)
    });
    assert!(harness.query_by_label("Hang up").is_some());
    assert!(harness.query_by_label("Hold").is_some());
    // The path view: inside the company, no routers on the path.
    let path = harness.state().views().path.model().describe();
    assert!(path.starts_with(&format!("{lan}. Path: This PC")), "{path}");
    assert!(!path.contains("Home router"), "{path}");
    assert!(path.contains("no SBC (company LAN)"), "{path}");

    harness.get_by_label("Remote WiFi").click();
    let wan = format!("Registered via WAN server {}", office.wan());
    until(&mut harness, "the WAN server with the call up", |h| {
        shows(h, &wan)
    });
    assert!(!shows(&harness, &lan), "the status field changed");
    // Two quality reports after the move: media still comes in.
    let at_registration = harness.state().portal().received();
    until(&mut harness, "a quality report after the move", |h| {
        h.state().portal().received() != at_registration
    });
    let at_move = harness.state().portal().received().unwrap_or_default();
    until(&mut harness, "packets received after the move", |h| {
        h.state().portal().received().is_some_and(|n| n > at_move)
    });
    assert_eq!(call_state(&harness), Some(CallState::Connected));
    assert!(
        harness.state().journal().entries.is_empty(),
        "no call ended"
    );
    // The path view follows: from outside, through the routers, to the
    // WAN server; the quality panel marks the move in the call's plots.
    let views = harness.state().views();
    let path = views.path.model().describe();
    assert!(path.starts_with(&format!("{wan}. Path: This PC")), "{path}");
    assert!(path.contains("Home router") && path.contains("Company router"));
    // Re-anchored through the SBC: its channel carries the call, latched
    // on the app's new address (the view reads the SBC at each report).
    until(&mut harness, "the SBC channel latched", |h| {
        let path = h.state().views().path.model().describe();
        path.contains("SBC channel") && path.contains("latched from")
    });
    let views = harness.state().views();
    let history = views.quality.history();
    assert!(history.running());
    assert!(
        history
            .marks()
            .iter()
            .any(|mark| mark.label.starts_with("moved to ")),
        "{:?}",
        history.marks()
    );

    // Saving the VoIP settings unchanged keeps the call too.
    harness.get_by_label("Phone").click();
    harness.run_steps(2);
    harness.get_by_label("VoIP settings…").click();
    harness.run_steps(2);
    harness.get_by_label("Save VoIP settings").click();
    let saved_at = harness.state().portal().received().unwrap_or_default();
    until(&mut harness, "packets received after saving", |h| {
        h.state().portal().received().is_some_and(|n| n > saved_at)
    });
    assert_eq!(call_state(&harness), Some(CallState::Connected));
    assert!(shows(&harness, &wan));

    harness.get_by_label("Hang up").click();
    until(&mut harness, "the call in the journal", |h| {
        h.state().journal().entries.len() == 1
    });
    let entry = &harness.state().journal().entries[0];
    assert_eq!((entry.kind, entry.number.as_str()), (Kind::Dialled, "*98"));
    assert!(entry.seconds >= 2, "connected across the move: {entry:?}");
}

#[test]
fn an_incoming_call_is_answered_held_retrieved_or_rejected() {
    let office = Office::start();
    office.trust_both();
    let mut harness = office.app(office.profile(office.account()));
    let lan = format!("Registered via LAN server {}", office.lan());
    until(&mut harness, "the LAN server", |h| shows(h, &lan));
    let mut eve = office
        .runtime
        .block_on(OtherApp::register(&office.servers().gateway, EVE));
    let dial = CallRequest::Dial(DAN.0.into());

    office.runtime.block_on(eve.request(dial.clone()));
    until(&mut harness, "the ringing", |h| {
        call_state(h) == Some(CallState::Ringing) && shows(h, "Call from 211")
    });
    harness.get_by_label("Answer").click();
    until(&mut harness, "the answered call", |h| {
        call_state(h) == Some(CallState::Connected)
    });
    harness.get_by_label("Hold").click();
    until(&mut harness, "the call on hold", |h| {
        call_state(h) == Some(CallState::Held) && shows(h, "On hold: 211")
    });
    harness.get_by_label("Retrieve").click();
    until(&mut harness, "the call back", |h| {
        call_state(h) == Some(CallState::Connected)
    });
    harness.get_by_label("Hang up").click();
    until(&mut harness, "the call in the journal", |h| {
        h.state().journal().entries.len() == 1
    });

    // Called back from the keyboard: digits and Enter; Escape hangs up.
    until(&mut harness, "the line at rest", |h| {
        matches!(call_state(h), Some(CallState::Idle | CallState::Ended))
    });
    harness
        .input_mut()
        .events
        .push(eframe::egui::Event::Text(EVE.0.to_owned()));
    harness.run_steps(1);
    harness.key_press(eframe::egui::Key::Enter);
    until(&mut harness, "the call back", |h| {
        matches!(
            call_state(h),
            Some(CallState::Calling | CallState::Connected)
        )
    });
    office
        .runtime
        .block_on(eve.call(|view| view.state == CallState::Ringing));
    harness.key_press(eframe::egui::Key::Escape);
    until(&mut harness, "the call back in the journal", |h| {
        h.state().journal().entries.len() == 2
    });
    assert_eq!(harness.state().journal().entries[0].kind, Kind::Dialled);

    office.runtime.block_on(eve.request(dial));
    until(&mut harness, "the second ringing", |h| {
        call_state(h) == Some(CallState::Ringing)
    });
    harness.get_by_label("Reject").click();
    until(&mut harness, "the rejected call in the journal", |h| {
        h.state().journal().entries.len() == 3
    });
    let entries = &harness.state().journal().entries;
    assert_eq!(
        (entries[0].kind, entries[0].number.as_str()),
        (Kind::Missed, EVE.0)
    );
    assert_eq!(
        (entries[1].kind, entries[1].number.as_str()),
        (Kind::Dialled, EVE.0)
    );
    assert_eq!(
        (entries[2].kind, entries[2].number.as_str()),
        (Kind::Received, EVE.0)
    );
}

#[test]
fn a_new_certificate_is_accepted_by_its_fingerprint_a_changed_one_refused() {
    let office = Office::start();
    let profile = office.profile(office.account());
    let mut harness = office.app(profile.clone());
    let fingerprint = office.servers().gateway.fingerprint;
    until(&mut harness, "the first-contact prompt", |h| {
        shows(h, "New gateway certificate")
    });
    assert!(shows(&harness, &fingerprint.to_string()));
    harness.get_by_label("Accept certificate").click();
    let lan = format!("Registered via LAN server {}", office.lan());
    until(&mut harness, "registration once accepted", |h| {
        shows(h, &lan)
    });
    let stored = office.store().lookup(&office.lan().to_string());
    assert_eq!(stored.expect("readable"), Some(fingerprint));
    drop(harness);

    // Another certificate at the WAN address the store knows.
    office
        .store()
        .remember(&office.wan().to_string(), Fingerprint([7; 32]))
        .expect("remembered");
    let mut account = office.account();
    account.network = Network::RemoteWifi;
    account.remote_wifi = true;
    let mut harness = office.app(office.profile(account));
    until(&mut harness, "the warning", |h| {
        shows(h, "Certificate changed: connection refused")
    });
    assert!(shows(&harness, &format!("it now shows {fingerprint}")));
    let refused = format!(
        "Not registered: the certificate of {} has changed",
        office.wan()
    );
    assert!(shows(&harness, &refused));
    assert!(harness.query_by_label("Accept certificate").is_none());
    assert!(!harness.state().portal().registered());
    let stored = office.store().lookup(&office.wan().to_string());
    assert_eq!(stored.expect("readable"), Some(Fingerprint([7; 32])));
}
