//! When the media task hands the sound device a frame.
//!
//! The device takes frames on its own clock; the media task looks at its
//! rings every [`POLL_INTERVAL`] and plays out a frame from the jitter
//! buffer as soon as the playback ring holds less than one frame, i.e.
//! right after the device took the last one. So a frame waits in the ring
//! one device period at most, without a prefill of silence, and the ring
//! never builds up: a device that consumes slower than the stream arrives
//! shows up as jitter-buffer delay, which the buffer shrinks.
//!
//! The jitter buffer needs a steady playout clock, not the poll's jittery
//! wake-ups: each frame is played out at the previous one's time plus the
//! packet time, whatever the device's wake-ups do. When that clock falls
//! [`DEVICE_SLACK_FRAMES`] packet times behind "now" (the device took
//! nothing: gone or stalled; or this task was starved), the frames due
//! meanwhile are played out and discarded, so the stream's timeline goes on
//! in real time; after a stall longer than [`MAX_CATCH_UP`] the clock
//! restarts at "now".

use std::time::{Duration, Instant};

/// How often the media task looks at the device's rings: a captured frame
/// waits at most this long to be sent, and the device's playback ring is
/// topped up at most this long after it ran below a frame.
pub const POLL_INTERVAL: Duration = Duration::from_millis(5);

/// Behind (or ahead) by this much or more, the playout clock restarts at
/// "now" instead of discarding (or stretching) the frames in between.
pub const MAX_CATCH_UP: Duration = Duration::from_millis(200);

/// Packet times a device may fall behind the playout clock before frames
/// are discarded for it. Device clocks wake late now and then and catch up
/// in a burst; discarding at once would cut 20 ms out of the speech each
/// time (and a clock snapped back to "now" afterwards would stretch it).
pub const DEVICE_SLACK_FRAMES: u32 = 3;

/// What to do with the next frame of the stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pace {
    /// Play out a frame at `at` and write it into the playback ring.
    Play { at: Instant },
    /// The device has taken nothing for a whole packet time past due: play
    /// out the frame at `at` and discard it.
    Discard { at: Instant },
    /// The device still holds a frame.
    Wait,
}

/// Paces the playout of one call's stream to its sound device.
#[derive(Debug, Clone)]
pub struct PlayoutPacer {
    ptime: Duration,
    frame_samples: usize,
    /// The playout time of the next frame.
    next: Option<Instant>,
}

impl PlayoutPacer {
    /// A pacer for frames of `frame_samples` samples lasting `ptime`.
    pub fn new(ptime: Duration, frame_samples: usize) -> Self {
        Self {
            ptime,
            frame_samples,
            next: None,
        }
    }

    /// What to do at `now`, with `queued` samples in the playback ring.
    /// Call again until [`Pace::Wait`]: after a stall, the frames the
    /// device missed come one [`Pace::Discard`] at a time.
    pub fn poll(&mut self, now: Instant, queued: usize) -> Pace {
        let next = match self.next {
            // A long stall, or a device far faster than real time: restart
            // the clock rather than discard (or stretch) a burst.
            Some(next) if now >= next + MAX_CATCH_UP || next >= now + MAX_CATCH_UP => now,
            Some(next) => next,
            None => now,
        };
        if now >= next + self.ptime * DEVICE_SLACK_FRAMES {
            self.next = Some(next + self.ptime);
            return Pace::Discard { at: next };
        }
        if queued < self.frame_samples {
            self.next = Some(next + self.ptime);
            return Pace::Play { at: next };
        }
        self.next = Some(next);
        Pace::Wait
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PTIME: Duration = Duration::from_millis(20);
    const FRAME: usize = 160;

    fn ms(origin: Instant, ms: u64) -> Instant {
        origin + Duration::from_millis(ms)
    }

    #[test]
    fn a_frame_is_played_as_soon_as_the_ring_runs_below_one_and_not_before() {
        let origin = Instant::now();
        let mut pacer = PlayoutPacer::new(PTIME, FRAME);
        assert_eq!(pacer.poll(origin, 0), Pace::Play { at: origin });
        assert_eq!(pacer.poll(ms(origin, 5), FRAME), Pace::Wait);
        assert_eq!(pacer.poll(ms(origin, 10), FRAME), Pace::Wait);
        // The device took the frame at 18 ms; the next poll sees it.
        assert_eq!(
            pacer.poll(ms(origin, 20), FRAME / 2),
            Pace::Play { at: ms(origin, 20) }
        );
    }

    #[test]
    fn the_playout_clock_stays_steady_while_the_polls_jitter() {
        let origin = Instant::now();
        let mut pacer = PlayoutPacer::new(PTIME, FRAME);
        assert_eq!(pacer.poll(origin, 0), Pace::Play { at: origin });
        // Wake-ups 4 ms late and 3 ms early play at 20 ms steps all the same.
        for (k, wake) in [(1, 24), (2, 37), (3, 64), (4, 80)] {
            assert_eq!(
                pacer.poll(ms(origin, wake), 0),
                Pace::Play {
                    at: ms(origin, 20 * k)
                }
            );
        }
    }

    #[test]
    fn the_clock_restarts_after_a_stall_longer_than_the_catch_up() {
        let origin = Instant::now();
        let mut pacer = PlayoutPacer::new(PTIME, FRAME);
        pacer.poll(origin, 0);
        // The device resumed after a stall: no frame was discarded because
        // the ring was full, then it drained at 300 ms.
        assert_eq!(
            pacer.poll(ms(origin, 300), 0),
            Pace::Play {
                at: ms(origin, 300)
            }
        );
    }

    #[test]
    fn after_a_short_stall_the_missed_frames_beyond_the_slack_are_discarded_then_one_plays() {
        let origin = Instant::now();
        let mut pacer = PlayoutPacer::new(PTIME, FRAME);
        pacer.poll(origin, 0);
        // Starved for 100 ms: the device drained its ring meanwhile.
        let now = ms(origin, 105);
        let mut paces = Vec::new();
        loop {
            let pace = pacer.poll(now, 0);
            paces.push(pace);
            if !matches!(pace, Pace::Discard { .. }) {
                break;
            }
        }
        let discarded: Vec<_> = [20, 40].map(|t| Pace::Discard { at: ms(origin, t) }).into();
        assert_eq!(paces[..2], discarded[..]);
        assert_eq!(paces[2..], [Pace::Play { at: ms(origin, 60) }]);
    }

    #[test]
    fn a_device_waking_late_and_catching_up_in_a_burst_keeps_the_clock_and_every_frame() {
        let origin = Instant::now();
        let mut pacer = PlayoutPacer::new(PTIME, FRAME);
        pacer.poll(origin, 0);
        // The device misses its 20 and 40 ms wake-ups, then takes three
        // frames at 55 ms, one per poll of ours.
        assert_eq!(pacer.poll(ms(origin, 30), FRAME), Pace::Wait);
        assert_eq!(pacer.poll(ms(origin, 45), FRAME), Pace::Wait);
        for k in 1..=3 {
            assert_eq!(
                pacer.poll(ms(origin, 55), 0),
                Pace::Play {
                    at: ms(origin, 20 * k)
                }
            );
        }
        // Ahead of real time now, the clock stays steady.
        assert_eq!(
            pacer.poll(ms(origin, 60), 0),
            Pace::Play { at: ms(origin, 80) }
        );
    }

    #[test]
    fn a_device_far_faster_than_real_time_does_not_run_the_clock_away() {
        let origin = Instant::now();
        let mut pacer = PlayoutPacer::new(PTIME, FRAME);
        for _ in 0..100 {
            match pacer.poll(origin, 0) {
                Pace::Play { at } => assert!(at < origin + MAX_CATCH_UP, "{:?}", at - origin),
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn a_device_that_takes_nothing_still_advances_the_stream_a_frame_per_packet_time() {
        let origin = Instant::now();
        let mut pacer = PlayoutPacer::new(PTIME, FRAME);
        pacer.poll(origin, 0);
        let mut discarded = Vec::new();
        for wake in (5..=100).step_by(5) {
            match pacer.poll(ms(origin, wake), FRAME) {
                Pace::Discard { at } => discarded.push(at.duration_since(origin)),
                Pace::Wait => {}
                Pace::Play { .. } => panic!("the ring is full"),
            }
        }
        // Frames due at 20 and 40 ms were each discarded three packet
        // times late.
        let expected: Vec<_> = [20, 40].into_iter().map(Duration::from_millis).collect();
        assert_eq!(discarded, expected);
    }
}
