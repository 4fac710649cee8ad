//! Audio through real sound devices on a machine without a sound card: a
//! private PulseAudio daemon with a null sink, `CpalBackend` playing a
//! 1 kHz tone into it (through the ALSA `pulse` device) and capturing the
//! sink's monitor, and `parec` recording the monitor independently. Both
//! recordings must show the tone at 1000 Hz. Then the daemon dies mid-call:
//! the back end must report both devices lost and keep the rings running
//! on silence, and after a new daemon starts, switching devices brings the
//! tone back.
//!
//! The daemon and the child run: `support/pulse.rs`.

#[path = "support/child_run.rs"]
mod child_run;
#[path = "support/pulse.rs"]
mod pulse;

use std::time::{Duration, Instant};

use pulse::{Daemon, MONITOR_RATE, Recorder};
use softphone::audio::tone::{dominant_frequency, loud_span, sine};
use softphone::audio::{
    AudioBackend, AudioConfig, AudioError, AudioEvent, AudioStreams, CpalBackend, Direction,
    list_devices,
};

const CODEC_RATE: u32 = 8000;
const SINK: &str = "test_sink";
const MONITOR: &str = "test_sink.monitor";

#[test]
fn tone_through_a_pulseaudio_null_sink() {
    if pulse::available("tone_through_a_pulseaudio_null_sink") {
        // The child needs about 11 s; this only bounds a hang.
        pulse::run_child("pulse_child", Duration::from_secs(120));
    }
}

#[test]
#[ignore = "the child half of tone_through_a_pulseaudio_null_sink, which runs it"]
fn pulse_child() {
    let Some(dir) = pulse::child_dir() else {
        eprintln!("run by tone_through_a_pulseaudio_null_sink, with PULSE_SERVER set");
        return;
    };
    let _ = tracing_subscriber::fmt()
        .with_env_filter("softphone=debug")
        .with_ansi(false)
        .try_init();
    let mut daemon = Daemon::start(&dir, &[SINK], MONITOR);
    let monitor = Recorder::start(MONITOR);
    let mut backend = CpalBackend {
        input: Some("pulse".into()),
        output: Some("pulse".into()),
    };
    let mut streams = backend
        .start(AudioConfig::for_rate(CODEC_RATE))
        .expect("open pulse");

    let heard = exchange_tone(&mut streams, Duration::from_millis(1500));
    assert_tone("cpal capture of the monitor", &heard, CODEC_RATE);
    assert_tone(
        "parec recording of the monitor",
        &monitor.take(),
        MONITOR_RATE,
    );

    let devices = list_devices();
    let pulse = devices.iter().find(|device| device.id == "alsa:pulse");
    assert!(
        pulse.is_some_and(|pulse| pulse.input && pulse.output),
        "{devices:#?}"
    );
    // An unknown device is refused and leaves the current one running (the
    // loss below is only reported for a device still open).
    let error = streams
        .guard
        .switch_output(Some("no such device"))
        .expect_err("unknown device");
    assert!(
        matches!(error, AudioError::DeviceNotFound { .. }),
        "{error}"
    );

    daemon.kill();
    drop(monitor);
    let lost = wait_for_losses(&mut streams);
    eprintln!("lost: {lost:?}");
    // The call goes on: silence keeps coming in, and what is sent is drained.
    let _ = drain(&mut streams.capture);
    let silence = exchange_tone(&mut streams, Duration::from_millis(300));
    assert!(
        silence.len() >= 1600,
        "capture stalled after the loss: {}",
        silence.len()
    );
    assert!(silence.iter().all(|&s| s == 0));
    assert!(
        streams.playback.slots() > 1200,
        "playback not drained after the loss"
    );

    let _daemon = Daemon::start(&dir, &[SINK], MONITOR);
    let _monitor = Recorder::start(MONITOR);
    streams
        .guard
        .switch_output(Some("pulse"))
        .expect("switch output");
    streams
        .guard
        .switch_input(Some("pulse"))
        .expect("switch input");
    let heard = exchange_tone(&mut streams, Duration::from_millis(1000));
    assert_tone("cpal capture after switching", &heard, CODEC_RATE);
    streams.guard.stop().expect("stop");
}

/// Sends a 1 kHz tone into the playback ring for `length` (the ring's room
/// paces it), then half a second of nothing; returns everything captured.
fn exchange_tone(streams: &mut AudioStreams, length: Duration) -> Vec<i16> {
    let tone = sine(
        CODEC_RATE,
        1000.0,
        12000.0,
        (length.as_secs_f64() * 8000.0) as usize,
    );
    let end = Instant::now() + length + Duration::from_millis(500);
    let (mut sent, mut heard) = (0, Vec::new());
    while Instant::now() < end {
        while sent < tone.len() && streams.playback.push(tone[sent]).is_ok() {
            sent += 1;
        }
        heard.extend(drain(&mut streams.capture));
        std::thread::sleep(Duration::from_millis(5));
    }
    heard
}

fn drain(ring: &mut rtrb::Consumer<i16>) -> Vec<i16> {
    std::iter::from_fn(|| ring.pop().ok()).collect()
}

fn assert_tone(what: &str, recording: &[i16], rate: u32) {
    let sound = loud_span(recording, 1000);
    assert!(
        sound.len() > rate as usize / 2,
        "{what}: {} of {} samples loud",
        sound.len(),
        recording.len()
    );
    let steady = &sound[sound.len() / 10..sound.len() * 9 / 10];
    let hz = dominant_frequency(steady, rate).expect("a tone");
    eprintln!("{what}: {hz:.2} Hz over {} samples", steady.len());
    assert!((hz - 1000.0).abs() < 3.0, "{what}: {hz} Hz");
}

fn wait_for_losses(streams: &mut AudioStreams) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(15);
    let (mut input, mut output) = (None, None);
    while input.is_none() || output.is_none() {
        assert!(
            Instant::now() < deadline,
            "losses reported: {input:?} {output:?}"
        );
        match streams.events.try_recv() {
            Ok(AudioEvent::DeviceLost {
                which: Direction::Capture,
                why,
            }) => input = Some(why),
            Ok(AudioEvent::DeviceLost {
                which: Direction::Playback,
                why,
            }) => output = Some(why),
            Ok(_) => {}
            Err(_) => {
                let _ = drain(&mut streams.capture);
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }
    input.into_iter().chain(output).collect()
}
