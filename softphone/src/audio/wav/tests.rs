use std::path::Path;
use std::time::{Duration, Instant};

use super::*;
use crate::audio::tone::{dominant_frequency, loud_span, sine};
use crate::audio::{AudioEvent, AudioStreams, PLAY_START_LIMIT, PlayStart};

/// A scratch directory removed when the test ends.
use tempfile::TempDir;

/// A temporary directory for `tag`, removed on drop.
fn temp_dir(tag: &str) -> TempDir {
    tempfile::Builder::new()
        .prefix(&format!("softphone-wav-{tag}-"))
        .tempdir()
        .expect("create a temporary directory")
}

fn write_wav(path: &Path, rate: u32, channels: u16, samples: &[i16]) {
    let spec = hound::WavSpec {
        channels,
        sample_rate: rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut writer = hound::WavWriter::create(path, spec).expect("create");
    for &sample in samples {
        writer.write_sample(sample).expect("write");
    }
    writer.finalize().expect("finalize");
}

/// Reads `count` samples from the capture ring as the back end's clock
/// produces them (polling; the clock runs in real time).
fn capture(streams: &mut AudioStreams, count: usize) -> Vec<i16> {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut got = Vec::with_capacity(count);
    while got.len() < count {
        match streams.capture.pop() {
            Ok(sample) => got.push(sample),
            Err(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(5)),
            Err(_) => panic!("only {} of {count} samples captured", got.len()),
        }
    }
    got
}

fn wait_for(streams: &mut AudioStreams, wanted: &AudioEvent) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        match streams.events.try_recv() {
            Ok(event) if &event == wanted => return,
            Ok(_) => {}
            Err(_) => std::thread::sleep(Duration::from_millis(5)),
        }
    }
    panic!("no {wanted:?}");
}

#[test]
fn play_sends_the_file_in_order_in_real_time_then_silence() {
    let dir = temp_dir("wav-play");
    let path = dir.path().join("play.wav");
    let ramp: Vec<i16> = (1..=1000).map(|n| n * 7 - 3500).collect();
    write_wav(&path, 8000, 1, &ramp);
    let mut backend = WavBackend::playing(path);
    let started = Instant::now();
    let mut streams = backend.start(AudioConfig::for_rate(8000)).expect("start");
    let got = capture(&mut streams, 1280);
    // 1000 samples fill 7 frames of 160 (the last one padded), then silence.
    assert_eq!(&got[..1000], &ramp[..]);
    assert!(got[1000..].iter().all(|&s| s == 0));
    wait_for(&mut streams, &AudioEvent::PlaybackFinished);
    // 8 frames of 20 ms: not faster than a sound card (a lower bound only).
    assert!(started.elapsed() >= Duration::from_millis(150));
    streams.guard.stop().expect("stop");
}

/// Samples captured until the first non-zero one, polling.
fn silence_before_sound(streams: &mut AudioStreams) -> usize {
    let mut silent = 0;
    loop {
        match capture(streams, 1)[0] {
            0 => silent += 1,
            _ => return silent,
        }
    }
}

#[test]
fn a_file_played_when_heard_starts_once_the_other_side_is_heard() {
    let dir = temp_dir("wav-when-heard");
    let path = dir.path().join("play.wav");
    let ramp: Vec<i16> = (1..=320).map(|n| n * 7 + 1).collect();
    write_wav(&path, 8000, 1, &ramp);
    let mut backend = WavBackend::playing(path);
    let config = AudioConfig {
        play_start: PlayStart::WhenHeard,
        ..AudioConfig::for_rate(8000)
    };
    let mut streams = backend.start(config).expect("start");
    // Silence while nothing is heard: three frames' worth.
    assert!(capture(&mut streams, 480).iter().all(|&s| s == 0));
    streams.controls.set_far_end_heard();
    // Then the file from its first sample, whole, at the next tick.
    let silent = silence_before_sound(&mut streams);
    assert!(
        silent.is_multiple_of(160) && silent <= 320,
        "{silent} samples"
    );
    let rest = capture(&mut streams, 319);
    assert_eq!(rest[..], ramp[1..]);
    streams.guard.stop().expect("stop");
}

#[test]
fn a_file_played_when_heard_starts_after_the_limit_when_nothing_is_heard() {
    let dir = temp_dir("wav-when-unheard");
    let path = dir.path().join("play.wav");
    write_wav(&path, 8000, 1, &[1000; 160]);
    let mut backend = WavBackend::playing(path);
    let config = AudioConfig {
        play_start: PlayStart::WhenHeard,
        ..AudioConfig::for_rate(8000)
    };
    let started = Instant::now();
    let mut streams = backend.start(config).expect("start");
    let silent = silence_before_sound(&mut streams);
    // Whole frames of silence, then the file, not before the limit (a
    // lower bound only: a busy machine may tick later).
    assert!(silent > 0 && silent.is_multiple_of(160), "{silent} samples");
    assert!(started.elapsed() >= PLAY_START_LIMIT);
    assert_eq!(capture(&mut streams, 159), [1000; 159]);
    streams.guard.stop().expect("stop");
}

#[test]
fn record_writes_what_is_heard_at_the_codec_rate() {
    let dir = temp_dir("wav-record");
    let path = dir.path().join("heard.wav");
    let mut backend = WavBackend::recording(path.clone());
    let mut streams = backend.start(AudioConfig::for_rate(16000)).expect("start");
    streams.controls.set_volume(50);
    let signal: Vec<i16> = (1..=1280).map(|n| n * 2).collect();
    // One atomic write, so the clock never sees half of it.
    let chunk = streams
        .playback
        .write_chunk_uninit(signal.len())
        .expect("room");
    chunk.fill_from_iter(signal.iter().copied());
    let deadline = Instant::now() + Duration::from_secs(10);
    while streams.playback.slots() < 3200 {
        assert!(Instant::now() < deadline, "playback ring not drained");
        std::thread::sleep(Duration::from_millis(5));
    }
    streams.guard.stop().expect("stop finalises the file");

    let mut reader = hound::WavReader::open(&path).expect("recorded file");
    assert_eq!(reader.spec().sample_rate, 16000);
    assert_eq!(reader.spec().channels, 1);
    let heard: Vec<i16> = reader
        .samples::<i16>()
        .map(|s| s.expect("sample"))
        .collect();
    let halved: Vec<i16> = (1..=1280).collect();
    assert_eq!(loud_span(&heard, 0), &halved[..]);
}

#[test]
fn files_at_other_rates_and_layouts_keep_their_pitch() {
    let dir = temp_dir("wav-rates");
    let stereo_path = dir.path().join("stereo-44k1.wav");
    let tone = sine(44100, 1000.0, 12000.0, 22050);
    let stereo: Vec<i16> = tone.iter().flat_map(|&s| [s, s]).collect();
    write_wav(&stereo_path, 44100, 2, &stereo);
    let float_path = dir.path().join("float-48k.wav");
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 48000,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    };
    let mut writer = hound::WavWriter::create(&float_path, spec).expect("create");
    for sample in sine(48000, 1000.0, 12000.0, 24000) {
        writer
            .write_sample(f32::from(sample) / 32768.0)
            .expect("write");
    }
    writer.finalize().expect("finalize");

    for (path, rate) in [(stereo_path, 8000), (float_path, 16000)] {
        let mut backend = WavBackend::playing(path.clone());
        let mut streams = backend.start(AudioConfig::for_rate(rate)).expect("start");
        let half_second = rate as usize / 2;
        let got = capture(&mut streams, half_second);
        let hz =
            dominant_frequency(&got[half_second / 10..half_second * 9 / 10], rate).expect("tone");
        assert!((hz - 1000.0).abs() < 1.0, "{}: {hz} Hz", path.display());
    }
}

#[test]
fn null_backend_is_silence_in_real_time_and_has_no_devices() {
    let mut streams = NullBackend
        .start(AudioConfig::for_rate(8000))
        .expect("start");
    let _ = streams.playback.push(1234);
    for _ in 0..160 {
        let _ = streams.playback.push(1);
    }
    assert!(capture(&mut streams, 320).iter().all(|&s| s == 0));
    assert_eq!(
        streams.playback.slots(),
        1600,
        "null discards what it is sent"
    );
    assert!(matches!(
        streams.guard.switch_input(None),
        Err(AudioError::NotSwitchable)
    ));
    assert_eq!(
        streams.controls.mic_level_dbfs(),
        crate::audio::METER_FLOOR_DBFS
    );
}

#[test]
fn unusable_files_and_configurations_are_errors() {
    let dir = temp_dir("wav-errors");
    let mut missing = WavBackend::playing(dir.path().join("missing.wav"));
    let error = missing
        .start(AudioConfig::for_rate(8000))
        .expect_err("no such file");
    assert!(matches!(error, AudioError::Wav { .. }), "{error}");
    let mut nowhere = WavBackend::recording(dir.path().join("no/such/dir/out.wav"));
    assert!(nowhere.start(AudioConfig::for_rate(8000)).is_err());
    let error = NullBackend
        .start(AudioConfig {
            frame: 0,
            ..AudioConfig::for_rate(8000)
        })
        .expect_err("empty frame");
    assert!(matches!(error, AudioError::InvalidConfig { .. }));
}
