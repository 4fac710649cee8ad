//! WAV files instead of sound devices (`--play FILE`, `--record FILE` on the
//! headless call commands, for QA and tests), and the null back end.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::clock::{Recorder, SoftClock};
use super::resample::{convert_clip, to_i16};
use super::{AudioBackend, AudioConfig, AudioError, AudioStreams, Plumbing};

/// Sends a file into the call instead of the microphone and writes what is
/// heard to a file, both in real time.
///
/// `play`: any PCM WAV (8 to 32-bit integer or 32-bit float, any rate, any
/// number of channels), down-mixed to mono and resampled to the codec rate
/// when it starts; it plays from the start or once the other side is heard,
/// as [`AudioConfig::play_start`] says; after its end the call gets
/// silence and the owner an
/// [`AudioEvent::PlaybackFinished`](super::AudioEvent::PlaybackFinished).
/// Without it, the call gets silence.
///
/// `record`: mono 16-bit PCM at the codec rate, finalised when the back end
/// stops. Without it, what would be heard is discarded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WavBackend {
    pub play: Option<PathBuf>,
    pub record: Option<PathBuf>,
}

impl WavBackend {
    /// Plays `path` as the microphone; what would be heard is discarded.
    pub fn playing(path: impl Into<PathBuf>) -> Self {
        Self {
            play: Some(path.into()),
            record: None,
        }
    }

    /// Records what would be heard into `path`; the microphone is silent.
    pub fn recording(path: impl Into<PathBuf>) -> Self {
        Self {
            play: None,
            record: Some(path.into()),
        }
    }
}

impl AudioBackend for WavBackend {
    fn start(&mut self, config: AudioConfig) -> Result<AudioStreams, AudioError> {
        let config = config.validate()?;
        let source = match &self.play {
            Some(path) => Some((load(path, config.rate)?, 0)),
            None => None,
        };
        let recorder = match &self.record {
            Some(path) => Some(create(path, config.rate)?),
            None => None,
        };
        let plumbing = Plumbing::new(config);
        let clock = SoftClock {
            capture: plumbing.capture,
            playback: plumbing.playback,
            events: plumbing.events,
            frame: config.frame,
            source,
            recorder,
            controls: Arc::clone(&plumbing.owner.controls),
            play_start: config.play_start,
        };
        let guard = clock.spawn()?;
        Ok(plumbing.owner.into_streams(guard))
    }
}

/// Silence in, sound discarded, in real time: a call without audio, for
/// signalling tests and machines without sound.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NullBackend;

impl AudioBackend for NullBackend {
    fn start(&mut self, config: AudioConfig) -> Result<AudioStreams, AudioError> {
        WavBackend::default().start(config)
    }
}

/// Reads a whole WAV file as mono `i16` at `rate`.
fn load(path: &Path, rate: u32) -> Result<Vec<i16>, AudioError> {
    let wav_error = |source| AudioError::Wav {
        path: path.to_owned(),
        source,
    };
    let reader = hound::WavReader::open(path).map_err(wav_error)?;
    let spec = reader.spec();
    let interleaved: Vec<f32> = match spec.sample_format {
        hound::SampleFormat::Float => reader.into_samples::<f32>().collect::<Result<_, _>>(),
        hound::SampleFormat::Int => {
            let full_scale = 2f32.powi(i32::from(spec.bits_per_sample.max(1)) - 1);
            reader
                .into_samples::<i32>()
                .map(|sample| sample.map(|s| s as f32 / full_scale))
                .collect::<Result<_, _>>()
        }
    }
    .map_err(wav_error)?;
    let channels = usize::from(spec.channels.max(1));
    let mono: Vec<f32> = interleaved
        .chunks_exact(channels)
        .map(|frame| frame.iter().sum::<f32>() / channels as f32)
        .collect();
    let converted = convert_clip(&mono, spec.sample_rate, rate)?;
    Ok(converted.into_iter().map(to_i16).collect())
}

/// Creates the `--record` file: mono 16-bit PCM at the codec rate.
fn create(path: &Path, rate: u32) -> Result<Recorder, AudioError> {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let writer = hound::WavWriter::create(path, spec).map_err(|source| AudioError::Wav {
        path: path.to_owned(),
        source,
    })?;
    Ok(Recorder {
        path: path.to_owned(),
        writer,
    })
}

#[cfg(test)]
mod tests;
