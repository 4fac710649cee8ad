//! Mute, speaker volume and the microphone level meter: atomics the GUI
//! sets and polls without locks, applied by the back end at the boundary of
//! its rings, so every back end (device, file, null) behaves the same.
//! Also what the media task and the back end tell each other: when the
//! device last took a frame, that a captured frame is ready, and whether
//! the other side has been heard.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// The level the meter shows for digital silence, in dBFS (below the
/// quietest non-zero 16-bit signal, -90.3 dBFS).
pub const METER_FLOOR_DBFS: f32 = -96.0;

/// Shared between the owner (GUI, command line) and the back end's
/// real-time side. Each value stands alone, so relaxed ordering suffices.
#[derive(Debug)]
pub struct AudioControls {
    muted: AtomicBool,
    volume: AtomicU8,
    /// `f32` bits of the RMS level of the last microphone frame, in dBFS.
    mic_level: AtomicU32,
    /// The origin of `last_pull`.
    epoch: Instant,
    /// When the device last took a frame from the playback ring, in
    /// nanoseconds after `epoch` plus one (0: never).
    last_pull: AtomicU64,
    /// The call's media has played a frame from the other side.
    far_end_heard: AtomicBool,
    /// Pulls that found less than the device asked for in the playback
    /// ring after sound had started: each one a gap of silence.
    underruns: AtomicU64,
    /// The playback ring has given sound (underruns count from then on).
    sounding: AtomicBool,
    /// The capture ring holds a whole frame: the media task sends it at
    /// once instead of at its next poll (whose phase against the device's
    /// clock would add up to a poll interval of delay, and as much jitter).
    captured: tokio::sync::Notify,
}

impl Default for AudioControls {
    fn default() -> Self {
        Self {
            muted: AtomicBool::new(false),
            volume: AtomicU8::new(100),
            mic_level: AtomicU32::new(METER_FLOOR_DBFS.to_bits()),
            epoch: Instant::now(),
            last_pull: AtomicU64::new(0),
            far_end_heard: AtomicBool::new(false),
            underruns: AtomicU64::new(0),
            sounding: AtomicBool::new(false),
            captured: tokio::sync::Notify::new(),
        }
    }
}

impl AudioControls {
    /// Muted, the call receives silence; the meter keeps measuring the
    /// microphone, so the GUI can say "you are talking while muted".
    pub fn set_muted(&self, muted: bool) {
        self.muted.store(muted, Ordering::Relaxed);
    }

    pub fn muted(&self) -> bool {
        self.muted.load(Ordering::Relaxed)
    }

    /// Speaker volume in percent of the received amplitude (clamped to
    /// 0..=100). It applies to what is heard, so also to `--record` files.
    pub fn set_volume(&self, percent: u8) {
        self.volume.store(percent.min(100), Ordering::Relaxed);
    }

    pub fn volume(&self) -> u8 {
        self.volume.load(Ordering::Relaxed)
    }

    /// RMS level of the last 20 ms microphone frame in dBFS (a full-scale
    /// sine reads -3 dBFS), never below [`METER_FLOOR_DBFS`].
    pub fn mic_level_dbfs(&self) -> f32 {
        f32::from_bits(self.mic_level.load(Ordering::Relaxed))
    }

    fn set_mic_level(&self, dbfs: f32) {
        self.mic_level.store(dbfs.to_bits(), Ordering::Relaxed);
    }

    /// When the device last took a frame from the playback ring (sound or,
    /// on an underrun, silence): the media task writes the next frame just
    /// before the device's next pull, one frame time later.
    pub fn last_pull(&self) -> Option<Instant> {
        match self.last_pull.load(Ordering::Relaxed) {
            0 => None,
            nanos => Some(self.epoch + Duration::from_nanos(nanos - 1)),
        }
    }

    fn mark_pull(&self, at: Instant) {
        let nanos = at.saturating_duration_since(self.epoch).as_nanos();
        let nanos = u64::try_from(nanos).unwrap_or(u64::MAX - 1);
        self.last_pull.store(nanos + 1, Ordering::Relaxed);
    }

    /// The call's media has played its first frame from the other side:
    /// the path is up both ways (a system's SBC forwards to a phone at home
    /// only once it has latched that phone's own packets).
    pub fn set_far_end_heard(&self) {
        self.far_end_heard.store(true, Ordering::Relaxed);
    }

    pub fn far_end_heard(&self) -> bool {
        self.far_end_heard.load(Ordering::Relaxed)
    }

    /// Pulls since the first sound that found the playback ring short: the
    /// media task wrote a frame after the device wanted it.
    pub fn underruns(&self) -> u64 {
        self.underruns.load(Ordering::Relaxed)
    }

    /// Resolves when the capture ring has held a whole frame since the
    /// last time it resolved (a notice given while nobody waits is kept).
    pub async fn frame_captured(&self) {
        self.captured.notified().await;
    }
}

/// The back end's end of the capture ring: meters, mutes, then pushes.
/// Allocation-free; called from audio callbacks.
pub(crate) struct CaptureSink {
    ring: rtrb::Producer<i16>,
    controls: Arc<AudioControls>,
    frame: usize,
    metered: usize,
    sum_squares: u64,
}

impl CaptureSink {
    pub(crate) fn new(
        ring: rtrb::Producer<i16>,
        controls: Arc<AudioControls>,
        frame: usize,
    ) -> Self {
        Self {
            ring,
            controls,
            frame: frame.max(1),
            metered: 0,
            sum_squares: 0,
        }
    }

    /// Pushes `samples` whole or not at all: when the media driver lags so
    /// far that the ring is full, the newest audio is dropped rather than
    /// splitting it.
    pub(crate) fn push(&mut self, samples: &[i16]) {
        samples.iter().for_each(|&sample| self.meter(sample));
        if self.ring.slots() < samples.len() {
            return;
        }
        let muted = self.controls.muted();
        for &sample in samples {
            let _ = self.ring.push(if muted { 0 } else { sample });
        }
        self.tell_if_a_frame_is_ready();
    }

    /// One frame of silence: what a lost or absent microphone sends.
    pub(crate) fn push_silence(&mut self) {
        if self.ring.slots() < self.frame {
            return;
        }
        for _ in 0..self.frame {
            self.meter(0);
            let _ = self.ring.push(0);
        }
        self.tell_if_a_frame_is_ready();
    }

    fn tell_if_a_frame_is_ready(&self) {
        if self.ring.buffer().capacity() - self.ring.slots() >= self.frame {
            self.controls.captured.notify_one();
        }
    }

    fn meter(&mut self, sample: i16) {
        let value = u64::from(sample.unsigned_abs());
        self.sum_squares += value * value;
        self.metered += 1;
        if self.metered == self.frame {
            let mean = self.sum_squares as f64 / self.frame as f64;
            let rms = mean.sqrt() / 32768.0;
            let dbfs = (20.0 * rms.log10()) as f32;
            self.controls.set_mic_level(dbfs.max(METER_FLOOR_DBFS));
            self.metered = 0;
            self.sum_squares = 0;
        }
    }
}

/// The back end's end of the playback ring: pops whole frames and applies
/// the speaker volume. Allocation-free; called from audio callbacks.
pub(crate) struct PlaybackSource {
    ring: rtrb::Consumer<i16>,
    controls: Arc<AudioControls>,
}

impl PlaybackSource {
    pub(crate) fn new(ring: rtrb::Consumer<i16>, controls: Arc<AudioControls>) -> Self {
        Self { ring, controls }
    }

    /// Fills `out` from the ring, or with silence when the ring holds less
    /// than `out.len()` samples: an underrun then delays the sound as a whole
    /// instead of cutting a frame in two. Returns whether sound came out.
    pub(crate) fn pull(&mut self, out: &mut [i16]) -> bool {
        self.controls.mark_pull(Instant::now());
        if self.ring.slots() < out.len() {
            out.fill(0);
            if self.controls.sounding.load(Ordering::Relaxed) {
                self.controls.underruns.fetch_add(1, Ordering::Relaxed);
            }
            return false;
        }
        if !self.controls.sounding.load(Ordering::Relaxed) {
            self.controls.sounding.store(true, Ordering::Relaxed);
        }
        let volume = i32::from(self.controls.volume());
        for slot in out.iter_mut() {
            let sample = i32::from(self.ring.pop().unwrap_or(0));
            // |sample * volume / 100| <= |sample|, so the cast cannot clip.
            *slot = (sample * volume / 100) as i16;
        }
        true
    }

    /// Drains and discards `count` samples: what a lost or absent speaker
    /// does, so the media driver's pushes keep finding room.
    pub(crate) fn discard(&mut self, count: usize) {
        self.controls.mark_pull(Instant::now());
        for _ in 0..count.min(self.ring.slots()) {
            let _ = self.ring.pop();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audio::tone::sine;

    fn sink(frame: usize) -> (CaptureSink, rtrb::Consumer<i16>, Arc<AudioControls>) {
        let controls = Arc::new(AudioControls::default());
        let (producer, consumer) = rtrb::RingBuffer::new(frame * 4);
        (
            CaptureSink::new(producer, Arc::clone(&controls), frame),
            consumer,
            controls,
        )
    }

    fn drain(ring: &mut rtrb::Consumer<i16>) -> Vec<i16> {
        std::iter::from_fn(|| ring.pop().ok()).collect()
    }

    #[test]
    fn meter_reads_rms_of_the_last_frame() {
        let (mut sink, _ring, controls) = sink(160);
        assert_eq!(controls.mic_level_dbfs(), METER_FLOOR_DBFS);
        sink.push(&sine(8000, 1000.0, 32767.0, 160));
        let level = controls.mic_level_dbfs();
        assert!(
            (level + 3.01).abs() < 0.1,
            "full-scale sine read {level} dBFS"
        );
        sink.push(&sine(8000, 1000.0, 3276.7, 160));
        let level = controls.mic_level_dbfs();
        assert!((level + 23.01).abs() < 0.1, "-20 dB sine read {level} dBFS");
        sink.push_silence();
        assert_eq!(controls.mic_level_dbfs(), METER_FLOOR_DBFS);
    }

    #[test]
    fn mute_sends_silence_but_keeps_metering() {
        let (mut sink, mut ring, controls) = sink(160);
        controls.set_muted(true);
        sink.push(&sine(8000, 1000.0, 10000.0, 160));
        assert!(controls.muted());
        assert!(drain(&mut ring).iter().all(|&s| s == 0));
        assert!(controls.mic_level_dbfs() > -15.0);
        controls.set_muted(false);
        let tone = sine(8000, 1000.0, 10000.0, 160);
        sink.push(&tone);
        assert_eq!(drain(&mut ring), tone);
    }

    /// Whether `frame_captured` resolves now (polled once, no runtime).
    fn frame_ready(controls: &AudioControls) -> bool {
        use std::future::Future as _;
        use std::task::{Context, Poll, Waker};
        let mut notice = std::pin::pin!(controls.frame_captured());
        let mut context = Context::from_waker(Waker::noop());
        notice.as_mut().poll(&mut context) == Poll::Ready(())
    }

    #[test]
    fn the_media_task_is_told_when_a_whole_frame_is_captured_not_before() {
        let (mut sink, mut ring, controls) = sink(160);
        sink.push(&[1; 100]);
        assert!(!frame_ready(&controls), "100 of 160 samples");
        sink.push(&[1; 60]);
        assert!(frame_ready(&controls), "a whole frame");
        assert!(!frame_ready(&controls), "told once");
        drain(&mut ring);
        sink.push_silence();
        assert!(frame_ready(&controls), "a frame of silence counts too");
    }

    #[test]
    fn a_full_ring_drops_the_newest_frame_whole() {
        let (mut sink, mut ring, _) = sink(4);
        for value in 1..=5 {
            sink.push(&[value; 4]);
        }
        let got = drain(&mut ring);
        assert_eq!(got.len(), 16);
        assert_eq!(got.last(), Some(&4));
    }

    #[test]
    fn volume_scales_playback_and_underrun_is_silent() {
        let controls = Arc::new(AudioControls::default());
        let (mut producer, consumer) = rtrb::RingBuffer::new(16);
        let mut source = PlaybackSource::new(consumer, Arc::clone(&controls));
        let mut out = [1i16; 4];
        for value in [1000, -1000, 32767, -32768] {
            let _ = producer.push(value);
        }
        controls.set_volume(50);
        assert!(source.pull(&mut out));
        assert_eq!(out, [500, -500, 16383, -16384]);
        controls.set_volume(250);
        assert_eq!(controls.volume(), 100);
        let _ = producer.push(7);
        assert!(!source.pull(&mut out), "3 samples short of a frame");
        assert_eq!(out, [0; 4]);
        source.discard(10);
        assert_eq!(producer.slots(), 16);
    }

    #[test]
    fn underruns_count_once_sound_has_started() {
        let controls = Arc::new(AudioControls::default());
        let (mut producer, consumer) = rtrb::RingBuffer::new(16);
        let mut source = PlaybackSource::new(consumer, Arc::clone(&controls));
        let mut out = [0i16; 4];
        assert!(!source.pull(&mut out), "nothing written yet");
        assert_eq!(controls.underruns(), 0, "before the first sound");
        for value in [1, 2, 3, 4, 5, 6] {
            let _ = producer.push(value);
        }
        assert!(source.pull(&mut out));
        assert!(!source.pull(&mut out), "2 samples short of a frame");
        assert!(!source.pull(&mut out));
        assert_eq!(controls.underruns(), 2);
        source.discard(4);
        assert_eq!(controls.underruns(), 2, "a lost device's drain is none");
    }

    #[test]
    fn every_pull_is_stamped_sound_or_not() {
        let controls = Arc::new(AudioControls::default());
        let (mut producer, consumer) = rtrb::RingBuffer::new(16);
        let mut source = PlaybackSource::new(consumer, Arc::clone(&controls));
        assert_eq!(controls.last_pull(), None);
        let before = Instant::now();
        assert!(!source.pull(&mut [0i16; 4]), "an underrun");
        let first = controls.last_pull().expect("stamped");
        assert!(first >= before && first <= Instant::now());
        for value in [1, 2, 3, 4] {
            let _ = producer.push(value);
        }
        assert!(source.pull(&mut [0i16; 4]));
        let second = controls.last_pull().expect("stamped");
        assert!(second >= first);
        source.discard(4);
        assert!(controls.last_pull().expect("stamped") >= second);
    }
}
