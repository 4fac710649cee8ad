//! Real sound devices through cpal: each device runs at its own default
//! rate, channel count and sample format, and the callbacks convert to and
//! from the codec's mono `i16` (see `callbacks` for why they never block or
//! allocate, `supervisor` for lost devices).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use cpal::traits::DeviceTrait;
use cpal::{BufferSize, SampleFormat, StreamConfig, SupportedBufferSize, SupportedStreamConfig};

use super::callbacks::{CaptureSide, PlaybackSide};
use super::controls::{CaptureSink, PlaybackSource};
use super::health::StreamHealth;
use super::resample::ChunkResampler;
use super::{AudioBackend, AudioConfig, AudioError, AudioStreams, Direction, Plumbing, supervisor};

/// How often a stream's thread wakes without audio to check whether its
/// device is still there (ALSA: a disconnected state without `POLLHUP`).
const POLL_TIMEOUT: Duration = Duration::from_millis(500);

/// Sound devices chosen by name (see [`list_devices`](super::list_devices);
/// an id like `alsa:pulse`, the id without its host like `pulse`, or the
/// human-readable name); `None` or `"default"` is the system's default.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CpalBackend {
    pub input: Option<String>,
    pub output: Option<String>,
}

impl AudioBackend for CpalBackend {
    fn start(&mut self, config: AudioConfig) -> Result<AudioStreams, AudioError> {
        let config = config.validate()?;
        let plumbing = Plumbing::new(config);
        let guard = supervisor::spawn(
            (Some(self.input.clone()), Some(self.output.clone())),
            config,
            (plumbing.capture, plumbing.playback),
            plumbing.events,
        )?;
        Ok(plumbing.owner.into_streams(guard))
    }
}

/// One sound device for one direction only: a speaker for the ringer or
/// a test tone, a microphone for the level meter. The other direction
/// runs on the software clock (silence in, discard out), so the device of
/// the other way is never opened (no microphone indicator while ringing).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CpalOneWay {
    pub which: Direction,
    /// As for [`CpalBackend`]; `None` is the system's default.
    pub device: Option<String>,
}

impl AudioBackend for CpalOneWay {
    fn start(&mut self, config: AudioConfig) -> Result<AudioStreams, AudioError> {
        let config = config.validate()?;
        let plumbing = Plumbing::new(config);
        let devices = match self.which {
            Direction::Capture => (Some(self.device.clone()), None),
            Direction::Playback => (None, Some(self.device.clone())),
        };
        let guard = supervisor::spawn(
            devices,
            config,
            (plumbing.capture, plumbing.playback),
            plumbing.events,
        )?;
        Ok(plumbing.owner.into_streams(guard))
    }
}

/// The back end's end of a ring, as a cpal stream drives it.
pub(crate) trait RingEnd: Send + Sized + 'static {
    const WHICH: Direction;

    /// One 20 ms frame while no device runs: silence in, or discard.
    fn idle_tick(&mut self, frame: usize);

    /// A stopped stream on `device` whose callback feeds or drains `ring`.
    fn build(
        device: &cpal::Device,
        name: &str,
        ring: Arc<Mutex<Self>>,
        codec: AudioConfig,
        health: Arc<StreamHealth>,
        on_error: impl FnMut(cpal::Error) + Send + 'static,
    ) -> Result<cpal::Stream, AudioError>;
}

/// Runs `$build::<T>($args)` for the sample type `T` of `$format`; for
/// formats cpal may add later, returns `Err($unsupported)`.
macro_rules! for_sample_format {
    ($format:expr, $build:ident($($arg:expr),*), $unsupported:expr) => {
        match $format {
            SampleFormat::I8 => $build::<i8>($($arg),*),
            SampleFormat::I16 => $build::<i16>($($arg),*),
            SampleFormat::I24 => $build::<cpal::I24>($($arg),*),
            SampleFormat::I32 => $build::<i32>($($arg),*),
            SampleFormat::I64 => $build::<i64>($($arg),*),
            SampleFormat::U8 => $build::<u8>($($arg),*),
            SampleFormat::U16 => $build::<u16>($($arg),*),
            SampleFormat::U24 => $build::<cpal::U24>($($arg),*),
            SampleFormat::U32 => $build::<u32>($($arg),*),
            SampleFormat::U64 => $build::<u64>($($arg),*),
            SampleFormat::F32 => $build::<f32>($($arg),*),
            SampleFormat::F64 => $build::<f64>($($arg),*),
            _ => return Err($unsupported),
        }
    };
}

impl RingEnd for CaptureSink {
    const WHICH: Direction = Direction::Capture;

    fn idle_tick(&mut self, _frame: usize) {
        self.push_silence();
    }

    fn build(
        device: &cpal::Device,
        name: &str,
        ring: Arc<Mutex<Self>>,
        codec: AudioConfig,
        health: Arc<StreamHealth>,
        on_error: impl FnMut(cpal::Error) + Send + 'static,
    ) -> Result<cpal::Stream, AudioError> {
        let which = Self::WHICH;
        let supported = device
            .default_input_config()
            .map_err(|source| device_error(which, name, source))?;
        let config = stream_config(&supported);
        let resampler = ChunkResampler::to_frames(config.sample_rate, codec.rate, codec.frame)?;
        let side = CaptureSide::new(ring, resampler, config.channels, health);
        for_sample_format!(
            supported.sample_format(),
            input_stream(device, config, side, on_error),
            unsupported(which, name, supported.sample_format())
        )
        .map_err(|source| device_error(which, name, source))
    }
}

impl RingEnd for PlaybackSource {
    const WHICH: Direction = Direction::Playback;

    fn idle_tick(&mut self, frame: usize) {
        self.discard(frame);
    }

    fn build(
        device: &cpal::Device,
        name: &str,
        ring: Arc<Mutex<Self>>,
        codec: AudioConfig,
        health: Arc<StreamHealth>,
        on_error: impl FnMut(cpal::Error) + Send + 'static,
    ) -> Result<cpal::Stream, AudioError> {
        let which = Self::WHICH;
        let supported = device
            .default_output_config()
            .map_err(|source| device_error(which, name, source))?;
        let config = stream_config(&supported);
        let resampler = ChunkResampler::from_frames(codec.rate, config.sample_rate, codec.frame)?;
        let side = PlaybackSide::new(ring, resampler, config.channels, health);
        for_sample_format!(
            supported.sample_format(),
            output_stream(device, config, side, on_error),
            unsupported(which, name, supported.sample_format())
        )
        .map_err(|source| device_error(which, name, source))
    }
}

fn input_stream<T>(
    device: &cpal::Device,
    config: StreamConfig,
    mut side: CaptureSide,
    on_error: impl FnMut(cpal::Error) + Send + 'static,
) -> Result<cpal::Stream, cpal::Error>
where
    T: cpal::SizedSample,
    f32: cpal::FromSample<T>,
{
    let callback = move |data: &[T], _: &cpal::InputCallbackInfo| side.process(data);
    device.build_input_stream(config, callback, on_error, Some(POLL_TIMEOUT))
}

fn output_stream<T>(
    device: &cpal::Device,
    config: StreamConfig,
    mut side: PlaybackSide,
    on_error: impl FnMut(cpal::Error) + Send + 'static,
) -> Result<cpal::Stream, cpal::Error>
where
    T: cpal::SizedSample + cpal::FromSample<f32>,
{
    let callback = move |data: &mut [T], _: &cpal::OutputCallbackInfo| side.process(data);
    device.build_output_stream(config, callback, on_error, Some(POLL_TIMEOUT))
}

/// The device's own rate, channels and format, with 20 ms periods when the
/// device allows them: the host's default can add up to a second of
/// latency (PulseAudio).
fn stream_config(supported: &SupportedStreamConfig) -> StreamConfig {
    let period = supported.sample_rate() / 50;
    let buffer_size = match supported.buffer_size() {
        SupportedBufferSize::Range { min, max } if (*min..=*max).contains(&period) => {
            BufferSize::Fixed(period)
        }
        _ => BufferSize::Default,
    };
    StreamConfig {
        channels: supported.channels(),
        sample_rate: supported.sample_rate(),
        buffer_size,
    }
}

fn device_error(which: Direction, name: &str, source: cpal::Error) -> AudioError {
    AudioError::Device {
        which,
        name: name.to_owned(),
        source,
    }
}

fn unsupported(which: Direction, name: &str, format: SampleFormat) -> AudioError {
    AudioError::UnsupportedFormat {
        which,
        name: name.to_owned(),
        format,
    }
}
