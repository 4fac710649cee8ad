//! The app driven through egui_kittest by its accessible labels, with the
//! real engine against the real gateway in-process (a test office on
//! loopback), no display and no sound devices. Waits are on the engine's
//! events, bounded by a patience reached only when a test fails.

// Test helpers shared with the integration tests (`tests/support`).
#[path = "../../tests/support/child_run.rs"]
mod child_run;
#[path = "../../tests/support/pulse.rs"]
mod pulse;

mod devices;
mod notification;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT as _, Queryable};
use gateway::clock::Clock;
use gateway::config::RtpRange;
use gateway::gateway::{Gateway, StartOptions};
use gateway::testing::{self, cast};
use shared::hfa_engine::phone::PhoneTimers;
use shared::secret::Secret;

use super::app::{AppOptions, PhoneApp};
use super::demo::Party;
use super::journal::Kind;
use super::settings::{AccountSettings, PhoneType, Profile, Settings};
use crate::audio::NullBackend;
use crate::hfa::{GatewayAddress, HfaAccount, Led};

use gateway::testing::cast::{ANNA, BEN};
/// Outside the office's LAN (127.0.0.0/24): Anna registers "at home".
const HOME_IP: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 1, 30));
const LAN_IP: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);
/// Long enough for anything on loopback; only reached when a test fails.
const PATIENCE: Duration = Duration::from_secs(10);

/// The gateway with a two-person office, on its own runtime.
struct Office {
    runtime: tokio::runtime::Runtime,
    gateway: Option<Gateway>,
    dir: tempfile::TempDir,
}

/// RTP proxy ports of its own per gateway: 31616..32767 is left free by
/// the gateway tests, the portal tests and the `tests` crate.
fn rtp_range() -> RtpRange {
    testing::rtp_range(31616, 9)
}

impl Office {
    fn start() -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let dir = tempfile::tempdir().expect("temp dir");
        let config = testing::Office::x3()
            .on_loopback()
            .data_dir(&dir.path().join("gateway"))
            .subscribers([cast::anna(), cast::ben()])
            .validated();
        let options = StartOptions {
            hfa_listen: Some(SocketAddr::new(LAN_IP, 0)),
            clock: Clock::system(),
            rtp_range: Some(rtp_range()),
            ..StartOptions::default()
        };
        let gateway = runtime
            .block_on(Gateway::start(config, options))
            .expect("the gateway starts");
        Self {
            runtime,
            gateway: Some(gateway),
            dir,
        }
    }

    fn hfa(&self) -> SocketAddr {
        self.gateway.as_ref().expect("running").hfa_addr()
    }

    fn profile(&self) -> Profile {
        Profile::at(self.dir.path().join("profile"))
    }

    /// A profile with Anna's account saved, as after the first run.
    fn saved_profile(&self, password: &str) -> Profile {
        let profile = self.profile();
        let settings = Settings {
            account: Some(AccountSettings {
                gateway_host: LAN_IP.to_string(),
                gateway_port: self.hfa().port(),
                number: ANNA.0.into(),
                phone_type: PhoneType::OpenStage60,
            }),
            ..Settings::default()
        };
        profile.save(&settings).expect("saved");
        profile
            .save_password(&Secret::new(password))
            .expect("password saved");
        profile
    }

    /// The app on this office's runtime, from `profile`, without audio.
    fn app(&self, profile: Profile) -> Harness<'static, PhoneApp> {
        self.app_with(profile, false, Vec::new)
    }

    /// The app with sound devices (`audio_devices`) listed by `lister`.
    fn app_with(
        &self,
        profile: Profile,
        audio_devices: bool,
        lister: super::sound::Lister,
    ) -> Harness<'static, PhoneApp> {
        self.app_from(profile, audio_devices, lister, HOME_IP)
    }

    /// The app connecting from `bind` (`HOME_IP`: at home, `LAN_IP`: in
    /// the office).
    fn app_from(
        &self,
        profile: Profile,
        audio_devices: bool,
        lister: super::sound::Lister,
        bind: IpAddr,
    ) -> Harness<'static, PhoneApp> {
        let options = AppOptions {
            profile,
            audio_devices,
            timers: PhoneTimers::default(),
            bind: Some(bind),
            dial: None,
            list_devices: lister,
            notifications: false,
        };
        let app = PhoneApp::new(options, self.runtime.handle());
        Harness::builder()
            .with_size([1000.0, 700.0])
            .build_ui_state(|ui, app: &mut PhoneApp| app.ui(ui), app)
    }

    /// Ben at his desk on the company LAN, answering every call.
    fn ben(&self) -> Party {
        let address = GatewayAddress {
            host: LAN_IP.to_string(),
            port: self.hfa().port(),
        };
        let mut account =
            HfaAccount::new(address, BEN.0, Secret::new(BEN.1)).expect("Ben's account");
        account.bind_address = Some(LAN_IP);
        let _guard = self.runtime.enter();
        let party = self
            .runtime
            .block_on(Party::start(account, Box::new(NullBackend)))
            .expect("Ben starts");
        let gateway = self.gateway.as_ref().expect("running");
        let deadline = Instant::now() + PATIENCE;
        // The gateway tells nobody when a phone registers: poll its state.
        while !gateway.is_registered(BEN.0) {
            assert!(Instant::now() < deadline, "Ben did not register");
            std::thread::yield_now();
        }
        party
    }
}

impl Drop for Office {
    fn drop(&mut self) {
        if let Some(gateway) = self.gateway.take() {
            self.runtime.block_on(gateway.stop());
        }
    }
}

/// Draws frames and handles the engine's events until `condition` holds;
/// panics after [`PATIENCE`] with `what`.
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
            let model = harness.state().model();
            panic!(
                "timed out waiting for {what}; the phone shows {:?} / {:?}, hook {}, ringer {}, \
                 media {}, Line LED {}, journal {:?}",
                model.display_row(0),
                model.display_row(1),
                model.hook(),
                model.ringer(),
                model.media().is_some(),
                line_led(harness),
                harness.state().journal().entries,
            );
        }
        harness.state_mut().wait_for_event(left);
    }
}

fn shows(harness: &Harness<'static, PhoneApp>, text: &str) -> bool {
    harness.query_by_label_contains(text).is_some()
}

fn type_into(harness: &mut Harness<'static, PhoneApp>, field: &str, text: &str) {
    harness.get_by_label(field).focus();
    harness.run_steps(1);
    harness.get_by_label(field).type_text(text);
    harness.run_steps(1);
}

fn line_led(harness: &Harness<'static, PhoneApp>) -> Led {
    let model = harness.state().model();
    (1..=20)
        .find(|fpk| model.label(*fpk) == Some("Line"))
        .map_or(Led::Off, |fpk| model.led(fpk))
}

#[test]
fn first_run_refuses_bad_input_then_registers() {
    let office = Office::start();
    let mut harness = office.app(office.profile());
    harness.run_steps(2);
    assert!(shows(&harness, "Device@Home account"));
    harness.get_by_label("Save and register").click();
    harness.run_steps(2);
    assert!(shows(&harness, "Enter the gateway address"));

    type_into(&mut harness, "Gateway address", "no-such-host.invalid");
    // The port field holds 4060: replace it with a port out of range.
    harness.get_by_label("Port").focus();
    harness.run_steps(1);
    harness.key_press_modifiers(eframe::egui::Modifiers::COMMAND, eframe::egui::Key::A);
    harness.get_by_label("Port").type_text("70000");
    harness.get_by_label("Save and register").click();
    harness.run_steps(2);
    assert!(shows(&harness, "out of range"), "port refused");
    harness.get_by_label("Port").focus();
    harness.run_steps(1);
    harness.key_press_modifiers(eframe::egui::Modifiers::COMMAND, eframe::egui::Key::A);
    harness
        .get_by_label("Port")
        .type_text(&office.hfa().port().to_string());
    harness.get_by_label("Save and register").click();
    harness.run_steps(2);
    assert!(
        shows(&harness, "Enter your call number"),
        "empty number refused"
    );
    type_into(&mut harness, "Call number", ANNA.0);
    type_into(&mut harness, "HFA password", ANNA.1);
    harness.get_by_label("Save and register").click();
    until(&mut harness, "the name to be refused", |h| {
        shows(h, "cannot resolve the name") || shows(h, "has no address")
    });

    harness.get_by_label("Gateway address").focus();
    harness.run_steps(1);
    harness.key_press_modifiers(eframe::egui::Modifiers::COMMAND, eframe::egui::Key::A);
    harness
        .get_by_label("Gateway address")
        .type_text("127.0.0.1");
    harness.get_by_label("Save and register").click();
    until(&mut harness, "registration", |h| {
        shows(h, "Registered as 201")
    });
    // The settings are saved, the password apart and private.
    let settings = office.profile().load().expect("settings");
    assert_eq!(settings.account.expect("account").number, ANNA.0);
    let password = office.profile().password().expect("readable");
    assert_eq!(password.expect("saved").expose(), ANNA.1);
}

#[test]
fn a_phone_below_the_minimum_is_updated_in_the_office_and_registers_from_home_after_a_restart() {
    let office = Office::start();
    let profile = office.saved_profile(ANNA.1);
    let mut settings = profile.load().expect("settings");
    settings.hfa_release = Some("V3R0.9.0".into());
    profile.save(&settings).expect("saved");

    // Connected internally once (guide 1.3.4).
    let mut harness = office.app_from(profile.clone(), false, Vec::new, LAN_IP);
    until(&mut harness, "the update", |h| {
        shows(h, "Software updated from V3R0.9.0 to V3R0.33.1")
    });
    until(&mut harness, "registration", |h| {
        shows(h, "Registered as 201")
    });
    let remembered = profile.load().expect("settings").hfa_release;
    assert_eq!(remembered.as_deref(), Some("V3R0.33.1"));
    drop(harness);

    // At home, after a restart, with the release it remembers.
    let mut harness = office.app(profile);
    until(&mut harness, "registration from home", |h| {
        shows(h, "Registered as 201")
    });
    assert!(!shows(&harness, "Software updated"), "no second update");
}

#[test]
fn a_wrong_password_is_refused_in_words() {
    let office = Office::start();
    let mut harness = office.app(office.saved_profile("not-the-password"));
    until(&mut harness, "the refusal", |h| {
        shows(
            h,
            "Registration refused: Wrong password: check the HFA password",
        )
    });
}

#[test]
fn calls_by_dial_pad_and_shortcut_land_in_the_journal() {
    let office = Office::start();
    let ben = office.ben();
    let profile = office.saved_profile(ANNA.1);
    let mut harness = office.app(profile.clone());
    until(&mut harness, "registration", |h| {
        shows(h, "Registered as 201")
    });

    // The echo test, dialled on the dial pad.
    for key in ["*", "9", "8"] {
        harness.get_by_label(key).click();
        harness.run_steps(1);
    }
    until(&mut harness, "the echo test to connect", |h| {
        shows(h, "Echo test") && shows(h, "Connected")
    });
    assert_eq!(line_led(&harness), Led::On);
    // Dialled without lifting: the call runs handsfree, and the hook
    // button says so.
    assert!(harness.state().model().handsfree());
    assert!(shows(&harness, "Handsfree"));
    assert!(harness.query_by_label("Lift handset").is_none());
    harness.get_by_label("Hang up").click();
    until(&mut harness, "the echo test in the journal", |h| {
        h.state().journal().entries.len() == 1
    });

    // Ben calls: the phone rings, and Enter answers.
    ben.call(ANNA.0);
    until(&mut harness, "the ringer", |h| {
        h.state().model().ringer() && shows(h, "Call from 202 Ben")
    });
    assert_eq!(line_led(&harness), Led::Flashing);
    assert!(harness.query_by_label("Answer").is_some());
    harness.key_press(eframe::egui::Key::Enter);
    until(&mut harness, "the call to connect", |h| {
        shows(h, "Connected") && h.state().model().media().is_some()
    });
    harness.get_by_label("Hang up").click();
    until(&mut harness, "Ben's call in the journal", |h| {
        h.state().journal().entries.len() == 2
    });

    // After a restart the journal still holds both calls.
    drop(harness);
    let harness = office.app(profile);
    let entries = &harness.state().journal().entries;
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[0].kind, Kind::Received);
    assert_eq!(entries[0].number, BEN.0);
    assert_eq!(entries[0].label, "202 Ben");
    assert_eq!(entries[1].kind, Kind::Dialled);
    assert_eq!(entries[1].number, "*98");
    assert_eq!(entries[1].label, "Echo test");
}

/// A machine with a USB headset beside the sound server.
fn headset_and_pulse() -> Vec<crate::audio::DeviceInfo> {
    let device = |id: &str, name: &str| crate::audio::DeviceInfo {
        id: id.into(),
        name: name.into(),
        input: true,
        output: true,
    };
    vec![
        device("alsa:null", "Discard all samples"),
        device("alsa:pulse", "PulseAudio Sound Server"),
        device("alsa:hw:CARD=USB,DEV=0", "USB Headset"),
    ]
}

fn open_audio_settings(harness: &mut Harness<'static, PhoneApp>) {
    harness.get_by_label("Phone").click();
    harness.run_steps(2);
    harness.get_by_label("Audio…").click();
    harness.run_steps(2);
}

#[test]
fn the_audio_settings_say_in_words_when_no_device_is_usable() {
    let office = Office::start();
    let mut harness = office.app_with(office.saved_profile(ANNA.1), true, Vec::new);
    until(&mut harness, "registration", |h| {
        shows(h, "Registered as 201")
    });
    open_audio_settings(&mut harness);
    until(&mut harness, "the empty device list", |h| {
        shows(h, "No sound device found: calls connect without audio.")
    });

    // With --no-audio nothing is offered, and the phone says why.
    drop(harness);
    let mut harness = office.app(office.saved_profile(ANNA.1));
    harness.run_steps(2);
    open_audio_settings(&mut harness);
    assert!(shows(&harness, "Sound is off (started with --no-audio)"));
    assert!(harness.query_by_label("Play test tone").is_none());
}

#[test]
fn the_chosen_ringing_device_is_kept_in_the_profile() {
    let office = Office::start();
    let profile = office.saved_profile(ANNA.1);
    let mut harness = office.app_with(profile.clone(), true, headset_and_pulse);
    harness.run_steps(2);
    open_audio_settings(&mut harness);
    until(&mut harness, "the device list", |h| {
        h.query_all_by_label("Ringing").count() > 0
    });

    // ALSA's null device is not offered.
    harness.get_by_label("Ringing").click();
    harness.run_steps(2);
    assert!(!shows(&harness, "Discard all samples"));
    harness.get_by_label("USB Headset").click();
    harness.run_steps(2);
    let settings = profile.load().expect("saved");
    assert_eq!(
        settings.ringing_device.as_deref(),
        Some("alsa:hw:CARD=USB,DEV=0")
    );
    assert_eq!(settings.output_device, None);
    drop(harness);
    // The next start rings there.
    let harness = office.app_with(profile, true, headset_and_pulse);
    assert_eq!(
        harness.state().ringing_device().as_deref(),
        Some("alsa:hw:CARD=USB,DEV=0")
    );
}

/// Whether the USB headset of [`headset_unpluggable`] is plugged in.
static HEADSET_PLUGGED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(true);

/// [`headset_and_pulse`], without the headset once it is unplugged.
fn headset_unpluggable() -> Vec<crate::audio::DeviceInfo> {
    let mut devices = headset_and_pulse();
    if !HEADSET_PLUGGED.load(Ordering::SeqCst) {
        devices.retain(|device| device.name != "USB Headset");
    }
    devices
}

#[test]
fn an_unplugged_headset_gives_way_to_the_default_until_it_is_back() {
    const HEADSET: &str = "alsa:hw:CARD=USB,DEV=0";
    let office = Office::start();
    let profile = office.saved_profile(ANNA.1);
    let mut settings = profile.load().expect("saved");
    settings.input_device = Some(HEADSET.into());
    profile.save(&settings).expect("saved");
    let mut harness = office.app_with(profile.clone(), false, headset_unpluggable);
    until(&mut harness, "registration", |h| {
        shows(h, "Registered as 201")
    });
    assert_eq!(
        harness.state().audio_choice().input.as_deref(),
        Some(HEADSET)
    );

    // Unplugged: seen without opening the audio settings, said in words.
    HEADSET_PLUGGED.store(false, Ordering::SeqCst);
    until(&mut harness, "the headset to be missed", |h| {
        shows(
            h,
            "The microphone \"USB Headset\" has gone: using the system default.",
        )
    });
    assert_eq!(harness.state().audio_choice().input, None);
    // The choice stays in the profile, for when it is back.
    let saved = profile.load().expect("saved");
    assert_eq!(saved.input_device.as_deref(), Some(HEADSET));

    HEADSET_PLUGGED.store(true, Ordering::SeqCst);
    until(&mut harness, "the headset to be back", |h| {
        shows(h, "The microphone \"USB Headset\" is back.")
    });
    assert_eq!(
        harness.state().audio_choice().input.as_deref(),
        Some(HEADSET)
    );
}

impl Office {
    /// The gateway's side of the path view, as the demo gives it.
    fn probe(&self) -> super::path::probe::GatewayProbe {
        let gateway = self.gateway.as_ref().expect("running");
        let sbc = gateway.sbc_shared();
        let last = gateway::sbc::ChannelId(sbc.channels() - 1);
        let range = (
            sbc.public_rtp(gateway::sbc::ChannelId(0)).port(),
            sbc.public_rtp(last).port() + 1,
        );
        super::path::probe::GatewayProbe::new(sbc, self.hfa().port(), None, range)
    }
}

/// Ticks the View menu's checkbox `label`.
fn open_view(harness: &mut Harness<'static, PhoneApp>, label: &str) {
    use eframe::egui::Role;
    if harness
        .query_by_role_and_label(Role::CheckBox, label)
        .is_none()
    {
        harness.get_by_label("View").click();
        harness.run_steps(2);
    }
    harness.get_by_role_and_label(Role::CheckBox, label).click();
    harness.run_steps(2);
}

/// The path view's accessible description.
fn path_description(harness: &Harness<'static, PhoneApp>) -> String {
    harness
        .get_by_role_and_label(eframe::egui::Role::Image, "Path view")
        .accesskit_node()
        .description()
        .unwrap_or_default()
}

#[test]
fn the_path_view_and_quality_panel_follow_an_echo_test_through_the_sbc() {
    let office = Office::start();
    let profile = office.saved_profile(ANNA.1);
    let mut harness = office.app(profile.clone());
    harness
        .state_mut()
        .views_mut()
        .path
        .set_probe(office.probe());
    until(&mut harness, "registration", |h| {
        shows(h, "Registered as 201")
    });
    open_view(&mut harness, "Path view");
    open_view(&mut harness, "Quality panel");
    let open = profile.load().expect("saved").open_views;
    assert!(open.path && open.quality, "the open views are remembered");
    assert!(shows(
        &harness,
        "No call yet: the figures show during a call."
    ));
    let server = format!("127.0.0.1:{}", office.hfa().port());
    let idle = path_description(&harness);
    assert!(
        idle.starts_with(&format!(
            "Registered via WAN server {server}. Path: This PC"
        )),
        "{idle}"
    );
    assert!(idle.ends_with("No call."), "{idle}");

    // Typed: the views' windows lie over the dial pad.
    harness.event(eframe::egui::Event::Text("*98".into()));
    harness.run_steps(1);
    // A sample a second: three of them, and the SBC latched by then.
    until(&mut harness, "three quality samples and the latch", |h| {
        let views = h.state().views();
        let latched = matches!(
            views.path.model().channel().map(|c| c.latch),
            Some(super::path::model::Latch::Latched { .. })
        );
        views.quality.history().samples().len() >= 3 && latched
    });
    let views = harness.state().views();
    let model = views.path.model();
    let local = model.client.local_media.expect("the media socket is known");
    assert_eq!(local.ip(), HOME_IP, "media leaves from home");
    let channel = model.channel().expect("the call's SBC channel");
    assert_eq!(
        channel.latch,
        super::path::model::Latch::Latched { from: local },
        "the SBC latched Anna's own RTP socket"
    );
    assert_eq!(channel.device_ip, Some(HOME_IP));
    let history = views.quality.history();
    assert_eq!(history.codec(), Some("G722"), "an OpenStage talks wideband");
    let last = history.samples().back().expect("samples");
    assert!(last.receiving, "the echo comes back: {last:?}");
    assert!(last.mos > 3.5, "a clean loopback call: {last:?}");
    assert!(history.samples().iter().all(|s| s.loss_percent == 0.0));

    let number = channel.number;
    harness.run_steps(2);
    let description = path_description(&harness);
    for part in [
        format!("Registered via WAN server {server}"),
        "Home router (no NAT, gateway sees 127.0.1.30)".to_owned(),
        format!("SBC channel {number} latched from {local}"),
        "Other party (Echo test".to_owned(),
        "Media: G722 to 127.0.0.1:".to_owned(),
    ] {
        assert!(description.contains(&part), "{part:?} in {description}");
    }
    assert!(shows(&harness, "G722 call, "), "the panel's summary");
    assert!(shows(&harness, "G.722 wideband"), "the codec");

    harness.key_press(eframe::egui::Key::Escape);
    until(&mut harness, "the media to stop", |h| {
        !h.state().views().quality.history().running()
    });
    harness.run_steps(2);
    assert!(path_description(&harness).ends_with("No call."));
    assert!(shows(&harness, "G722 last call, "));
}

/// The archive's files by name (the top directory stripped).
fn archive_members(path: &std::path::Path) -> std::collections::BTreeMap<String, String> {
    use std::io::Read as _;
    let file = std::fs::File::open(path).expect("the archive");
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(file));
    let mut members = std::collections::BTreeMap::new();
    for entry in archive.entries().expect("a tar archive") {
        let mut entry = entry.expect("an entry");
        let name: std::path::PathBuf = entry.path().expect("a path").components().skip(1).collect();
        let mut text = String::new();
        entry.read_to_string(&mut text).expect("text");
        members.insert(name.to_string_lossy().into_owned(), text);
    }
    members
}

#[test]
fn phone_menu_writes_the_feedback_archive_with_the_last_call_and_says_where() {
    let office = Office::start();
    let profile = office.saved_profile(ANNA.1);
    let mut harness = office.app(profile.clone());
    let downloads = office.dir.path().join("downloads");
    std::fs::create_dir(&downloads).expect("a folder");
    harness
        .state_mut()
        .feedback_mut()
        .save_in(downloads.clone());
    until(&mut harness, "registration", |h| {
        shows(h, "Registered as 201")
    });
    // An echo test, hung up once media flowed for a while.
    harness.event(eframe::egui::Event::Text("*98".into()));
    harness.run_steps(1);
    until(&mut harness, "two quality samples of the echo", |h| {
        h.state().views().quality.history().samples().len() >= 2
    });
    harness.key_press(eframe::egui::Key::Escape);
    until(&mut harness, "the call's summary in the profile", |_| {
        crate::feedback::calls::read(profile.dir()).len() == 1
    });

    harness.get_by_label("Phone").click();
    harness.run_steps(2);
    harness.get_by_label("Create feedback archive…").click();
    until(&mut harness, "the archive written", |h| {
        shows(h, "Feedback archive saved to ")
    });
    let written: Vec<_> = std::fs::read_dir(&downloads)
        .expect("the folder")
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .collect();
    let [archive] = written.as_slice() else {
        panic!("one archive: {written:?}");
    };
    assert!(shows(
        &harness,
        &format!("Feedback archive saved to {}", archive.display())
    ));
    let members = archive_members(archive);
    let setup = &members["setup.txt"];
    assert!(setup.contains("  type: OpenStage 60 HFA\n"), "{setup}");
    let hfa = office.hfa();
    assert!(
        setup.contains(&format!("    HFA {hfa} -> {hfa}\n")),
        "{setup}"
    );
    assert!(members["calls.txt"].contains("codec G722"), "{members:?}");
    for (name, text) in &members {
        assert!(!text.contains(ANNA.1), "{name} holds the password");
    }
}
