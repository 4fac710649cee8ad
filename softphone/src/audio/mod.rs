//! Audio back ends behind one trait: sound devices ([`CpalBackend`]), WAV
//! files for QA and tests ([`WavBackend`]) and nothing at all
//! ([`NullBackend`]).
//!
//! Every back end speaks the codec's language: mono `i16` PCM at the codec
//! rate, in 20 ms frames, through two lock-free SPSC rings. The media driver
//! runs this loop and never learns which back end it talks to:
//!
//! ```text
//! let mut streams = backend.start(AudioConfig::for_rate(8000))?;
//! every 20 ms:
//!     read config.frame samples from streams.capture  -> encode -> RTP out
//!     RTP in -> jitter buffer -> decoded frame        -> streams.playback
//! streams.events: DeviceLost -> tell the user, later streams.guard.switch_input(..)
//! drop(streams.guard) (or guard.stop()) stops the back end.
//! ```
//!
//! The back end side of each ring runs on a real-time clock: the sound card's
//! callbacks for [`CpalBackend`], a deadline-based 20 ms tick for the others.
//! That side never blocks and never allocates. When a device is lost, a
//! 20 ms software clock takes over its ring (silence in, discard out), so the
//! call keeps running until the user picks another device.

mod callbacks;
mod clock;
mod controls;
mod cpal_backend;
mod devices;
mod guard;
mod health;
mod resample;
pub mod sounder;
mod supervisor;
pub mod tone;
mod wav;

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use tokio::sync::mpsc;

pub use controls::{AudioControls, METER_FLOOR_DBFS};
pub use cpal_backend::{CpalBackend, CpalOneWay};
pub use devices::{DeviceInfo, list_devices};
pub use guard::{AudioGuard, DeviceSwitch};
pub use wav::{NullBackend, WavBackend};

use controls::{CaptureSink, PlaybackSource};

/// How many 20 ms frames each ring holds: 200 ms, enough to ride out a
/// scheduling hiccup of the media driver without adding latency when it
/// keeps up (a ring only fills when its reader falls behind).
const RING_FRAMES: usize = 10;

/// The codec side of the audio streams.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AudioConfig {
    /// Codec PCM rate in Hz, e.g. 8000 (G.711) or 16000 (wideband).
    pub rate: u32,
    /// Samples per 20 ms frame at `rate`.
    pub frame: usize,
    /// When a played file starts (file back ends only).
    pub play_start: PlayStart,
}

/// When [`WavBackend`] starts sending its `play` file into the call.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum PlayStart {
    /// With the back end: the file's first frame is the first one captured.
    #[default]
    AtOnce,
    /// Once the call's media has played a frame from the other side
    /// ([`AudioControls::far_end_heard`]), or [`PLAY_START_LIMIT`] after
    /// the back end started, whichever comes first: silence until then. A
    /// system's SBC drops a phone at home's first packets until it has
    /// latched their source, and forwards to that phone only from then on,
    /// so the file is heard from its first frame (`softphone hfa call
    /// --play`).
    WhenHeard,
}

/// The longest [`PlayStart::WhenHeard`] waits for the other side: a peer
/// that sends nothing still gets the file.
pub const PLAY_START_LIMIT: std::time::Duration = std::time::Duration::from_secs(1);

impl AudioConfig {
    /// 20 ms frames at `rate`, a played file starting at once.
    pub fn for_rate(rate: u32) -> Self {
        Self {
            rate,
            frame: usize::try_from(rate / 50).unwrap_or(0),
            play_start: PlayStart::AtOnce,
        }
    }

    fn validate(self) -> Result<Self, AudioError> {
        if self.rate == 0 || self.frame == 0 {
            return Err(AudioError::InvalidConfig {
                rate: self.rate,
                frame: self.frame,
            });
        }
        Ok(self)
    }
}

/// A source of microphone samples and a sink for what the user hears.
pub trait AudioBackend: Send {
    /// Opens capture and playback at `config.rate`; the back end converts
    /// from/to the device's own rate and format.
    fn start(&mut self, config: AudioConfig) -> Result<AudioStreams, AudioError>;
}

/// A started back end: the codec ends of its rings, its controls, its
/// events, and the guard that keeps it running.
pub struct AudioStreams {
    /// Microphone (or file) samples at the codec rate, produced in real time.
    pub capture: rtrb::Consumer<i16>,
    /// Samples to hear at the codec rate, consumed in real time.
    pub playback: rtrb::Producer<i16>,
    /// Mute, speaker volume, microphone level meter.
    pub controls: Arc<AudioControls>,
    /// What happened to the devices (or files).
    pub events: mpsc::UnboundedReceiver<AudioEvent>,
    /// Keeps the back end running; stops it on drop; switches devices.
    pub guard: AudioGuard,
}

impl fmt::Debug for AudioStreams {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AudioStreams")
            .field("capture_ready", &self.capture.slots())
            .field("playback_free", &self.playback.slots())
            .field("controls", &self.controls)
            .finish_non_exhaustive()
    }
}

/// Which way the sound goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Microphone (or `--play` file) towards the call.
    Capture,
    /// The call towards the speaker (or `--record` file).
    Playback,
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Capture => "input",
            Self::Playback => "output",
        })
    }
}

/// What a running back end reports to its owner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AudioEvent {
    /// The device (or the recording file) of `which` stopped working. That
    /// direction now runs on silence until [`AudioGuard::switch_input`] or
    /// [`AudioGuard::switch_output`] picks another device.
    DeviceLost { which: Direction, why: String },
    /// The whole `--play` file has been sent; capture goes on with silence.
    PlaybackFinished,
}

/// Why a back end could not start or switch devices.
#[derive(Debug, thiserror::Error)]
pub enum AudioError {
    /// The caller asked for a zero rate or an empty frame.
    #[error("invalid audio configuration: {rate} Hz, {frame} samples per frame")]
    InvalidConfig { rate: u32, frame: usize },
    /// No device of that name (see [`list_devices`]).
    #[error("no audio {which} device named {name:?}")]
    DeviceNotFound { which: Direction, name: String },
    /// The sound system has no default device for that direction.
    #[error("no default audio {which} device")]
    NoDefaultDevice { which: Direction },
    /// The sound system refused to open or start the device.
    #[error("audio {which} device {name:?}: {source}")]
    Device {
        which: Direction,
        name: String,
        source: cpal::Error,
    },
    /// The device only offers a sample format this back end cannot convert.
    #[error("audio {which} device {name:?}: unsupported sample format {format}")]
    UnsupportedFormat {
        which: Direction,
        name: String,
        format: cpal::SampleFormat,
    },
    /// The resampler refused the pair of rates.
    #[error("cannot resample: {0}")]
    Resampler(#[from] rubato::ResamplerConstructionError),
    /// Resampling a whole file failed.
    #[error("cannot resample: {0}")]
    Resample(#[from] rubato::ResampleError),
    /// A WAV file could not be read, created or finalised.
    #[error("WAV file {}: {source}", path.display())]
    Wav { path: PathBuf, source: hound::Error },
    /// Only sound devices can be switched; this back end has none.
    #[error("this audio back end has no devices to switch")]
    NotSwitchable,
    /// The back end's thread could not start.
    #[error("cannot start the audio thread: {0}")]
    Thread(#[from] std::io::Error),
    /// The back end's thread has ended (it was stopped, or it failed).
    #[error("the audio back end has stopped")]
    Stopped,
}

/// The back end halves of a fresh pair of rings, and the owner's halves
/// waiting for the guard that [`OwnerEnds::into_streams`] adds.
struct Plumbing {
    capture: CaptureSink,
    playback: PlaybackSource,
    events: mpsc::UnboundedSender<AudioEvent>,
    owner: OwnerEnds,
}

struct OwnerEnds {
    capture: rtrb::Consumer<i16>,
    playback: rtrb::Producer<i16>,
    controls: Arc<AudioControls>,
    events: mpsc::UnboundedReceiver<AudioEvent>,
}

impl Plumbing {
    fn new(config: AudioConfig) -> Self {
        let capacity = config.frame * RING_FRAMES;
        let (capture_in, capture_out) = rtrb::RingBuffer::new(capacity);
        let (playback_in, playback_out) = rtrb::RingBuffer::new(capacity);
        let controls = Arc::new(AudioControls::default());
        let (events, events_rx) = mpsc::unbounded_channel();
        Self {
            capture: CaptureSink::new(capture_in, Arc::clone(&controls), config.frame),
            playback: PlaybackSource::new(playback_out, Arc::clone(&controls)),
            events,
            owner: OwnerEnds {
                capture: capture_out,
                playback: playback_in,
                controls,
                events: events_rx,
            },
        }
    }
}

impl OwnerEnds {
    fn into_streams(self, guard: AudioGuard) -> AudioStreams {
        AudioStreams {
            capture: self.capture,
            playback: self.playback,
            controls: self.controls,
            events: self.events,
            guard,
        }
    }
}
