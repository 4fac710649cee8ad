//! The thread that owns a [`CpalBackend`](super::CpalBackend)'s streams: it
//! opens them, watches them (see `health`), reports a device that goes
//! away, keeps the call going on silence meanwhile, and switches devices on
//! the owner's request.

use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::mpsc::UnboundedSender;

use super::clock::Ticker;
use super::cpal_backend::RingEnd;
use super::devices::{display_name, find_device};
use super::guard::{AudioGuard, Command};
use super::health::{StreamHealth, Watchdog, error_callback};
use super::{AudioConfig, AudioError, AudioEvent, Direction};

/// How long stopping waits for the streams to close (see [`retire`]).
const CLOSE_TIMEOUT: Duration = Duration::from_secs(1);

/// Everything the supervisor thread owns.
struct Supervisor<C: RingEnd, P: RingEnd> {
    host: cpal::Host,
    config: AudioConfig,
    input: Endpoint<C>,
    output: Endpoint<P>,
    events: UnboundedSender<AudioEvent>,
    /// Cloned into every stream's error callback.
    commands: mpsc::Sender<Command>,
}

/// Starts the supervisor thread and waits until the devices are open.
/// Each of `devices` names the device of its direction (`Some(None)`: the
/// default); `None` leaves that direction without a device, on the
/// software clock (silence in, discard out), for one-way sounds.
pub(crate) fn spawn<C: RingEnd, P: RingEnd>(
    devices: (Option<Option<String>>, Option<Option<String>>),
    config: AudioConfig,
    rings: (C, P),
    events: UnboundedSender<AudioEvent>,
) -> Result<AudioGuard, AudioError> {
    let (commands, inbox) = mpsc::channel();
    let (ready, opened) = mpsc::channel();
    let own_commands = commands.clone();
    let thread = std::thread::Builder::new()
        .name("audio-devices".into())
        .spawn(move || {
            let mut supervisor = Supervisor {
                host: cpal::default_host(),
                config,
                input: Endpoint::new(rings.0),
                output: Endpoint::new(rings.1),
                events,
                commands: own_commands,
            };
            let open =
                |supervisor: &mut Supervisor<C, P>, which, device: &Option<Option<String>>| {
                    device
                        .as_ref()
                        .map_or(Ok(()), |name| supervisor.open(which, name.as_deref()))
                };
            let result = open(&mut supervisor, Direction::Capture, &devices.0)
                .and_then(|()| open(&mut supervisor, Direction::Playback, &devices.1));
            let failed = result.is_err();
            let _ = ready.send(result);
            if !failed {
                supervisor.run(&inbox);
            }
            Ok(())
        })?;
    let guard = AudioGuard::new(commands, thread);
    opened.recv().map_err(|_| AudioError::Stopped)??;
    Ok(guard)
}

impl<C: RingEnd, P: RingEnd> Supervisor<C, P> {
    fn run(&mut self, inbox: &mpsc::Receiver<Command>) {
        let mut ticker = Ticker::start();
        loop {
            match inbox.recv_timeout(ticker.remaining()) {
                Err(RecvTimeoutError::Timeout) => {
                    if let Some(why) = self.input.tick(self.config.frame) {
                        self.lose(Direction::Capture, why);
                    }
                    if let Some(why) = self.output.tick(self.config.frame) {
                        self.lose(Direction::Playback, why);
                    }
                    ticker.advance();
                }
                Ok(Command::Switch {
                    which,
                    device,
                    reply,
                }) => {
                    let _ = reply.send(self.open(which, device.as_deref()));
                }
                Ok(Command::StreamFailed {
                    which,
                    generation,
                    why,
                }) => {
                    let current = match which {
                        Direction::Capture => self.input.is_current(generation),
                        Direction::Playback => self.output.is_current(generation),
                    };
                    if current {
                        self.lose(which, why);
                    }
                }
                Ok(Command::Stop) | Err(RecvTimeoutError::Disconnected) => break,
            }
        }
        let deadline = Instant::now() + CLOSE_TIMEOUT;
        for closing in [self.input.close(), self.output.close()]
            .into_iter()
            .flatten()
        {
            let wait = deadline.saturating_duration_since(Instant::now());
            if let Err(RecvTimeoutError::Timeout) = closing.recv_timeout(wait) {
                tracing::warn!(
                    "the sound system did not release an audio stream; leaving it behind"
                );
            }
        }
    }

    fn open(&mut self, which: Direction, device: Option<&str>) -> Result<(), AudioError> {
        let device = find_device(&self.host, which, device)?;
        let (codec, commands) = (self.config, &self.commands);
        match which {
            Direction::Capture => self.input.open(&device, codec, commands),
            Direction::Playback => self.output.open(&device, codec, commands),
        }
    }

    /// Reports the loss and lets the stream go without waiting for it.
    fn lose(&mut self, which: Direction, why: String) {
        let name = match which {
            Direction::Capture => &self.input.name,
            Direction::Playback => &self.output.name,
        };
        tracing::warn!(%which, device = %name, %why, "audio device lost; going on with silence");
        let _ = match which {
            Direction::Capture => self.input.close(),
            Direction::Playback => self.output.close(),
        };
        let _ = self.events.send(AudioEvent::DeviceLost { which, why });
    }
}

/// One direction: the back end's end of its ring, and the stream (if
/// any) that feeds or drains it.
struct Endpoint<R: RingEnd> {
    ring: Arc<Mutex<R>>,
    stream: Option<cpal::Stream>,
    name: String,
    health: Arc<StreamHealth>,
    generation: u64,
    watchdog: Watchdog,
}

impl<R: RingEnd> Endpoint<R> {
    fn new(ring: R) -> Self {
        Self {
            ring: Arc::new(Mutex::new(ring)),
            stream: None,
            name: String::new(),
            health: Arc::default(),
            generation: 0,
            watchdog: Watchdog::default(),
        }
    }

    /// Builds the new stream before stopping the old one, so a device that
    /// cannot open leaves the current one playing.
    fn open(
        &mut self,
        device: &cpal::Device,
        codec: AudioConfig,
        commands: &mpsc::Sender<Command>,
    ) -> Result<(), AudioError> {
        use cpal::traits::StreamTrait;
        let name = display_name(device);
        let generation = self.generation + 1;
        let health = Arc::new(StreamHealth::default());
        let on_error = error_callback(R::WHICH, generation, Arc::clone(&health), commands.clone());
        let ring = Arc::clone(&self.ring);
        let stream = R::build(device, &name, ring, codec, Arc::clone(&health), on_error)?;
        let _ = self.close();
        self.generation = generation;
        self.health = health;
        self.watchdog = Watchdog::default();
        if let Err(source) = stream.play() {
            let _ = retire(stream);
            let which = R::WHICH;
            return Err(AudioError::Device {
                which,
                name,
                source,
            });
        }
        tracing::info!(which = %R::WHICH, device = %name, "audio device open");
        self.stream = Some(stream);
        self.name = name;
        Ok(())
    }

    fn is_current(&self, generation: u64) -> bool {
        self.stream.is_some() && generation == self.generation
    }

    /// One 20 ms tick: watch the stream, or stand in for it with silence.
    fn tick(&mut self, frame: usize) -> Option<String> {
        if self.stream.is_some() {
            return self.watchdog.check(self.health.callbacks());
        }
        if let Ok(mut ring) = self.ring.lock() {
            ring.idle_tick(frame);
        }
        None
    }

    /// Stops the stream, if any, on a thread of its own: the returned
    /// receiver reports when it is gone.
    fn close(&mut self) -> Option<mpsc::Receiver<()>> {
        let stream = self.stream.take()?;
        let ignored = self.health.soft_errors();
        tracing::debug!(which = %R::WHICH, device = %self.name, ignored, "closing audio stream");
        Some(retire(stream))
    }
}

/// Drops a stream on a thread of its own and reports when that is done.
///
/// Dropping a cpal stream joins its audio thread, and a sound server that
/// died can leave that thread deadlocked for good (seen with the ALSA pulse
/// plugin: libpulse's mainloop thread waits in `pa_memimport_free` while
/// holding the lock the audio thread waits for). The supervisor must keep
/// ticking, so at worst that one thread is left behind.
fn retire(stream: cpal::Stream) -> mpsc::Receiver<()> {
    let (done, finished) = mpsc::channel();
    // If no thread can start, `spawn` drops the closure, and with it the
    // stream, right here; `finished` then reports at once.
    let _detached = std::thread::Builder::new()
        .name("audio-close".into())
        .spawn(move || {
            drop(stream);
            let _ = done.send(());
        });
    finished
}
