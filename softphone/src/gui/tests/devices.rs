//! The app's sounds and a call's audio through real sound devices: a
//! private PulseAudio daemon with null sinks, each also an ALSA device the
//! app lists and picks like a headset (`tests/support/pulse.rs`), and
//! `parec` recording what each sink plays from its monitor.

use std::sync::mpsc;
use std::time::{Duration, Instant};

use super::pulse::{self, Daemon, MONITOR_RATE, Recorder};
use egui_kittest::kittest::Queryable;
use shared::hfa::stimulus::{
    Cadence, RingerSound, RingerVolume, StartRinger, StartTone, ToneCadence, ToneFlags,
};
use shared::hfa::{Message, Stimulus};

use super::{ANNA, Office, PATIENCE, open_audio_settings, shows, until};
use crate::audio::sounder::{Pattern, Player, Volume};
use crate::audio::tone::{dominant_frequency, loud_span};
use crate::audio::{CpalOneWay, Direction};
use crate::gui::engine::{AudioChoice, Event, EventSender};
use crate::gui::sound::Sounds;

/// A child run needs about 10 s; this only bounds a hang.
const CHILD_TIMEOUT: Duration = Duration::from_secs(120);
/// Louder than this is sound; a null sink's silence is all zeros.
const LOUD: u16 = 500;

#[test]
fn ringer_tones_and_meter_on_real_devices() {
    if pulse::available("ringer_tones_and_meter_on_real_devices") {
        pulse::run_child("gui::tests::devices::sounds_child", CHILD_TIMEOUT);
    }
}

#[test]
fn a_call_moves_to_the_speaker_chosen_during_it() {
    if pulse::available("a_call_moves_to_the_speaker_chosen_during_it") {
        pulse::run_child("gui::tests::devices::call_move_child", CHILD_TIMEOUT);
    }
}

/// Collects from `recorder` until `seconds` of sound (above [`LOUD`])
/// have come; fails after [`PATIENCE`] with `what`.
fn record_sound(recorder: &Recorder, seconds: f64, what: &str) -> Vec<i16> {
    let wanted = (seconds * f64::from(MONITOR_RATE)) as usize;
    let deadline = Instant::now() + PATIENCE;
    let mut heard = Vec::new();
    loop {
        heard.extend(recorder.take());
        let loud = loud_span(&heard, LOUD);
        if loud.len() >= wanted {
            return loud.to_vec();
        }
        assert!(
            Instant::now() < deadline,
            "{what}: {} of {wanted} samples of sound",
            loud.len()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Collects `seconds` of whatever `recorder` records.
fn record(recorder: &Recorder, seconds: f64) -> Vec<i16> {
    let wanted = (seconds * f64::from(MONITOR_RATE)) as usize;
    let deadline = Instant::now() + PATIENCE;
    let mut heard = recorder.take();
    while heard.len() < wanted {
        assert!(Instant::now() < deadline, "parec stalled");
        std::thread::sleep(Duration::from_millis(20));
        heard.extend(recorder.take());
    }
    heard
}

/// Records in 0.1 s pieces until one is quieter than `level` (RMS):
/// what was queued before a change has played out.
fn until_quieter(recorder: &Recorder, level: f64, what: &str) {
    let deadline = Instant::now() + PATIENCE;
    while rms(&record(recorder, 0.1)) >= level {
        assert!(
            Instant::now() < deadline,
            "{what}: never quieter than {level}"
        );
    }
}

fn rms(samples: &[i16]) -> f64 {
    let sum: f64 = samples.iter().map(|&s| f64::from(s) * f64::from(s)).sum();
    (sum / samples.len().max(1) as f64).sqrt()
}

fn peak(samples: &[i16]) -> i16 {
    samples
        .iter()
        .map(|s| s.saturating_abs())
        .max()
        .unwrap_or(0)
}

fn ringer() -> Message {
    Message::Stimulus(Stimulus::StartRinger(StartRinger {
        volume: RingerVolume::ring(5).expect("volume"),
        sound: RingerSound::ring(1).expect("sound"),
        cadence: Cadence {
            pulse: 20,
            pause: 0,
        },
        second: None,
    }))
}

/// A continuous 420 Hz tone.
fn tone() -> Message {
    Message::Stimulus(Stimulus::StartTone(StartTone {
        flags: ToneFlags::from(0x20),
        frequencies: [7, 0, 0],
        cadence: ToneCadence::Single(Cadence {
            pulse: 40,
            pause: 0,
        }),
    }))
}

#[test]
#[ignore = "the child half of ringer_tones_and_meter_on_real_devices, which runs it"]
fn sounds_child() {
    let Some(dir) = pulse::child_dir() else {
        return;
    };
    let _daemon = Daemon::start(&dir, &["speaker", "ringer", "mic"], "mic.monitor");
    let speaker = Recorder::start("speaker.monitor");
    let ringing = Recorder::start("ringer.monitor");
    let (events, problems) = mpsc::channel();
    let mut sounds = Sounds::new(true, 100, EventSender::detached(events));
    let choice = AudioChoice {
        devices: true,
        ringer: Some("ringer".into()),
        ..AudioChoice::default()
    };

    // The gateway rings: the ringing device sounds, the speaker stays silent.
    sounds.message(&ringer(), &choice);
    let rung = record_sound(&ringing, 0.5, "the ringer on the ringing device");
    // The 800 and 1000 Hz chord crosses zero at their mean.
    let hz = dominant_frequency(&rung, MONITOR_RATE).expect("a chord");
    assert!((hz - 900.0).abs() < 10.0, "{hz} Hz");
    assert_eq!(peak(&speaker.take()), 0, "the ringer on the speaker");
    sounds.message(&Message::Stimulus(Stimulus::StopRinger), &choice);
    until_quieter(&ringing, 1.0, "the ringer after it stopped");

    // A tone on the speaker, at full volume, then at a quarter while it
    // plays: the level follows the slider.
    sounds.message(&tone(), &choice);
    let full = record_sound(&speaker, 0.5, "the tone at full volume");
    let hz = dominant_frequency(&full, MONITOR_RATE).expect("a tone");
    assert!((hz - 420.0).abs() < 3.0, "{hz} Hz");
    sounds.set_volume(25);
    until_quieter(&speaker, rms(&full) / 2.0, "the tone at a quarter");
    let quarter = record(&speaker, 0.5);
    let ratio = rms(&quarter) / rms(&full);
    assert!(
        (ratio - 0.25).abs() < 0.03,
        "a quarter of the volume: {ratio}"
    );
    sounds.message(&Message::Stimulus(Stimulus::StopTone), &choice);
    assert_eq!(peak(&ringing.take()), 0, "the tone on the ringing device");

    // The microphone test meters the default source, the "mic" sink's
    // monitor: it rises while a tone plays into that sink.
    sounds.test_microphone(true, &choice);
    let deadline = Instant::now() + PATIENCE;
    while sounds.microphone_level().is_none() {
        assert!(Instant::now() < deadline, "the microphone did not open");
        std::thread::sleep(Duration::from_millis(20));
    }
    let level = sounds.microphone_level().expect("open");
    assert!(level < -60.0, "silence metered at {level} dBFS");
    let into_mic = Player::start(
        Box::new(CpalOneWay {
            which: Direction::Playback,
            device: Some("mic".into()),
        }),
        Pattern {
            length: None,
            ..Pattern::test_tone()
        },
        Volume::new(100),
        |error| panic!("cannot play into the mic sink: {error}"),
    )
    .expect("started");
    let deadline = Instant::now() + PATIENCE;
    loop {
        let level = sounds.microphone_level().expect("open");
        if level > -20.0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the meter stayed at {level} dBFS"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    drop(into_mic);
    sounds.test_microphone(false, &choice);
    assert!(
        problems.try_recv().is_err(),
        "every device opened: {:?}",
        problems.try_iter().collect::<Vec<Event>>()
    );
}

#[test]
#[ignore = "the child half of a_call_moves_to_the_speaker_chosen_during_it, which runs it"]
fn call_move_child() {
    let Some(dir) = pulse::child_dir() else {
        return;
    };
    let _daemon = Daemon::start(&dir, &["speaker", "headset", "mic"], "mic.monitor");
    // The microphone hears a 440 Hz tone; the echo test sends it back.
    let _talking = Player::start(
        Box::new(CpalOneWay {
            which: Direction::Playback,
            device: Some("mic".into()),
        }),
        Pattern {
            length: None,
            ..Pattern::test_tone()
        },
        Volume::new(100),
        |error| panic!("cannot play into the mic sink: {error}"),
    )
    .expect("started");
    let speaker = Recorder::start("speaker.monitor");
    let headset = Recorder::start("headset.monitor");

    let office = Office::start();
    let profile = office.saved_profile(ANNA.1);
    let mut harness = office.app_with(profile.clone(), true, crate::audio::list_devices);
    until(&mut harness, "registration", |h| {
        shows(h, "Registered as 201")
    });
    for key in ["*", "9", "8"] {
        harness.get_by_label(key).click();
        harness.run_steps(1);
    }
    until(&mut harness, "the echo test to connect", |h| {
        shows(h, "Connected") && h.state().model().media().is_some()
    });
    let echo = record_sound(&speaker, 0.5, "the echo on the speaker");
    let hz = dominant_frequency(&echo, MONITOR_RATE).expect("a tone");
    assert!((hz - 440.0).abs() < 5.0, "{hz} Hz");
    assert_eq!(peak(&headset.take()), 0, "the call on the headset");

    // The headset is chosen as the speaker during the call: the call moves.
    open_audio_settings(&mut harness);
    harness.get_by_label("Speaker").click();
    until(&mut harness, "the headset in the list", |h| {
        shows(h, "headset sink")
    });
    // The list is long (ALSA's plugins): the headset may be scrolled out
    // of sight, so it is clicked the way a screen reader does.
    harness.get_by_label("headset sink").click_accesskit();
    harness.run_steps(2);
    assert_eq!(
        harness.state().audio_choice().output.as_deref(),
        Some("alsa:headset")
    );
    let moved = record_sound(&headset, 0.5, "the echo on the headset");
    let hz = dominant_frequency(&moved, MONITOR_RATE).expect("a tone");
    assert!((hz - 440.0).abs() < 5.0, "{hz} Hz");
    until_quieter(&speaker, 1.0, "the speaker after the move");
    assert_eq!(
        peak(&record(&speaker, 0.5)),
        0,
        "the speaker after the move"
    );
    let settings = profile.load().expect("saved");
    assert_eq!(settings.output_device.as_deref(), Some("alsa:headset"));
    harness.get_by_label("Hang up").click();
    harness.run_steps(2);
}
