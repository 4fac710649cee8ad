//! The adaptive jitter buffer of one received RTP stream.
//!
//! Packets go in as they arrive ([`JitterBuffer::insert`]); the consumer's
//! playout clock takes one frame out per packet time ([`JitterBuffer::pop`]).
//! Packets are kept in extended sequence number order (wrap-safe), and
//! played by timestamp: each pop plays the packet whose frame starts next.
//! A duplicate is dropped, as is a packet whose frame has already been
//! played or concealed (*late*, counted). Memory is bounded by
//! `max_packets`, and a packet far outside the stream's timeline (a stray,
//! or a sender that restarted its numbering) is discarded unless the next
//! packet confirms the new timeline, which then restarts the buffer
//! (RFC 3550 §A.1 probation, two packets in sequence).
//!
//! Playout delay: the buffer measures, at each pop, how long after the
//! fastest path the frame plays (`current`), and compares it with the
//! target of its delay estimator (`delay.rs`). Below the target (by more
//! than a small dead band) it *stretches*: plays a concealed frame without
//! consuming one, so the delay grows by a frame at every pop until it is
//! reached (fast). A frame or more above it (and the dead band), it drops
//! one frame, at most once per `shrink_interval` (slow), preferring a
//! frame that is missing anyway. In silence (nothing
//! to play for `idle_after`, a timestamp jump without a sequence gap, a
//! DTMF event) it stops and restarts at the next packet exactly at the
//! target delay, which both grows and shrinks at no cost.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use super::delay::DelayEstimator;
use super::error::MediaError;
use super::seq::{SeqWindow, extend_seq, extend_ts};

mod config;

pub use config::JitterConfig;

/// The largest payload kept (60 ms of Opus at its highest rate fits).
const MAX_PAYLOAD: usize = 4096;
/// RFC 3550 §A.1: a sequence number this far ahead, or `MAX_MISORDER`
/// behind, is another timeline rather than loss or reordering.
const MAX_DROPOUT: i64 = 3000;
const MAX_MISORDER: i64 = 100;
/// A frame concealed because its packet was not here counts as lost (for
/// `min_delay_after_loss`) once its packet has not come for this long: one
/// that comes later was late, which the delay estimate answers on its own.
const LOSS_CONFIRMED_AFTER_US: i64 = 100_000;
/// The most concealed frames awaiting their packet; beyond, the oldest
/// counts as lost at once.
const MAX_AWAITED: usize = 32;
/// How far the measured delay may stray below the target before the
/// buffer stretches, and above a frame over it before it drops one. With
/// the consumer's clock in phase with its device, two devices whose clocks
/// are nearly in phase (two phones on one machine, say) put the delay
/// right at the target, where a fraction of a millisecond of measurement
/// noise (the fastest transit moving as the history slides) would
/// otherwise stretch and drop a frame of speech in turn, once a second.
/// Not below what a late packet called for (that one came after its frame
/// played, and the next like it must not), nor below the least delay
/// after a loss (Opus FEC needs the next packet in hand).
const DEAD_BAND_US: i64 = 3_000;

/// What became of an inserted packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Insert {
    /// Kept for playout.
    Accepted,
    /// Already held or played: dropped.
    Duplicate,
    /// Its frame was already played or concealed: dropped (and the target
    /// delay raised).
    Late,
    /// Outside the timeline or over capacity: dropped.
    Discarded,
}

/// What to play for one frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pop<'a> {
    /// The frame's payload, to decode.
    Frame(&'a [u8]),
    /// The frame's packet is missing (lost or late): conceal it, from the
    /// next frame's packet when it is here (`next`, for Opus FEC).
    Missing {
        /// The payload of the frame after the missing one.
        next: Option<&'a [u8]>,
    },
    /// Delay is growing: play a concealed frame; no packet is consumed.
    Stretch,
    /// Nothing to play: silence, not a loss.
    Silence,
}

/// Counters of a [`JitterBuffer`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct JitterStats {
    /// Packets that came after their frame was played or concealed.
    pub late: u64,
    /// Packets dropped as duplicates.
    pub duplicates: u64,
    /// Packets dropped outside the timeline or over capacity.
    pub discarded: u64,
    /// Concealed frames inserted to grow the delay.
    pub stretched: u64,
    /// Frames dropped to shrink the delay.
    pub dropped: u64,
    /// Restarts on a new timeline.
    pub resyncs: u64,
}

#[derive(Debug, Clone)]
struct Packet {
    seq: i64,
    ts: i64,
    payload: Vec<u8>,
}

/// The adaptive jitter buffer. See the module documentation.
#[derive(Debug, Clone)]
pub struct JitterBuffer {
    config: JitterConfig,
    clock_rate: i64,
    frame_ts: i64,
    frame_us: i64,
    epoch: Option<Instant>,
    /// Held packets, by extended sequence number.
    packets: VecDeque<Packet>,
    /// Payload buffers for reuse, so steady state allocates nothing.
    pool: Vec<Vec<u8>>,
    /// The payload of the frame last popped.
    current: Vec<u8>,
    /// References for extending sequence numbers and timestamps.
    seq_ref: Option<i64>,
    ts_ref: Option<i64>,
    seen: SeqWindow,
    playing: bool,
    /// Timestamp of the next frame to play; frames before it are late.
    next_ts: Option<i64>,
    /// Sequence number of the last packet played.
    last_seq: Option<i64>,
    delay: DelayEstimator,
    target_us: i64,
    current_us: i64,
    /// Frames missed in a row with nothing held.
    misses: u32,
    /// Whether a packet was lost: the least delay is `min_delay_after_loss`
    /// from then on.
    losses: LossWatch,
    /// Frames before this timestamp are a DTMF event, not loss.
    silent_until: Option<i64>,
    last_shrink: Option<i64>,
    /// A packet outside the timeline: (sequence number, transit).
    far: Option<(i64, i64)>,
    stats: JitterStats,
}

fn micros(duration: Duration) -> i64 {
    i64::try_from(duration.as_micros()).unwrap_or(i64::MAX)
}

impl JitterBuffer {
    /// A buffer for a stream whose timestamps count at `clock_rate` Hz and
    /// whose packets last `frame_ts` timestamp units each.
    pub fn new(config: JitterConfig, clock_rate: u32, frame_ts: u32) -> Result<Self, MediaError> {
        config.validate()?;
        if clock_rate == 0 || frame_ts == 0 {
            return Err(MediaError::BadJitterConfig("empty frames or clock"));
        }
        let clock_rate = i64::from(clock_rate);
        let frame_ts = i64::from(frame_ts);
        let decay = micros(config.peak_decay_per_second);
        Ok(Self {
            config,
            clock_rate,
            frame_ts,
            frame_us: frame_ts * 1_000_000 / clock_rate,
            epoch: None,
            packets: VecDeque::with_capacity(config.max_packets),
            pool: Vec::new(),
            current: Vec::new(),
            seq_ref: None,
            ts_ref: None,
            seen: SeqWindow::default(),
            playing: false,
            next_ts: None,
            last_seq: None,
            delay: DelayEstimator::new(config.history, config.quantile, decay),
            target_us: micros(config.min_delay),
            current_us: 0,
            misses: 0,
            losses: LossWatch::new(),
            silent_until: None,
            last_shrink: None,
            far: None,
            stats: JitterStats::default(),
        })
    }

    /// The playout delay beyond the fastest path, as last measured.
    pub fn current_delay(&self) -> Duration {
        Duration::from_micros(u64::try_from(self.current_us).unwrap_or(0))
    }

    /// The playout delay the buffer aims for.
    pub fn target_delay(&self) -> Duration {
        Duration::from_micros(u64::try_from(self.target_us).unwrap_or(0))
    }

    /// The counters.
    pub fn stats(&self) -> JitterStats {
        self.stats
    }

    /// Packets held.
    pub fn len(&self) -> usize {
        self.packets.len()
    }

    /// True when no packet is held.
    pub fn is_empty(&self) -> bool {
        self.packets.is_empty()
    }

    /// Forgets the stream (a new source): packets, timeline and delay
    /// history. The counters stay.
    pub fn reset(&mut self) {
        while let Some(packet) = self.packets.pop_front() {
            self.recycle(packet.payload);
        }
        self.seq_ref = None;
        self.ts_ref = None;
        self.seen.clear();
        self.playing = false;
        self.next_ts = None;
        self.last_seq = None;
        self.delay.clear();
        self.misses = 0;
        self.losses.forget_awaited();
        self.silent_until = None;
        self.far = None;
    }

    /// Marks `duration` timestamp units from `ts` as a DTMF event: frames
    /// missing there are silence, not loss.
    pub fn mark_silent(&mut self, ts: u32, duration: u32) {
        let start = self.ts_ref.map_or(i64::from(ts), |r| extend_ts(r, ts));
        let end = start + i64::from(duration);
        self.silent_until = Some(self.silent_until.map_or(end, |until| until.max(end)));
    }

    /// Offers a packet that arrived at `now`.
    pub fn insert(&mut self, now: Instant, seq: u16, ts: u32, payload: &[u8]) -> Insert {
        let now_us = self.clock(now);
        if payload.len() > MAX_PAYLOAD {
            self.stats.discarded += 1;
            return Insert::Discarded;
        }
        let (mut ext_seq, mut ext_ts) = self.extend(seq, ts);
        let mut transit = now_us - self.media_us(ext_ts);
        if self.is_far(ext_seq, transit) {
            match self.far {
                Some((candidate, candidate_transit))
                    if ext_seq == candidate + 1
                        && (transit - candidate_transit).abs() <= self.far_limit() =>
                {
                    self.reset();
                    self.stats.resyncs += 1;
                    (ext_seq, ext_ts) = self.extend(seq, ts);
                    transit = now_us - self.media_us(ext_ts);
                }
                _ => {
                    self.far = Some((ext_seq, transit));
                    self.stats.discarded += 1;
                    return Insert::Discarded;
                }
            }
        }
        self.far = None;
        let position = self.packets.binary_search_by_key(&ext_seq, |p| p.seq);
        if !self.seen.insert(ext_seq) || position.is_ok() {
            self.stats.duplicates += 1;
            return Insert::Duplicate;
        }
        if self.next_ts.is_some_and(|next| ext_ts < next) {
            self.losses.came_late(ext_ts);
            self.delay.record(transit);
            self.delay.late(transit, now_us);
            self.stats.late += 1;
            return Insert::Late;
        }
        let Err(position) = position else {
            return Insert::Duplicate;
        };
        if self.packets.len() >= self.config.max_packets {
            self.stats.discarded += 1;
            return Insert::Discarded;
        }
        self.delay.record(transit);
        if self.seq_ref.is_none_or(|r| ext_seq > r) {
            self.seq_ref = Some(ext_seq);
            self.ts_ref = Some(ext_ts);
        }
        let mut buffer = self.pool.pop().unwrap_or_default();
        buffer.extend_from_slice(payload);
        self.packets.insert(
            position,
            Packet {
                seq: ext_seq,
                ts: ext_ts,
                payload: buffer,
            },
        );
        Insert::Accepted
    }

    /// Takes what to play for the frame that starts at `now`, on the
    /// consumer's playout clock (once per packet time).
    pub fn pop(&mut self, now: Instant) -> Pop<'_> {
        let now_us = self.clock(now);
        self.losses.confirm(now_us);
        let floor = if self.losses.lost_one {
            self.config.min_delay.max(self.config.min_delay_after_loss)
        } else {
            self.config.min_delay
        };
        self.target_us = self
            .delay
            .target(now_us, micros(floor), micros(self.config.max_delay));
        let base = self.delay.base().unwrap_or(0);
        if !self.playing {
            let Some(front) = self.packets.front() else {
                return Pop::Silence;
            };
            let current = now_us - self.media_us(front.ts) - base;
            if current < self.target_us && self.packets.len() < self.config.max_packets {
                return Pop::Silence;
            }
            self.current_us = current;
            self.playing = true;
            self.next_ts = Some(front.ts);
            self.misses = 0;
            return self.play_slot(now_us);
        }
        let next = self.next_ts.unwrap_or(0);
        let current = now_us - self.media_us(next) - base;
        self.current_us = current;
        if current < self.stretch_below(floor) && !self.packets.is_empty() {
            self.stats.stretched += 1;
            return Pop::Stretch;
        }
        let may_shrink = self
            .last_shrink
            .is_none_or(|at| now_us - at >= micros(self.config.shrink_interval));
        if current - self.frame_us >= self.target_us + DEAD_BAND_US && may_shrink {
            self.last_shrink = Some(now_us);
            self.stats.dropped += 1;
            if self
                .packets
                .front()
                .is_some_and(|p| p.ts < next + self.frame_ts)
                && let Some(packet) = self.packets.pop_front()
            {
                self.last_seq = Some(packet.seq);
                self.recycle(packet.payload);
            }
            self.next_ts = Some(next + self.frame_ts);
        }
        self.play_slot(now_us)
    }

    /// Below this delay (µs) a pop stretches: the target less the dead
    /// band, but never below what a late packet called for, nor below a
    /// least delay `floor` that a loss raised over the clean path's.
    fn stretch_below(&self, floor: Duration) -> i64 {
        let after_loss = if floor > self.config.min_delay {
            micros(floor)
        } else {
            0
        };
        let called_for = self.delay.late_peak().max(after_loss);
        (self.target_us - DEAD_BAND_US).max(called_for.min(self.target_us))
    }

    /// Plays the frame at `next_ts` (`playing` is set).
    fn play_slot(&mut self, now_us: i64) -> Pop<'_> {
        let next = self.next_ts.unwrap_or(0);
        while self.packets.front().is_some_and(|p| p.ts < next) {
            if let Some(stale) = self.packets.pop_front() {
                self.stats.late += 1;
                self.losses.came_late(stale.ts);
                self.recycle(stale.payload);
            }
        }
        let following = next + self.frame_ts;
        if self.packets.front().is_some_and(|p| p.ts < following)
            && let Some(packet) = self.packets.pop_front()
        {
            let played = std::mem::replace(&mut self.current, packet.payload);
            self.recycle(played);
            self.next_ts = Some(packet.ts + self.frame_ts);
            self.last_seq = Some(packet.seq);
            self.misses = 0;
            return Pop::Frame(&self.current);
        }
        self.next_ts = Some(following);
        if self.silent_until.is_some_and(|until| next < until) {
            self.playing = !self.packets.is_empty();
            return Pop::Silence;
        }
        if let Some(front) = self.packets.front() {
            // A timestamp gap with no sequence gap: the sender paused (DTX).
            if self.last_seq.is_some_and(|last| front.seq == last + 1) {
                self.playing = false;
                return Pop::Silence;
            }
            self.losses.await_packet(next, now_us);
            let next = (front.ts < following + self.frame_ts).then_some(front.payload.as_slice());
            return Pop::Missing { next };
        }
        self.misses += 1;
        self.losses.await_packet(next, now_us);
        if i64::from(self.misses) * self.frame_us > micros(self.config.idle_after) {
            self.playing = false;
            return Pop::Silence;
        }
        Pop::Missing { next: None }
    }

    fn clock(&mut self, now: Instant) -> i64 {
        let epoch = *self.epoch.get_or_insert(now);
        micros(now.saturating_duration_since(epoch))
    }

    fn media_us(&self, ts: i64) -> i64 {
        ts.saturating_mul(1_000_000).div_euclid(self.clock_rate)
    }

    fn extend(&self, seq: u16, ts: u32) -> (i64, i64) {
        (
            self.seq_ref.map_or(i64::from(seq), |r| extend_seq(r, seq)),
            self.ts_ref.map_or(i64::from(ts), |r| extend_ts(r, ts)),
        )
    }

    /// How far a transit may stray from the fastest path before the packet
    /// counts as another timeline: well beyond any delay worth waiting for.
    fn far_limit(&self) -> i64 {
        micros(self.config.max_delay)
            .saturating_mul(4)
            .max(2_000_000)
    }

    fn is_far(&mut self, ext_seq: i64, transit: i64) -> bool {
        let seq_far = self
            .seq_ref
            .is_some_and(|r| ext_seq - r > MAX_DROPOUT || r - ext_seq > MAX_MISORDER);
        seq_far || self.delay.excess(transit).abs() > self.far_limit()
    }

    fn recycle(&mut self, mut buffer: Vec<u8>) {
        if self.pool.len() < self.config.max_packets {
            buffer.clear();
            self.pool.push(buffer);
        }
    }
}

/// Which concealed frames' packets never came: a packet that comes after
/// its frame was concealed was late, not lost.
#[derive(Debug, Clone)]
struct LossWatch {
    /// A packet was lost.
    lost_one: bool,
    /// Frames concealed whose packet has not come (yet): (timestamp, when
    /// concealed, µs on the buffer's clock).
    awaited: VecDeque<(i64, i64)>,
}

impl LossWatch {
    /// Sized once: concealing allocates nothing.
    fn new() -> Self {
        Self {
            lost_one: false,
            awaited: VecDeque::with_capacity(MAX_AWAITED),
        }
    }

    /// The frame at `ts` was concealed at `now_us`: lost, unless its
    /// packet still comes.
    fn await_packet(&mut self, ts: i64, now_us: i64) {
        if self.awaited.len() >= MAX_AWAITED {
            self.awaited.pop_front();
            self.lost_one = true;
        }
        self.awaited.push_back((ts, now_us));
    }

    /// The packet of the frame at `ts` came after its frame was played or
    /// concealed: late, not lost.
    fn came_late(&mut self, ts: i64) {
        self.awaited.retain(|&(awaited, _)| awaited != ts);
    }

    /// Frames whose packet has not come for [`LOSS_CONFIRMED_AFTER_US`]
    /// were lost.
    fn confirm(&mut self, now_us: i64) {
        while self
            .awaited
            .front()
            .is_some_and(|&(_, at)| now_us - at >= LOSS_CONFIRMED_AFTER_US)
        {
            self.awaited.pop_front();
            self.lost_one = true;
        }
    }

    /// A new timeline: its frames are awaited no more (what was lost
    /// stays lost).
    fn forget_awaited(&mut self) {
        self.awaited.clear();
    }
}

#[cfg(test)]
mod tests;
