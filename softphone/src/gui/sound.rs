//! The app's sound devices and the sounds the phone makes by itself:
//!
//! - [`DeviceWatch`]: the device list, enumerated on a thread of its own
//!   (never the UI thread) at start and every two seconds, so a headset
//!   plugged in or out shows up; the UI hears of a list only when it
//!   changed ([`Event::Devices`]), and [`follow_devices`] says which chosen
//!   device has gone (the system default stands in) or come back.
//! - [`Sounds`]: the ringer on the ringing device and the call-progress
//!   tones on the speaker, as the gateway orders them (Start/Stop Ringer,
//!   Start/Stop Tone), the test tone and ringing test, all at the volume
//!   of the face's slider, and the microphone test whose level meter the
//!   audio settings show. A device that does
//!   not open is reported as [`Event::NoAudio`]; the phone goes on.
//! - [`audio_window`]: the audio settings.

use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::Duration;

use eframe::egui;
use shared::hfa::{Message, Stimulus};

use super::engine::{AudioChoice, Event, EventSender};
use crate::audio::sounder::{Pattern, Player, Volume};
use crate::audio::{CpalOneWay, DeviceInfo, Direction};

/// How often the list is read again. Reading it asks the sound system for
/// its device hints and opens no device.
const REFRESH: Duration = Duration::from_secs(2);

/// Where the device list comes from: [`crate::audio::list_devices`], or a
/// test's own list.
pub type Lister = fn() -> Vec<DeviceInfo>;

/// The thread that lists the sound devices; it ends with this handle.
#[derive(Debug)]
pub struct DeviceWatch {
    refresh: mpsc::Sender<()>,
}

impl DeviceWatch {
    /// Lists the devices now and every [`REFRESH`].
    pub fn start(lister: Lister, ui: EventSender) -> Self {
        let (refresh, commands) = mpsc::channel();
        let spawned = std::thread::Builder::new()
            .name("audio-device-list".into())
            .spawn(move || watch(lister, &ui, &commands));
        if let Err(error) = spawned {
            tracing::warn!(%error, "cannot start the device list thread");
        }
        Self { refresh }
    }

    /// Reads the list again now (the audio settings have opened).
    pub fn refresh(&self) {
        let _ = self.refresh.send(());
    }
}

fn watch(lister: Lister, ui: &EventSender, commands: &mpsc::Receiver<()>) {
    let mut last: Option<Vec<DeviceInfo>> = None;
    loop {
        let devices: Vec<DeviceInfo> = lister().into_iter().filter(usable).collect();
        if last.as_ref() != Some(&devices) {
            if !ui.send(Event::Devices(devices.clone())) {
                return; // the UI has gone
            }
            last = Some(devices);
        }
        match commands.recv_timeout(REFRESH) {
            Ok(()) | Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => return,
        }
    }
}

/// The three device choices of the audio settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Microphone,
    Speaker,
    Ringing,
}

impl Role {
    pub const ALL: [Self; 3] = [Self::Microphone, Self::Speaker, Self::Ringing];

    fn name(self) -> &'static str {
        match self {
            Self::Microphone => "microphone",
            Self::Speaker => "speaker",
            Self::Ringing => "ringing device",
        }
    }

    /// What stands in for a device that has gone.
    fn fallback(self) -> &'static str {
        match self {
            Self::Microphone | Self::Speaker => "the system default",
            Self::Ringing => "the speaker",
        }
    }

    fn fits(self, device: &DeviceInfo) -> bool {
        match self {
            Self::Microphone => device.input,
            Self::Speaker | Self::Ringing => device.output,
        }
    }

    /// The device `choice` uses for this role.
    pub fn of(self, choice: &AudioChoice) -> &Option<String> {
        match self {
            Self::Microphone => &choice.input,
            Self::Speaker => &choice.output,
            Self::Ringing => &choice.ringer,
        }
    }
}

/// A device to use instead of the one in use, and why in words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceChange {
    pub role: Role,
    /// `None`: the fallback (the system default, or the speaker).
    pub device: Option<String>,
    pub why: String,
}

/// What the new list `now` changes: a preferred device (`preferred`, as
/// saved) that is not in it gives way to the fallback; one that is back
/// is used again. `before` is the previous list, for the names of devices
/// that have gone.
pub fn follow_devices(
    preferred: &AudioChoice,
    in_use: &AudioChoice,
    before: &[DeviceInfo],
    now: &[DeviceInfo],
) -> Vec<DeviceChange> {
    let name = |id: &str| {
        before
            .iter()
            .chain(now)
            .find(|device| device.id == id)
            .map_or(id, |device| device.name.as_str())
            .to_owned()
    };
    Role::ALL
        .into_iter()
        .filter_map(|role| {
            let wanted = role.of(preferred).as_deref()?;
            let present = now.iter().any(|d| d.id == wanted && role.fits(d));
            let using = role.of(in_use).as_deref() == Some(wanted);
            let (device, why) = match (present, using) {
                (false, true) => (
                    None,
                    format!(
                        "The {} \"{}\" has gone: using {}.",
                        role.name(),
                        name(wanted),
                        role.fallback()
                    ),
                ),
                (true, false) => (
                    Some(wanted.to_owned()),
                    format!("The {} \"{}\" is back.", role.name(), name(wanted)),
                ),
                _ => return None,
            };
            Some(DeviceChange { role, device, why })
        })
        .collect()
}

/// ALSA's `null` device swallows everything: no one would pick it.
fn usable(device: &DeviceInfo) -> bool {
    let host_less = device
        .id
        .split_once(':')
        .map_or(device.id.as_str(), |(_, rest)| rest);
    host_less != "null"
}

/// The sounds playing now.
#[derive(Debug)]
pub struct Sounds {
    /// `false` with `--no-audio`: nothing is ever opened.
    enabled: bool,
    volume: Volume,
    ui: EventSender,
    ringer: Option<Player>,
    tone: Option<Player>,
    test: Option<Player>,
    microphone: Option<Player>,
}

impl Sounds {
    pub fn new(enabled: bool, volume: u8, ui: EventSender) -> Self {
        Self {
            enabled,
            volume: Volume::new(volume),
            ui,
            ringer: None,
            tone: None,
            test: None,
            microphone: None,
        }
    }

    pub fn enabled(&self) -> bool {
        self.enabled
    }

    /// The face's volume slider moved: sounds playing follow it too.
    pub fn set_volume(&self, percent: u8) {
        self.volume.set(percent);
    }

    /// Starts or stops the ringer or a tone as the gateway's `message` says.
    pub fn message(&mut self, message: &Message, choice: &AudioChoice) {
        let Message::Stimulus(stimulus) = message else {
            return;
        };
        match stimulus {
            Stimulus::StartRinger(ringer) if !ringer.is_information_tone() => {
                self.ringer = self.play(ringing_device(choice), Pattern::ringer(ringer));
            }
            Stimulus::StopRinger => self.ringer = None,
            Stimulus::StartTone(tone) => {
                self.tone = self.play(choice.output.clone(), Pattern::tone(tone));
            }
            Stimulus::StopTone => self.tone = None,
            _ => {}
        }
    }

    /// Rings for an incoming myPortal to go call on the ringing device.
    pub fn ring_app(&mut self, choice: &AudioChoice) {
        self.ringer = self.play(ringing_device(choice), Pattern::app_ringer());
    }

    /// The app's call was answered, rejected or is gone.
    pub fn stop_ringing(&mut self) {
        self.ringer = None;
    }

    /// The connection is gone: so are its ringer and tones.
    pub fn stop_call_sounds(&mut self) {
        self.ringer = None;
        self.tone = None;
    }

    /// Two seconds of 440 Hz on the speaker.
    pub fn test_tone(&mut self, choice: &AudioChoice) {
        self.test = self.play(choice.output.clone(), Pattern::test_tone());
    }

    /// Four seconds of ringing on the ringing device.
    pub fn test_ringing(&mut self, choice: &AudioChoice) {
        self.test = self.play(ringing_device(choice), Pattern::ring_test());
    }

    /// Opens (or closes) the microphone for the level meter.
    pub fn test_microphone(&mut self, on: bool, choice: &AudioChoice) {
        self.microphone = if on {
            self.open(Direction::Capture, choice.input.clone(), Pattern::silence())
        } else {
            None
        };
    }

    /// The microphone test's level in dBFS, once its device is open.
    pub fn microphone_level(&self) -> Option<f32> {
        let controls = self.microphone.as_ref()?.controls()?;
        Some(controls.mic_level_dbfs())
    }

    pub fn testing_microphone(&self) -> bool {
        self.microphone.is_some()
    }

    fn play(&self, device: Option<String>, pattern: Pattern) -> Option<Player> {
        self.open(Direction::Playback, device, pattern)
    }

    fn open(&self, which: Direction, device: Option<String>, pattern: Pattern) -> Option<Player> {
        if !self.enabled {
            return None;
        }
        let ui = self.ui.clone();
        let backend = CpalOneWay { which, device };
        let started = Player::start(
            Box::new(backend),
            pattern,
            self.volume.clone(),
            move |error| {
                ui.send(Event::NoAudio(error.to_string()));
            },
        );
        match started {
            Ok(player) => Some(player),
            Err(error) => {
                self.ui.send(Event::NoAudio(error.to_string()));
                None
            }
        }
    }
}

fn ringing_device(choice: &AudioChoice) -> Option<String> {
    choice.ringer.clone().or_else(|| choice.output.clone())
}

/// What the user did in the audio settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AudioAction {
    Input(Option<String>),
    Output(Option<String>),
    Ringer(Option<String>),
    TestTone,
    TestRinging,
    TestMicrophone(bool),
}

/// What the audio settings show.
#[derive(Debug)]
pub struct AudioView<'a> {
    /// `false` with `--no-audio`.
    pub enabled: bool,
    /// `None` until the first list arrives.
    pub devices: Option<&'a [DeviceInfo]>,
    pub choice: &'a AudioChoice,
    /// Microphone level in dBFS while the microphone test runs.
    pub mic_level: Option<f32>,
    pub testing_microphone: bool,
    /// Why the last device did not open.
    pub problem: Option<&'a str>,
}

/// The audio settings' contents.
pub fn audio_window(ui: &mut egui::Ui, view: &AudioView<'_>) -> Vec<AudioAction> {
    let mut actions = Vec::new();
    if !view.enabled {
        ui.label("Sound is off (started with --no-audio): calls connect without audio.");
        return actions;
    }
    let devices = view.devices.unwrap_or_default();
    match view.devices {
        None => {
            ui.label("Looking for sound devices…");
        }
        Some([]) => {
            ui.colored_label(
                ui.visuals().warn_fg_color,
                "No sound device found: calls connect without audio.",
            );
        }
        Some(_) => {}
    }
    let inputs: Vec<&DeviceInfo> = devices.iter().filter(|d| d.input).collect();
    let outputs: Vec<&DeviceInfo> = devices.iter().filter(|d| d.output).collect();
    egui::Grid::new("audio-devices")
        .num_columns(2)
        .spacing([12.0, 8.0])
        .show(ui, |ui| {
            if let Some(input) = pick(
                ui,
                "Microphone",
                &inputs,
                &view.choice.input,
                "System default",
            ) {
                actions.push(AudioAction::Input(input));
            }
            ui.end_row();
            if let Some(output) = pick(
                ui,
                "Speaker",
                &outputs,
                &view.choice.output,
                "System default",
            ) {
                actions.push(AudioAction::Output(output));
            }
            ui.end_row();
            if let Some(ringer) = pick(ui, "Ringing", &outputs, &view.choice.ringer, "The speaker")
            {
                actions.push(AudioAction::Ringer(ringer));
            }
            ui.end_row();
        });
    ui.add_space(6.0);
    ui.horizontal(|ui| {
        if ui.button("Play test tone").clicked() {
            actions.push(AudioAction::TestTone);
        }
        if ui.button("Test ringing").clicked() {
            actions.push(AudioAction::TestRinging);
        }
        let mut testing = view.testing_microphone;
        if ui.toggle_value(&mut testing, "Test microphone").changed() {
            actions.push(AudioAction::TestMicrophone(testing));
        }
    });
    if view.testing_microphone {
        ui.horizontal(|ui| {
            ui.label("Microphone level");
            match view.mic_level {
                Some(level) => {
                    ui.add(egui::ProgressBar::new(meter_fraction(level)).desired_width(200.0));
                }
                None => {
                    ui.label("opening…");
                }
            }
        });
    }
    if let Some(problem) = view.problem {
        ui.colored_label(
            ui.visuals().warn_fg_color,
            format!("No usable sound device: {problem}"),
        );
    }
    actions
}

/// -60 dBFS and below reads as empty, full scale as full.
pub fn meter_fraction(level: f32) -> f32 {
    ((level + 60.0) / 60.0).clamp(0.0, 1.0)
}

/// A device picker; `Some(choice)` when the user picked another.
fn pick(
    ui: &mut egui::Ui,
    label: &str,
    devices: &[&DeviceInfo],
    current: &Option<String>,
    default: &str,
) -> Option<Option<String>> {
    let name_of = |id: &str| {
        devices
            .iter()
            .find(|d| d.id == id)
            .map_or_else(|| format!("{id} (not present)"), |d| d.name.clone())
    };
    let shown = current
        .as_deref()
        .map_or_else(|| default.to_owned(), name_of);
    let mut selected = current.clone();
    let label = ui.label(label);
    egui::ComboBox::from_id_salt(label.id)
        .selected_text(shown)
        .width(320.0)
        .show_ui(ui, |ui| {
            ui.selectable_value(&mut selected, None, default);
            for device in devices {
                ui.selectable_value(&mut selected, Some(device.id.clone()), &device.name)
                    .on_hover_text(&device.id);
            }
        })
        .response
        .labelled_by(label.id);
    (selected != *current).then_some(selected)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn device(id: &str) -> DeviceInfo {
        DeviceInfo {
            id: id.into(),
            name: id.into(),
            input: true,
            output: true,
        }
    }

    /// A list that grows by one device per read: a device plugged in.
    fn growing() -> Vec<DeviceInfo> {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static READS: AtomicUsize = AtomicUsize::new(0);
        let reads = READS.fetch_add(1, Ordering::SeqCst);
        let mut list = vec![device("alsa:null"), device("alsa:pulse")];
        if reads > 0 {
            list.push(device("alsa:hw:CARD=USB,DEV=0"));
        }
        list
    }

    #[test]
    fn the_list_is_read_off_the_ui_thread_and_reported_when_it_changes() {
        let (events, received) = mpsc::channel();
        let watch = DeviceWatch::start(growing, EventSender::detached(events));
        let patience = Duration::from_secs(10);
        let ids = |event: Event| match event {
            Event::Devices(list) => list.into_iter().map(|d| d.id).collect::<Vec<_>>(),
            other => panic!("not a device list: {other:?}"),
        };
        // At start: the null device is left out.
        let first = ids(received.recv_timeout(patience).expect("a first list"));
        assert_eq!(first, ["alsa:pulse"]);
        // Read again (by itself, or now when the settings open): it has grown.
        watch.refresh();
        let second = ids(received.recv_timeout(patience).expect("a new list"));
        assert_eq!(second, ["alsa:pulse", "alsa:hw:CARD=USB,DEV=0"]);
        // Unchanged lists are not reported.
        watch.refresh();
        watch.refresh();
        drop(watch);
        assert!(received.recv_timeout(patience).is_err(), "no more lists");
    }

    #[test]
    fn a_chosen_device_that_goes_gives_way_to_the_default_until_it_is_back() {
        let headset = DeviceInfo {
            name: "USB Headset".into(),
            ..device("alsa:hw:CARD=USB,DEV=0")
        };
        let pulse = device("alsa:pulse");
        let preferred = AudioChoice {
            input: Some(headset.id.clone()),
            ringer: Some(headset.id.clone()),
            ..AudioChoice::default()
        };
        let with = [pulse.clone(), headset.clone()];
        let without = [pulse];
        // Plugged in and in use: nothing to do.
        assert!(follow_devices(&preferred, &preferred, &with, &with).is_empty());
        // Unplugged: the microphone falls back to the default, the ringing
        // to the speaker; the speaker was the default all along.
        let gone = follow_devices(&preferred, &preferred, &with, &without);
        let whys: Vec<&str> = gone.iter().map(|change| change.why.as_str()).collect();
        assert_eq!(
            whys,
            [
                "The microphone \"USB Headset\" has gone: using the system default.",
                "The ringing device \"USB Headset\" has gone: using the speaker.",
            ]
        );
        assert!(gone.iter().all(|change| change.device.is_none()));
        let roles: Vec<Role> = gone.iter().map(|change| change.role).collect();
        assert_eq!(roles, [Role::Microphone, Role::Ringing]);
        // Plugged in again: back to it.
        let fallen_back = AudioChoice::default();
        let back = follow_devices(&preferred, &fallen_back, &without, &with);
        assert_eq!(back.len(), 2);
        assert_eq!(back[0].device.as_deref(), Some("alsa:hw:CARD=USB,DEV=0"));
        assert_eq!(back[0].why, "The microphone \"USB Headset\" is back.");
        // An output-only device does not serve as a microphone.
        let speaker_only = DeviceInfo {
            input: false,
            ..headset
        };
        let changes = follow_devices(&preferred, &preferred, &with, &[speaker_only]);
        assert_eq!(changes.len(), 1);
        assert_eq!(changes[0].role, Role::Microphone);
    }
}
