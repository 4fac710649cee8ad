//! Sounds the phone makes by itself, not from the call's media: the
//! ringer, the call-progress tones the gateway orders with Start Tone
//! (dial, ring-back, busy), and the test tone of the audio settings.
//!
//! A [`Pattern`] (frequencies and an on/off cadence) is generated into the
//! playback ring of any [`AudioBackend`] by a [`Player`] thread:
//!
//! ```text
//! Player::start(backend, pattern, volume, on_error)
//!                                             -> thread: backend.start() (opens the device)
//!     every 20 ms: keep ~60 ms of the pattern queued in streams.playback,
//!                  at the volume the user sets now (the device's controls)
//! drop(player)                                -> the thread stops, the device closes
//! ```

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use shared::hfa::stimulus::{
    RINGER_CADENCE_UNIT_MS, StartRinger, StartTone, TONE_CADENCE_UNIT_MS, TONE_FREQUENCY_UNIT_HZ,
    ToneCadence,
};

use super::clock::Ticker;
use super::{AudioBackend, AudioConfig, AudioControls, AudioError};

/// The rate the sounds are generated at (the back end converts).
const RATE: u32 = 16_000;

/// How much sound the player keeps queued ahead of the device.
const QUEUED_FRAMES: usize = 3;

/// A sound: the sum of `frequencies`, sounding and pausing in turn by
/// `cadence`, for `length` (or until stopped).
#[derive(Debug, Clone, PartialEq)]
pub struct Pattern {
    /// Hz; empty for silence.
    pub frequencies: Vec<f64>,
    /// (on, off) pairs in milliseconds, played in turn; an off of 0 with a
    /// single pair is a continuous tone.
    pub cadence: Vec<(u32, u32)>,
    /// Peak amplitude of the sum, at most 32767.
    pub amplitude: f64,
    /// Stop by itself after this long.
    pub length: Option<Duration>,
}

impl Pattern {
    /// A call-progress tone as the gateway orders it.
    pub fn tone(tone: &StartTone) -> Self {
        let frequencies = tone
            .frequencies
            .iter()
            .filter(|&&unit| unit != 0)
            .map(|&unit| f64::from(u32::from(unit) * TONE_FREQUENCY_UNIT_HZ))
            .collect();
        let ms = |units: u8| u32::from(units) * TONE_CADENCE_UNIT_MS;
        let cadence = match tone.cadence {
            ToneCadence::Single(pair) => vec![(ms(pair.pulse), ms(pair.pause))],
            ToneCadence::Triple(pairs) => pairs
                .iter()
                .map(|pair| (ms(pair.pulse), ms(pair.pause)))
                .collect(),
        };
        Self {
            frequencies,
            cadence,
            amplitude: 8000.0,
            length: None,
        }
    }

    /// The ringer: a two-note chord on the gateway's cadence.
    pub fn ringer(ringer: &StartRinger) -> Self {
        let ms = |units: u8| u32::from(units) * RINGER_CADENCE_UNIT_MS;
        let mut cadence = vec![(ms(ringer.cadence.pulse), ms(ringer.cadence.pause))];
        if let Some(second) = ringer.second {
            cadence.push((ms(second.pulse), ms(second.pause)));
        }
        Self {
            cadence,
            ..Self::ring_sound(None)
        }
    }

    /// The myPortal to go app's own ringer for an incoming call (the
    /// gateway sends no ringer stimulus to an app): one second on, two
    /// off, until the call is answered or gone.
    pub fn app_ringer() -> Self {
        Self {
            cadence: vec![(1000, 2000)],
            ..Self::ring_sound(None)
        }
    }

    /// Ringing as the audio settings try it out: one second on, one off,
    /// for four seconds.
    pub fn ring_test() -> Self {
        Self {
            cadence: vec![(1000, 1000)],
            ..Self::ring_sound(Some(Duration::from_secs(4)))
        }
    }

    fn ring_sound(length: Option<Duration>) -> Self {
        Self {
            frequencies: vec![800.0, 1000.0],
            cadence: vec![(1000, 0)],
            amplitude: 12000.0,
            length,
        }
    }

    /// The test tone of the audio settings: 440 Hz for two seconds.
    pub fn test_tone() -> Self {
        Self {
            frequencies: vec![440.0],
            cadence: vec![(1000, 0)],
            amplitude: 8000.0,
            length: Some(Duration::from_secs(2)),
        }
    }

    /// Nothing to hear (a microphone test on a one-way input).
    pub fn silence() -> Self {
        Self {
            frequencies: Vec::new(),
            cadence: vec![(1000, 0)],
            amplitude: 0.0,
            length: None,
        }
    }
}

/// Generates a [`Pattern`] at `rate`, sample after sample.
#[derive(Debug)]
pub struct Generator {
    steps: Vec<f64>,
    phases: Vec<f64>,
    /// On/off pairs in samples.
    cadence: Vec<(u64, u64)>,
    /// Where in the whole cadence the next sample is.
    position: u64,
    period: u64,
    amplitude: f64,
}

impl Generator {
    pub fn new(pattern: &Pattern, rate: u32) -> Self {
        let samples = |ms: u32| u64::from(ms) * u64::from(rate) / 1000;
        let cadence: Vec<(u64, u64)> = pattern
            .cadence
            .iter()
            .map(|&(on, off)| (samples(on), samples(off)))
            .filter(|&(on, off)| on + off > 0)
            .collect();
        let period = cadence.iter().map(|(on, off)| on + off).sum();
        let count = pattern.frequencies.len().max(1) as f64;
        Self {
            steps: pattern
                .frequencies
                .iter()
                .map(|hz| std::f64::consts::TAU * hz / f64::from(rate))
                .collect(),
            phases: vec![0.0; pattern.frequencies.len()],
            cadence,
            position: 0,
            period,
            amplitude: pattern.amplitude.min(32767.0) / count,
        }
    }

    /// Whether the sample at `position` sounds.
    fn sounding(&self) -> bool {
        if self.period == 0 {
            return false;
        }
        let mut at = self.position % self.period;
        for &(on, off) in &self.cadence {
            if at < on {
                return true;
            }
            if at < on + off {
                return false;
            }
            at -= on + off;
        }
        false
    }

    /// The next `out.len()` samples.
    pub fn fill(&mut self, out: &mut [i16]) {
        for sample in out {
            let sounding = self.sounding();
            let mut sum = 0.0;
            for (phase, step) in self.phases.iter_mut().zip(&self.steps) {
                if sounding {
                    sum += phase.sin();
                }
                *phase = (*phase + step) % std::f64::consts::TAU;
            }
            *sample = (sum * self.amplitude).round() as i16;
            self.position += 1;
        }
    }
}

/// The speaker volume the sounds play at, in percent: shared by the
/// players, and followed by a sound already playing when the user moves
/// the slider.
#[derive(Debug, Clone)]
pub struct Volume(Arc<AtomicU8>);

impl Volume {
    pub fn new(percent: u8) -> Self {
        Self(Arc::new(AtomicU8::new(percent)))
    }

    pub fn set(&self, percent: u8) {
        self.0.store(percent, Ordering::Relaxed);
    }

    fn get(&self) -> u8 {
        self.0.load(Ordering::Relaxed)
    }
}

/// A sound playing on its own thread; dropping it stops the sound and
/// closes the device (without waiting for it to close).
#[derive(Debug)]
pub struct Player {
    stop: mpsc::Sender<()>,
    controls: Arc<OnceLock<Arc<AudioControls>>>,
    #[cfg(test)]
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Player {
    /// Plays `pattern` at `volume` through `backend`, opened on the
    /// player's thread so the caller never waits for a device. `on_error`
    /// hears why the device could not open.
    pub fn start(
        mut backend: Box<dyn AudioBackend>,
        pattern: Pattern,
        volume: Volume,
        on_error: impl FnOnce(AudioError) + Send + 'static,
    ) -> Result<Self, AudioError> {
        let (stop, stopped) = mpsc::channel();
        let controls = Arc::new(OnceLock::new());
        let shared = Arc::clone(&controls);
        let _thread = std::thread::Builder::new()
            .name("audio-sound".into())
            .spawn(move || {
                let config = AudioConfig::for_rate(RATE);
                match backend.start(config) {
                    Ok(streams) => {
                        let _ = shared.set(Arc::clone(&streams.controls));
                        play(streams, config, &pattern, &volume, &stopped);
                    }
                    Err(error) => on_error(error),
                }
            })?;
        Ok(Self {
            stop,
            controls,
            #[cfg(test)]
            thread: Some(_thread),
        })
    }

    /// The controls of the open device (its microphone level meter), once
    /// it is open.
    pub fn controls(&self) -> Option<Arc<AudioControls>> {
        self.controls.get().cloned()
    }

    /// Waits until a pattern with a length has played out.
    #[cfg(test)]
    pub fn wait(mut self) {
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Player {
    fn drop(&mut self) {
        let _ = self.stop.send(());
    }
}

fn play(
    mut streams: super::AudioStreams,
    config: AudioConfig,
    pattern: &Pattern,
    volume: &Volume,
    stopped: &mpsc::Receiver<()>,
) {
    let mut generator = Generator::new(pattern, config.rate);
    let mut frame = vec![0; config.frame];
    let end = pattern.length.map(|length| Instant::now() + length);
    let capacity = streams.playback.buffer().capacity();
    let mut ticker = Ticker::start();
    // Until stopped (a message, or the player dropped).
    while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(ticker.remaining()) {
        if end.is_some_and(|end| Instant::now() >= end) {
            break;
        }
        streams.controls.set_volume(volume.get());
        // Nobody reads the microphone here: keep its ring from filling.
        let ready = streams.capture.slots();
        if let Ok(chunk) = streams.capture.read_chunk(ready) {
            chunk.commit_all();
        }
        while capacity - streams.playback.slots() < QUEUED_FRAMES * config.frame
            && streams.playback.slots() >= config.frame
        {
            generator.fill(&mut frame);
            if let Ok(mut chunk) = streams.playback.write_chunk(config.frame) {
                let (first, second) = chunk.as_mut_slices();
                first.copy_from_slice(&frame[..first.len()]);
                second.copy_from_slice(&frame[first.len()..]);
                chunk.commit_all();
            }
        }
        ticker.advance();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audio::tone::{dominant_frequency, loud_span};
    use crate::audio::{NullBackend, WavBackend};
    use shared::hfa::stimulus::{Cadence, ToneFlags};

    #[test]
    fn a_busy_tone_sounds_on_its_cadence_at_its_frequency() {
        let tone = StartTone {
            flags: ToneFlags::from(0x20),
            frequencies: [7, 0, 0], // 7 x 60 = 420 Hz
            cadence: ToneCadence::Single(Cadence {
                pulse: 20,
                pause: 20,
            }), // 500 ms on, 500 off
        };
        let pattern = Pattern::tone(&tone);
        assert_eq!(pattern.frequencies, vec![420.0]);
        assert_eq!(pattern.cadence, vec![(500, 500)]);
        let mut generator = Generator::new(&pattern, 8000);
        let mut samples = vec![0; 8000];
        generator.fill(&mut samples);
        let on = &samples[..4000];
        let off = &samples[4000..];
        assert!(off.iter().all(|&s| s == 0), "silent in the pause");
        assert_eq!(loud_span(on, 100).len(), on.len() - 1);
        let hz = dominant_frequency(on, 8000).expect("a tone");
        assert!((hz - 420.0).abs() < 0.5, "{hz}");
    }

    #[test]
    fn the_apps_ringer_rings_a_second_in_three_until_stopped() {
        let pattern = Pattern::app_ringer();
        assert_eq!(pattern.length, None, "until the call is answered or gone");
        let mut generator = Generator::new(&pattern, 8000);
        let mut samples = vec![0; 8000 * 6];
        generator.fill(&mut samples);
        let ringing: Vec<bool> = samples
            .chunks(8000)
            .map(|second| second.iter().any(|s| s.unsigned_abs() > 1000))
            .collect();
        assert_eq!(ringing, [true, false, false, true, false, false]);
    }

    #[test]
    fn a_continuous_tone_never_pauses() {
        let mut generator = Generator::new(&Pattern::test_tone(), 8000);
        let mut samples = vec![0; 16000];
        generator.fill(&mut samples);
        assert!(
            samples
                .chunks(80)
                .all(|c| c.iter().any(|s| s.unsigned_abs() > 1000))
        );
    }

    #[test]
    fn the_test_tone_reaches_the_back_end_and_ends_by_itself() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("heard.wav");
        let backend = WavBackend::recording(path.clone());
        let pattern = Pattern {
            length: Some(Duration::from_millis(400)),
            ..Pattern::test_tone()
        };
        let player = Player::start(Box::new(backend), pattern, Volume::new(100), |error| {
            panic!("the WAV back end failed: {error}")
        })
        .expect("started");
        player.wait();
        let mut reader = hound::WavReader::open(&path).expect("recorded");
        let rate = reader.spec().sample_rate;
        let samples: Vec<i16> = reader.samples().map(|s| s.expect("sample")).collect();
        let heard = loud_span(&samples, 500);
        assert!(heard.len() > rate as usize / 5, "{} samples", heard.len());
        let hz = dominant_frequency(heard, rate).expect("a tone");
        assert!((hz - 440.0).abs() < 2.0, "{hz}");
        // Silence plays too, and stops when dropped.
        let quiet = Player::start(
            Box::new(NullBackend),
            Pattern::silence(),
            Volume::new(100),
            |error| panic!("the null back end failed: {error}"),
        )
        .expect("started");
        drop(quiet);
    }

    /// The peak of a test tone recorded at `percent`.
    fn recorded_peak(percent: u8) -> i16 {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("heard.wav");
        let backend = WavBackend::recording(path.clone());
        let pattern = Pattern {
            length: Some(Duration::from_millis(200)),
            ..Pattern::test_tone()
        };
        let player = Player::start(Box::new(backend), pattern, Volume::new(percent), |error| {
            panic!("the WAV back end failed: {error}")
        })
        .expect("started");
        player.wait();
        let mut reader = hound::WavReader::open(&path).expect("recorded");
        reader
            .samples::<i16>()
            .map(|s| s.expect("sample").saturating_abs())
            .max()
            .unwrap_or(0)
    }

    #[test]
    fn sounds_play_at_the_volume_set() {
        let full = f64::from(recorded_peak(100));
        let quarter = f64::from(recorded_peak(25));
        // The test tone peaks at 8000.
        assert!((full - 8000.0).abs() < 200.0, "{full}");
        assert!((quarter / full - 0.25).abs() < 0.02, "{quarter} of {full}");
        assert_eq!(recorded_peak(0), 0);
    }
}
