//! A software sound card: a thread that ticks every 20 ms on absolute
//! deadlines (so it keeps the codec's pace without drifting), taking one
//! frame from a `--play` file (or silence) into the capture ring and one
//! frame from the playback ring into a `--record` file (or nowhere). This
//! emulates a device clock for the WAV and null back ends.

use std::fs::File;
use std::io::BufWriter;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::{Duration, Instant};

use tokio::sync::mpsc::UnboundedSender;

use super::controls::{AudioControls, CaptureSink, PlaybackSource};
use super::guard::{AudioGuard, Command};
use super::{AudioError, AudioEvent, Direction, PLAY_START_LIMIT, PlayStart};

/// The frame time of every codec this phone speaks.
const TICK: Duration = Duration::from_millis(20);

/// After a stall longer than this (a suspended machine, a debugger), the
/// clock restarts from now instead of racing to catch up, as a sound card
/// would after an overrun.
const MAX_LAG: Duration = Duration::from_millis(200);

/// Absolute 20 ms deadlines: `remaining` is how long to wait for the next
/// tick; `advance` moves to the one after.
pub(crate) struct Ticker {
    deadline: Instant,
}

impl Ticker {
    pub(crate) fn start() -> Self {
        Self {
            deadline: Instant::now() + TICK,
        }
    }

    pub(crate) fn remaining(&self) -> Duration {
        self.deadline.saturating_duration_since(Instant::now())
    }

    pub(crate) fn advance(&mut self) {
        self.deadline += TICK;
        let now = Instant::now();
        if now > self.deadline + MAX_LAG {
            self.deadline = now + TICK;
        }
    }
}

/// Where recorded frames go: an open WAV writer and its path for messages.
pub(crate) struct Recorder {
    pub(crate) path: PathBuf,
    pub(crate) writer: hound::WavWriter<BufWriter<File>>,
}

/// Everything the clock thread owns.
pub(crate) struct SoftClock {
    pub(crate) capture: CaptureSink,
    pub(crate) playback: PlaybackSource,
    pub(crate) events: UnboundedSender<AudioEvent>,
    pub(crate) frame: usize,
    /// The `--play` samples at the codec rate, and how far they have gone.
    pub(crate) source: Option<(Vec<i16>, usize)>,
    pub(crate) recorder: Option<Recorder>,
    /// Says whether the other side has been heard yet.
    pub(crate) controls: Arc<AudioControls>,
    pub(crate) play_start: PlayStart,
}

impl SoftClock {
    /// Starts the clock on its own thread.
    pub(crate) fn spawn(self) -> Result<AudioGuard, AudioError> {
        let (commands, inbox) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("audio-clock".into())
            .spawn(move || self.run(&inbox))?;
        Ok(AudioGuard::new(commands, thread))
    }

    fn run(mut self, inbox: &mpsc::Receiver<Command>) -> Result<(), AudioError> {
        let mut frame = vec![0i16; self.frame];
        let mut ticker = Ticker::start();
        let started = Instant::now();
        loop {
            match inbox.recv_timeout(ticker.remaining()) {
                Err(RecvTimeoutError::Timeout) => {
                    self.tick(&mut frame, started);
                    ticker.advance();
                }
                Ok(Command::Switch { reply, .. }) => {
                    let _ = reply.send(Err(AudioError::NotSwitchable));
                }
                Ok(Command::StreamFailed { .. }) => {}
                Ok(Command::Stop) | Err(RecvTimeoutError::Disconnected) => break,
            }
        }
        match self.recorder {
            Some(Recorder { path, writer }) => writer
                .finalize()
                .map_err(|source| AudioError::Wav { path, source }),
            None => Ok(()),
        }
    }

    /// Whether the file may play now: it started already, or it may start.
    fn may_play(&self, position: usize, started: Instant) -> bool {
        position > 0
            || match self.play_start {
                PlayStart::AtOnce => true,
                PlayStart::WhenHeard => {
                    self.controls.far_end_heard() || started.elapsed() >= PLAY_START_LIMIT
                }
            }
    }

    fn tick(&mut self, frame: &mut [i16], started: Instant) {
        let position = self.source.as_ref().map_or(0, |(_, position)| *position);
        let may_play = self.may_play(position, started);
        match &mut self.source {
            Some((samples, position)) if *position < samples.len() && may_play => {
                let end = (*position + frame.len()).min(samples.len());
                let part = &samples[*position..end];
                frame.fill(0);
                frame[..part.len()].copy_from_slice(part);
                *position = end;
                self.capture.push(frame);
                if end == samples.len() {
                    let _ = self.events.send(AudioEvent::PlaybackFinished);
                }
            }
            _ => self.capture.push_silence(),
        }
        match &mut self.recorder {
            Some(recorder) => {
                self.playback.pull(frame);
                let written = frame
                    .iter()
                    .try_for_each(|&s| recorder.writer.write_sample(s));
                if let Err(error) = written {
                    let why = format!("writing {}: {error}", recorder.path.display());
                    tracing::warn!(%why, "recording stopped");
                    let which = Direction::Playback;
                    let _ = self.events.send(AudioEvent::DeviceLost { which, why });
                    self.recorder = None;
                }
            }
            None => self.playback.discard(self.frame),
        }
    }
}
