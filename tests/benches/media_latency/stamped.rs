//! When did a back end's device clock tick? The softphone does not say, so
//! the bench wraps the back end ([`Stamped`]) and, for each start, watches
//! the microphone level meter that the clock thread updates at every tick
//! (`AudioControls::mic_level_dbfs`, the RMS of the frame it just pushed
//! into the capture ring). Both phones play the clicks file, whose quiet
//! marker changes level at every frame (see `clicks.rs`), so the meter
//! changes at every tick while the file plays; a thread polling it every
//! 100 µs sees each tick a little late, never early.
//!
//! The clock ticks on absolute deadlines `origin + 20 ms × (k + 1)` (tick k
//! pushes frame k of the played file and pulls frame k of the recording).
//! The loud frames (clicks, at known frames f) give the tick numbers
//! without ambiguity: `origin ≈ min (seen − 20 ms × (f + 1))`; every other
//! tick seen then refines it (the least late of all fixes the grid).
//! `start` returning is no good proxy for the origin: the clock's thread may
//! run milliseconds before or after it on a busy machine (the report shows
//! by how much).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use softphone::audio::{AudioBackend, AudioConfig, AudioControls, AudioError, AudioStreams};

use crate::spread::{Spread, ms_between};

/// The device tick.
const FRAME: Duration = Duration::from_millis(20);
/// How often the watcher looks at the meter.
const POLL: Duration = Duration::from_micros(100);

/// One start of a back end.
#[derive(Debug, Clone)]
pub struct Start {
    /// Just after `start` returned.
    pub after: Instant,
    /// When the meter was seen to change, and to what (dBFS), in order.
    pub seen: Arc<Mutex<Vec<(Instant, f32)>>>,
    /// Tells the watcher to end.
    pub stop: Arc<AtomicBool>,
}

/// Every start, in order; shared with the bench.
pub type Starts = Arc<Mutex<Vec<Start>>>;

/// `inner`, with its starts recorded in `starts` and their ticks watched.
pub struct Stamped<B> {
    pub inner: B,
    pub starts: Starts,
    /// Waited before each start: shifts this device clock's phase against
    /// the other phone's, as two real devices' phases differ call by call.
    pub start_delay: Duration,
    /// The other phone's starts: when set, `start_delay` is the phase
    /// against its device clock (from its start) rather than a wait.
    pub align_to: Option<Starts>,
}

/// How long a start aligned to another back end waits for that back end's
/// start before giving up on the alignment.
const ALIGN_PATIENCE: Duration = Duration::from_secs(2);

impl<B> Stamped<B> {
    pub fn new(inner: B) -> (Self, Starts) {
        Self::delayed(inner, Duration::ZERO)
    }

    /// Starts `start_delay` late each time.
    pub fn delayed(inner: B, start_delay: Duration) -> (Self, Starts) {
        let starts = Starts::default();
        let stamped = Self {
            inner,
            starts: Arc::clone(&starts),
            start_delay,
            align_to: None,
        };
        (stamped, starts)
    }

    /// Starts each time `phase` (mod 20 ms) after the start of the back
    /// end whose starts are `other`: the phase between the two device
    /// clocks is the bench's choice, not the call set-up's timing.
    pub fn aligned(inner: B, other: &Starts, phase: Duration) -> (Self, Starts) {
        let (mut stamped, starts) = Self::delayed(inner, phase);
        stamped.align_to = Some(Arc::clone(other));
        (stamped, starts)
    }

    /// How long to wait before starting.
    fn wait(&self) -> Duration {
        let Some(other) = &self.align_to else {
            return self.start_delay;
        };
        let Some(started) = other_start(other, ALIGN_PATIENCE) else {
            return self.start_delay;
        };
        let frame = FRAME.as_secs_f64();
        let since = Instant::now()
            .saturating_duration_since(started)
            .as_secs_f64();
        let wait = (self.start_delay.as_secs_f64() - since).rem_euclid(frame);
        Duration::from_secs_f64(wait)
    }
}

/// When the last start in `starts` returned, waiting up to `patience` for
/// one. Its clock starts within a millisecond or so of it (the report's
/// "clock threads started after `start` returned"); waiting for its ticks
/// instead would leave the other phone's packets queueing in the socket
/// meanwhile, and its jitter buffer would start on a delay it then sheds
/// a frame a second.
fn other_start(starts: &Starts, patience: Duration) -> Option<Instant> {
    let give_up = Instant::now() + patience;
    loop {
        let after = lock(starts).last().map(|start| start.after);
        if after.is_some() || Instant::now() >= give_up {
            return after;
        }
        std::thread::sleep(POLL);
    }
}

impl<B: AudioBackend> AudioBackend for Stamped<B> {
    fn start(&mut self, config: AudioConfig) -> Result<AudioStreams, AudioError> {
        // The phase offset itself (a few ms, once per call, before any
        // click plays), or until that phase after the other phone's start
        // (at most its start and a packet time). Off the runtime's
        // worker, so that the other phone's media start, queued behind
        // this one on the same worker, is not delayed by as much (the
        // phase would not move).
        if !self.start_delay.is_zero() || self.align_to.is_some() {
            tokio::task::block_in_place(|| std::thread::sleep(self.wait()));
        }
        let streams = self.inner.start(config)?;
        let after = Instant::now();
        let start = Start {
            after,
            seen: Arc::default(),
            stop: Arc::default(),
        };
        let (seen, stop) = (Arc::clone(&start.seen), Arc::clone(&start.stop));
        let controls = Arc::clone(&streams.controls);
        std::thread::Builder::new()
            .name("tick-watcher".into())
            .spawn(move || watch(&controls, &seen, &stop))
            .map_err(AudioError::Thread)?;
        let mut starts = lock(&self.starts);
        // A restart replaces the media: the previous watcher may end.
        if let Some(previous) = starts.last() {
            previous.stop.store(true, Ordering::Relaxed);
        }
        starts.push(start);
        Ok(streams)
    }
}

/// Records every change of the meter until told to stop, or until the back
/// end and its owner have both let go of the controls.
fn watch(controls: &Arc<AudioControls>, seen: &Mutex<Vec<(Instant, f32)>>, stop: &AtomicBool) {
    let mut level = controls.mic_level_dbfs();
    while !stop.load(Ordering::Relaxed) && Arc::strong_count(controls) > 1 {
        let now_level = controls.mic_level_dbfs();
        if now_level.to_bits() != level.to_bits() {
            level = now_level;
            lock(seen).push((Instant::now(), level));
        }
        std::thread::sleep(POLL);
    }
}

pub fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A device clock's grid, from its watched ticks.
#[derive(Debug, Clone)]
pub struct Clock {
    /// Its origin: tick k at `origin + 20 ms × (k + 1)`.
    pub origin: Instant,
    /// `origin − after`, ms: how long after `start` returned the clock
    /// started.
    pub late_start_ms: f64,
    /// How late each tick was seen after its deadline, ms.
    pub seen_late: Spread,
    /// Back end starts (more than one: the media restarted).
    pub starts: usize,
}

/// A frame louder than this (dBFS) is a click's.
const LOUD_DBFS: f32 = -30.0;

impl Clock {
    /// The grid of the last start in `starts`, whose file has clicks in
    /// frames `click_frames`; stops its watcher.
    pub fn of(starts: &Starts, click_frames: &[usize]) -> anyhow::Result<Self> {
        let (start, count) = {
            let starts = lock(starts);
            let last = starts
                .last()
                .cloned()
                .ok_or_else(|| anyhow::anyhow!("the back end never started"))?;
            (last, starts.len())
        };
        start.stop.store(true, Ordering::Relaxed);
        let seen = lock(&start.seen).clone();
        let frame_ms = FRAME.as_secs_f64() * 1e3;
        let deadline = |origin_ms: f64, k: usize| origin_ms + frame_ms * (k as f64 + 1.0);
        // On `after`'s scale, ms. First the clicks: a loud frame seen at t is
        // the click frame nearest to where `after` puts it.
        let coarse = seen
            .iter()
            .filter(|(_, level)| *level > LOUD_DBFS)
            .filter_map(|&(t, _)| {
                let at = ms_between(start.after, t);
                let nearest = click_frames.iter().min_by(|&&x, &&y| {
                    let off = |f: usize| (deadline(0.0, f) - at).abs();
                    off(x).total_cmp(&off(y))
                })?;
                Some(at - deadline(0.0, *nearest))
            })
            .fold(f64::INFINITY, f64::min);
        anyhow::ensure!(
            coarse.is_finite(),
            "no click of the back end was seen ({} ticks seen)",
            seen.len()
        );
        // Then every tick: seen late, never early, so it belongs to the
        // last deadline before it (with 1 ms of slack for `coarse`).
        let offsets: Vec<f64> = seen
            .iter()
            .map(|&(t, _)| {
                let since = ms_between(start.after, t) - coarse;
                let k = ((since + 1.0) / frame_ms).floor() - 1.0;
                since - frame_ms * (k + 1.0)
            })
            .collect();
        let earliest = offsets.iter().copied().fold(f64::INFINITY, f64::min);
        let origin_ms = coarse + earliest;
        let origin = if origin_ms >= 0.0 {
            start.after + Duration::from_secs_f64(origin_ms / 1e3)
        } else {
            start.after - Duration::from_secs_f64(-origin_ms / 1e3)
        };
        Ok(Self {
            origin,
            late_start_ms: origin_ms,
            seen_late: Spread::new(offsets.iter().map(|o| o - earliest).collect()),
            starts: count,
        })
    }
}
