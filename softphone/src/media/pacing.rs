//! When the media task hands the sound device a frame.
//!
//! The device takes frames on its own clock, one per packet time, and
//! stamps each pull (`AudioControls::last_pull`). The media task takes the
//! next frame from the jitter buffer and writes it into the playback ring
//! just before the device's next pull ([`Pace::Hold`] until then), not
//! right after the last one: the frame waits in the ring a few
//! milliseconds instead of a whole packet time, and the jitter buffer has
//! those milliseconds longer for the frame's packet to arrive.
//!
//! The next pull is predicted on the device's own clock, not from the last
//! pull's stamp ([`PullGrid`]): a device thread or callback that wakes late
//! takes its frame late, but the pull after it comes on time, one packet
//! time after the late one was *due*. Predicted from the late stamp, that
//! frame would be written after the pull: a frame of silence in the middle
//! of the speech. The lead
//! over the pull adapts: [`MIN_LEAD`] plus the latest the media task woke
//! recently (for a write or a poll: a busy machine wakes it late) and the
//! earliest a pull came before its predicted time (an underrun would cost
//! a frame of silence and a frame of delay). Without a pull to
//! go by (the first frame, a stalled device), the frame is written as soon
//! as the ring holds less than one.
//!
//! The jitter buffer needs a steady playout clock, not the device's or the
//! task's jittery wake-ups, and one in phase with the writes: it decides
//! which frame to play (or to conceal, when its packet is not here) by how
//! long after the packet's fastest arrival the frame plays, so a clock
//! whose phase is arbitrary against the writes hides up to a packet time
//! of delay from it (the frame then waits that long in the buffer beyond
//! what the buffer aims for). So the first frame held for a pull plays out
//! at that pull minus [`MIN_LEAD`], the moment it is written while the
//! media task wakes on time; each later one at the previous one's time plus
//! the packet time, moved towards its own pull minus [`MIN_LEAD`] by at
//! most [`PHASE_FOLLOW_PER_FRAME`]: that follows a device clock drifting
//! against ours, and stays steady for a device whose pulls come unevenly
//! (a callback of another size than a frame takes one frame in most
//! callbacks and two in some: the clock settles on the earliest phase of
//! that pattern, by the rule below). Without pulls to go by, each frame
//! plays out at the previous one's time plus the packet time.
//!
//! Whatever the clock says, a frame never plays out later than it is
//! written: the buffer takes what has come by then, so a playout time
//! still to come would count as in time a packet that is not here, and
//! the buffer would conceal frame after frame while measuring delay to
//! spare (a device that opens by pulling several frames at once, or a
//! lead widened for a busy machine, put the steady clock ahead of the
//! writes). A frame written early plays out at its write; the clock goes
//! on from there. When that clock falls
//! [`DEVICE_SLACK_FRAMES`] packet times behind "now" (the device took
//! nothing: gone or stalled; or this task was starved), the frames due
//! meanwhile are played out and discarded, so the stream's timeline goes on
//! in real time; after a stall longer than [`MAX_CATCH_UP`] the clock
//! restarts at "now".

use std::time::{Duration, Instant};

/// How often the media task looks at the device's rings: a captured frame
/// waits at most this long to be sent.
pub const POLL_INTERVAL: Duration = Duration::from_millis(5);

/// Behind (or ahead) by this much or more, the playout clock restarts at
/// "now" instead of discarding (or stretching) the frames in between.
pub const MAX_CATCH_UP: Duration = Duration::from_millis(200);

/// Packet times a device may fall behind the playout clock before frames
/// are discarded for it. Device clocks wake late now and then and catch up
/// in a burst; discarding at once would cut 20 ms out of the speech each
/// time (and a clock snapped back to "now" afterwards would stretch it).
pub const DEVICE_SLACK_FRAMES: u32 = 3;

/// The least time a frame is written before the device's predicted pull:
/// the timer's resolution (1 ms, and a sleep wakes up to 2 ms late) and the
/// stalls of a few milliseconds a busy machine gives any thread now and
/// then; a late wake-up seen widens the lead on top of it
/// ([`PlayoutPacer::lead`]). At 3 ms, one real-time PESQ call in two lost
/// a frame to such a stall on an idle 2-core machine (a debug build); at
/// 8 ms none of 16; at 6 ms one underrun in 35 streams over five rounds
/// of the real-time PESQ tests (a debug build, other calls and a PESQ
/// replay running alongside; session 9, BENCHMARKS.md), and each frame
/// waits 2 ms less in the ring.
pub const MIN_LEAD: Duration = Duration::from_millis(6);

/// How fast a late wake-up or an early pull stops counting in the lead:
/// this much per second.
const PEAK_DECAY_PER_SECOND: Duration = Duration::from_millis(2);

/// How far one late pull moves the predicted clock later: enough to follow
/// a device clock slower than ours (5 ms a second), too little for one late
/// wake-up to move the prediction past the next on-time pull.
const GRID_FOLLOW_PER_PULL: Duration = Duration::from_micros(100);

/// How far the playout clock moves towards the device's pulls per frame,
/// once in phase: 1 ms a second, well beyond two clocks' drift, and too
/// little for uneven pulls to shake the jitter buffer's delay measurement.
const PHASE_FOLLOW_PER_FRAME: Duration = Duration::from_micros(20);

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
    /// The device took the last frame; poll again at `until`, just before
    /// its next pull, to write the next one.
    Hold { until: Instant },
}

/// Paces the playout of one call's stream to its sound device.
#[derive(Debug, Clone)]
pub struct PlayoutPacer {
    ptime: Duration,
    frame_samples: usize,
    /// The playout time of the next frame.
    next: Option<Instant>,
    /// When the device's pulls are due.
    grid: PullGrid,
    /// The hold last given.
    held: Option<Held>,
    /// The playout clock was put in phase with the device's pulls (since
    /// it last restarted).
    phased: bool,
    /// How late the media task recently woke (for a write or a poll).
    late: Peak,
    /// How much earlier than one packet time after the previous pull
    /// recent pulls came.
    early: Peak,
}

impl PlayoutPacer {
    /// A pacer for frames of `frame_samples` samples lasting `ptime`.
    pub fn new(ptime: Duration, frame_samples: usize) -> Self {
        Self {
            ptime,
            frame_samples,
            next: None,
            grid: PullGrid::default(),
            held: None,
            phased: false,
            late: Peak::default(),
            early: Peak::default(),
        }
    }

    /// How long before the device's predicted pull a frame is written now.
    pub fn lead(&self) -> Duration {
        (MIN_LEAD + self.late.value + self.early.value).min(self.ptime)
    }

    /// The media task woke at `now` for a wake-up due at `due`: a late
    /// one widens the lead for a while.
    pub fn woke(&mut self, now: Instant, due: Instant) {
        self.late.record(now, now.saturating_duration_since(due));
    }

    /// What to do at `now`, with `queued` samples in the playback ring and
    /// the device's last pull at `last_pull`. Call again until
    /// [`Pace::Wait`] or [`Pace::Hold`]: after a stall, the frames the
    /// device missed come one [`Pace::Discard`] at a time.
    pub fn poll(&mut self, now: Instant, queued: usize, last_pull: Option<Instant>) -> Pace {
        self.observe_pull(last_pull);
        let next = match self.next {
            // A long stall, or a device far faster than real time: restart
            // the clock rather than discard (or stretch) a burst.
            Some(next) if now >= next + MAX_CATCH_UP || next >= now + MAX_CATCH_UP => {
                self.phased = false;
                now
            }
            Some(next) => next,
            None => now,
        };
        if now >= next + self.ptime * DEVICE_SLACK_FRAMES {
            self.next = Some(next + self.ptime);
            return Pace::Discard { at: next };
        }
        if queued >= self.frame_samples {
            self.next = Some(next);
            return Pace::Wait;
        }
        if let Some(pull) = self.grid.next(self.ptime) {
            let due = pull.checked_sub(self.lead()).unwrap_or(pull);
            if now < due {
                self.next = Some(next);
                self.held = Some(Held { until: due, pull });
                return Pace::Hold { until: due };
            }
        }
        let at = match self.held.take() {
            Some(held) => {
                self.woke(now, held.until);
                self.in_phase(next, held.pull)
            }
            None => next,
        };
        // Never a time still to come: the jitter buffer would count a
        // packet that has not come yet as in time, and conceal its frame
        // while it measures delay to spare.
        let at = at.min(now);
        self.next = Some(at + self.ptime);
        Pace::Play { at }
    }

    /// The playout time of a frame held for `pull`, whose steady time is
    /// `steady`: `pull` minus [`MIN_LEAD`] the first time, then `steady`
    /// moved towards the pulls' phase by [`PHASE_FOLLOW_PER_FRAME`] at
    /// most. The phase, not this pull: after an underrun (a frame written
    /// after the pull it was for) every frame makes the pull after its
    /// own, a whole packet time later, and following that would have the
    /// jitter buffer drop a frame of speech seconds later to take the
    /// packet time back: a second glitch for the first one.
    fn in_phase(&mut self, steady: Instant, pull: Instant) -> Instant {
        let aligned = pull.checked_sub(MIN_LEAD).unwrap_or(pull);
        if !self.phased {
            self.phased = true;
            return aligned;
        }
        // How far the pulls' phase is from the clock's, within half a
        // packet time either way.
        let apart = aligned.saturating_duration_since(steady).as_secs_f64()
            - steady.saturating_duration_since(aligned).as_secs_f64();
        let ptime = self.ptime.as_secs_f64();
        let offset = apart - ptime * (apart / ptime).round();
        let step = Duration::from_secs_f64(offset.abs()).min(PHASE_FOLLOW_PER_FRAME);
        if offset >= 0.0 {
            steady + step
        } else {
            steady.checked_sub(step).unwrap_or(steady)
        }
    }

    /// Learns from a new pull when the device's pulls are due, and how
    /// early one came against the prediction.
    fn observe_pull(&mut self, last_pull: Option<Instant>) {
        if let Some(pull) = last_pull
            && let Some(early) = self.grid.observe(pull, self.ptime)
        {
            self.early.record(pull, early);
        }
    }
}

/// A frame held for the device's next pull.
#[derive(Debug, Clone, Copy)]
struct Held {
    /// When to write it.
    until: Instant,
    /// The pull it is for.
    pull: Instant,
}

/// The device's clock as its pulls show it: pulls are due one packet time
/// apart and come on time or late (the thread or callback woke late), so
/// the earliest recent phase is the clock's.
#[derive(Debug, Clone, Copy, Default)]
struct PullGrid {
    /// The last pull seen.
    last: Option<Instant>,
    /// When the last pull was due.
    due: Option<Instant>,
}

impl PullGrid {
    /// When the next pull is due.
    fn next(&self, ptime: Duration) -> Option<Instant> {
        self.due.map(|due| due + ptime)
    }

    /// Takes a pull's stamp (the same stamp comes again until the next
    /// pull); returns how much earlier than predicted a new pull came.
    fn observe(&mut self, pull: Instant, ptime: Duration) -> Option<Duration> {
        if self.last.is_some_and(|last| pull <= last) {
            return None;
        }
        self.last = Some(pull);
        let Some(due) = self.due else {
            self.due = Some(pull);
            return None;
        };
        // The grid point nearest this pull.
        let since = pull.saturating_duration_since(due);
        let on_grid = due + ptime.mul_f64((since.as_secs_f64() / ptime.as_secs_f64()).round());
        if pull < on_grid {
            // The clock runs earlier than thought: follow it at once.
            self.due = Some(pull);
            Some(on_grid - pull)
        } else {
            self.due = Some(on_grid + (pull - on_grid).min(GRID_FOLLOW_PER_PULL));
            None
        }
    }
}

/// The largest recent value of a quantity, decaying linearly.
#[derive(Debug, Clone, Copy, Default)]
struct Peak {
    value: Duration,
    at: Option<Instant>,
}

impl Peak {
    fn record(&mut self, now: Instant, sample: Duration) {
        let elapsed = self
            .at
            .map_or(Duration::ZERO, |at| now.saturating_duration_since(at));
        let decayed = self
            .value
            .saturating_sub(PEAK_DECAY_PER_SECOND.mul_f64(elapsed.as_secs_f64()));
        self.value = decayed.max(sample);
        self.at = Some(now);
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
    fn without_a_pull_to_go_by_a_frame_is_played_as_soon_as_the_ring_runs_below_one() {
        let origin = Instant::now();
        let mut pacer = PlayoutPacer::new(PTIME, FRAME);
        assert_eq!(pacer.poll(origin, 0, None), Pace::Play { at: origin });
        assert_eq!(pacer.poll(ms(origin, 5), FRAME, None), Pace::Wait);
        assert_eq!(pacer.poll(ms(origin, 10), FRAME, None), Pace::Wait);
        // The device took the frame at 18 ms; the next poll sees it.
        assert_eq!(
            pacer.poll(ms(origin, 20), FRAME / 2, None),
            Pace::Play { at: ms(origin, 20) }
        );
    }

    #[test]
    fn the_playout_clock_stays_steady_while_polls_come_late_and_never_runs_ahead() {
        let origin = Instant::now();
        let mut pacer = PlayoutPacer::new(PTIME, FRAME);
        assert_eq!(pacer.poll(origin, 0, None), Pace::Play { at: origin });
        // A wake-up 4 ms late plays on the clock; one 3 ms early plays out
        // then (its frame is written then), and the clock goes on from it.
        for (wake, at) in [(24, 20), (37, 37), (64, 57), (80, 77)] {
            assert_eq!(
                pacer.poll(ms(origin, wake), 0, None),
                Pace::Play { at: ms(origin, at) }
            );
        }
    }

    #[test]
    fn the_clock_restarts_after_a_stall_longer_than_the_catch_up() {
        let origin = Instant::now();
        let mut pacer = PlayoutPacer::new(PTIME, FRAME);
        pacer.poll(origin, 0, None);
        // The device resumed after a stall: no frame was discarded because
        // the ring was full, then it drained at 300 ms.
        assert_eq!(
            pacer.poll(ms(origin, 300), 0, None),
            Pace::Play {
                at: ms(origin, 300)
            }
        );
    }

    #[test]
    fn after_a_short_stall_the_missed_frames_beyond_the_slack_are_discarded_then_one_plays() {
        let origin = Instant::now();
        let mut pacer = PlayoutPacer::new(PTIME, FRAME);
        pacer.poll(origin, 0, None);
        // Starved for 100 ms: the device drained its ring meanwhile.
        let now = ms(origin, 105);
        let mut paces = Vec::new();
        loop {
            let pace = pacer.poll(now, 0, None);
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
    fn a_device_waking_late_and_catching_up_in_a_burst_gets_every_frame_never_ahead_of_now() {
        let origin = Instant::now();
        let mut pacer = PlayoutPacer::new(PTIME, FRAME);
        pacer.poll(origin, 0, None);
        // The device misses its 20 and 40 ms wake-ups, then takes three
        // frames at 55 ms, one per poll of ours.
        assert_eq!(pacer.poll(ms(origin, 30), FRAME, None), Pace::Wait);
        assert_eq!(pacer.poll(ms(origin, 45), FRAME, None), Pace::Wait);
        let played: Vec<Pace> = (0..3)
            .map(|_| pacer.poll(ms(origin, 55), 0, None))
            .collect();
        // The frames due at 20 and 40 ms play then; the third one, due at
        // 60 ms, is taken at 55 ms and plays out then, not in the future.
        let expected = [20, 40, 55].map(|t| Pace::Play { at: ms(origin, t) });
        assert_eq!(played, expected);
        // The clock goes on from there, and again not ahead of now.
        assert_eq!(
            pacer.poll(ms(origin, 60), 0, None),
            Pace::Play { at: ms(origin, 60) }
        );
        assert_eq!(
            pacer.poll(ms(origin, 90), 0, None),
            Pace::Play { at: ms(origin, 80) }
        );
    }

    #[test]
    fn a_device_far_faster_than_real_time_does_not_run_the_clock_away() {
        let origin = Instant::now();
        let mut pacer = PlayoutPacer::new(PTIME, FRAME);
        for _ in 0..100 {
            match pacer.poll(origin, 0, None) {
                Pace::Play { at } => assert!(at < origin + MAX_CATCH_UP, "{:?}", at - origin),
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn a_device_that_takes_nothing_still_advances_the_stream_a_frame_per_packet_time() {
        let origin = Instant::now();
        let mut pacer = PlayoutPacer::new(PTIME, FRAME);
        pacer.poll(origin, 0, None);
        let mut discarded = Vec::new();
        for wake in (5..=100).step_by(5) {
            match pacer.poll(ms(origin, wake), FRAME, None) {
                Pace::Discard { at } => discarded.push(at.duration_since(origin)),
                Pace::Wait => {}
                Pace::Play { .. } | Pace::Hold { .. } => panic!("the ring is full"),
            }
        }
        // Frames due at 20 and 40 ms were each discarded three packet
        // times late.
        let expected: Vec<_> = [20, 40].into_iter().map(Duration::from_millis).collect();
        assert_eq!(discarded, expected);
    }

    #[test]
    fn the_next_frame_is_held_until_just_before_the_devices_next_pull() {
        let origin = Instant::now();
        let mut pacer = PlayoutPacer::new(PTIME, FRAME);
        assert_eq!(pacer.poll(origin, 0, None), Pace::Play { at: origin });
        // The device took that frame at 7 ms; seen at the 10 ms poll.
        let pulled = Some(ms(origin, 7));
        let due = ms(origin, 27) - MIN_LEAD;
        assert_eq!(
            pacer.poll(ms(origin, 10), 0, pulled),
            Pace::Hold { until: due }
        );
        assert_eq!(
            pacer.poll(ms(origin, 15), 0, pulled),
            Pace::Hold { until: due }
        );
        // Woken on time: the frame goes in MIN_LEAD before the pull, and
        // that is its playout time (the first frame's, at 0 ms, set
        // nothing).
        assert_eq!(pacer.poll(due, 0, pulled), Pace::Play { at: due });
        assert_eq!(pacer.poll(ms(origin, 25), FRAME, pulled), Pace::Wait);
        assert_eq!(pacer.lead(), MIN_LEAD);
    }

    #[test]
    fn a_pull_that_came_late_does_not_move_the_prediction_of_the_next() {
        let origin = Instant::now();
        let mut pacer = PlayoutPacer::new(PTIME, FRAME);
        pacer.poll(origin, 0, None);
        // The device's clock pulls at 7, 27, 47 ms...
        let due = ms(origin, 27) - MIN_LEAD;
        assert_eq!(
            pacer.poll(ms(origin, 10), 0, Some(ms(origin, 7))),
            Pace::Hold { until: due }
        );
        assert!(matches!(
            pacer.poll(due, 0, Some(ms(origin, 7))),
            Pace::Play { .. }
        ));
        // ...but its thread woke 5 ms late for the pull at 27: the next
        // pull is still expected at 47 (the prediction follows a late pull
        // by 100 µs at most), not at 52.
        assert_eq!(
            pacer.poll(ms(origin, 33), 0, Some(ms(origin, 32))),
            Pace::Hold {
                until: ms(origin, 47) + GRID_FOLLOW_PER_PULL - MIN_LEAD
            }
        );
        assert_eq!(pacer.lead(), MIN_LEAD);
    }

    #[test]
    fn a_device_clock_slower_than_ours_is_followed() {
        let origin = Instant::now();
        let mut pacer = PlayoutPacer::new(PTIME, FRAME);
        pacer.poll(origin, 0, None);
        // Each pull comes 50 µs later than a packet time after the last.
        let step = PTIME + Duration::from_micros(50);
        let mut pull = ms(origin, 7);
        for _ in 0..1000 {
            let now = pull + Duration::from_millis(1);
            let Pace::Hold { until } = pacer.poll(now, 0, Some(pull)) else {
                panic!("the ring is empty and the next pull is ahead");
            };
            // The frame goes in MIN_LEAD before the real next pull, give
            // or take the 100 µs the prediction may lag.
            let lead = pull + step - until;
            assert!(
                lead >= MIN_LEAD && lead <= MIN_LEAD + Duration::from_micros(100),
                "{lead:?}"
            );
            assert!(matches!(
                pacer.poll(until, 0, Some(pull)),
                Pace::Play { .. }
            ));
            pull += step;
        }
    }

    #[test]
    fn a_late_wake_up_widens_the_lead_for_a_while() {
        let origin = Instant::now();
        let mut pacer = PlayoutPacer::new(PTIME, FRAME);
        pacer.poll(origin, 0, None);
        let pulled = Some(ms(origin, 7));
        let due = ms(origin, 27) - MIN_LEAD;
        assert_eq!(
            pacer.poll(ms(origin, 10), 0, pulled),
            Pace::Hold { until: due }
        );
        // Two milliseconds late.
        let woke = due + Duration::from_millis(2);
        assert!(matches!(pacer.poll(woke, 0, pulled), Pace::Play { .. }));
        assert_eq!(pacer.lead(), MIN_LEAD + Duration::from_millis(2));
        // The device pulls on time from then on; the lateness fades out
        // (2 ms per second).
        let mut pull = ms(origin, 27);
        let mut now = pull;
        for _ in 0..100 {
            let pace = pacer.poll(now, 0, Some(pull));
            let Pace::Hold { until } = pace else {
                panic!("{pace:?}");
            };
            assert!(matches!(
                pacer.poll(until, 0, Some(pull)),
                Pace::Play { .. }
            ));
            pull += PTIME;
            now = pull;
        }
        assert_eq!(pacer.lead(), MIN_LEAD);
    }

    #[test]
    fn the_playout_clock_keeps_the_pulls_phase_and_never_runs_ahead_of_a_write() {
        let origin = Instant::now();
        let mut pacer = PlayoutPacer::new(PTIME, FRAME);
        pacer.poll(origin, 0, None);
        // The device pulls at 7, 27, 47 ... ms; the media task wakes on
        // time, then 3 ms late once (the lead widens: later frames are
        // written earlier before their pull), then 1 ms late.
        let mut played = Vec::new();
        for (k, late) in [0, 3, 1, 0, 0].into_iter().enumerate() {
            let pull = ms(origin, 7 + 20 * k as u64);
            let Pace::Hold { until } = pacer.poll(pull, 0, Some(pull)) else {
                panic!("the next pull is ahead");
            };
            let woke = until + Duration::from_millis(late);
            let Pace::Play { at } = pacer.poll(woke, 0, Some(pull)) else {
                panic!("woken for the write");
            };
            assert!(at <= woke, "frame {k} played out after its write");
            played.push((at, pull + PTIME - MIN_LEAD));
        }
        assert!(pacer.lead() > MIN_LEAD, "widened by the late wake-ups");
        // On time with the least lead: the pull minus MIN_LEAD; written
        // late, still then (the clock stays steady); written early for a
        // widened lead: at the write, within a millisecond of the last.
        assert_eq!(played[0].0, played[0].1);
        assert_eq!(played[1].0, played[1].1);
        for (k, &(at, aligned)) in played.iter().enumerate().skip(2) {
            let early = aligned - at;
            assert!(
                early > Duration::ZERO && early <= Duration::from_millis(3),
                "frame {k}: {early:?} before the pull minus MIN_LEAD"
            );
        }
    }

    /// Polls for the frame the device's pull at `pull` calls for, seen at
    /// `now`, waking for a hold; returns its playout time and its write.
    fn write_after(pacer: &mut PlayoutPacer, pull: Instant, now: Instant) -> (Instant, Instant) {
        match pacer.poll(now, 0, Some(pull)) {
            Pace::Play { at } => (at, now),
            Pace::Hold { until } => match pacer.poll(until, 0, Some(pull)) {
                Pace::Play { at } => (at, until),
                other => panic!("{other:?}"),
            },
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn an_underrun_does_not_move_the_playout_clock_a_packet_time() {
        let origin = Instant::now();
        let mut pacer = PlayoutPacer::new(PTIME, FRAME);
        pacer.poll(origin, 0, None);
        // In phase with pulls at 7, 27 ... ms; the frame for the pull at
        // 127 ms is not written by then (the task stalled): that pull
        // plays silence, and every later frame makes the pull after its
        // own. The device's pulls kept their phase, so the clock keeps its
        // own and the jitter buffer sees no delay to take back.
        let mut played = Vec::new();
        for k in (0..5).chain(6..40) {
            let pull = ms(origin, 7 + 20 * k);
            played.push(write_after(&mut pacer, pull, pull + Duration::from_micros(50)).0);
        }
        for pair in played.windows(2) {
            assert_eq!(pair[1] - pair[0], PTIME);
        }
    }

    #[test]
    fn a_device_opening_with_a_burst_of_pulls_does_not_put_the_clock_ahead() {
        let origin = Instant::now();
        let mut pacer = PlayoutPacer::new(PTIME, FRAME);
        pacer.poll(origin, 0, None);
        // In phase with a device pulling at 7, 27 ... ms; then another one
        // opens and fills its buffer: four pulls within a millisecond, then
        // one every packet time, 3 ms off the old device's phase.
        let steady = (0..5).map(|k| ms(origin, 7 + 20 * k));
        let opened = ms(origin, 110);
        let burst = (0..4).map(|k| opened + Duration::from_micros(100 * k));
        let after = (1..20).map(|k| opened + PTIME * k);
        for pull in steady.chain(burst).chain(after) {
            let (at, written) = write_after(&mut pacer, pull, pull + Duration::from_micros(50));
            assert!(at <= written, "{:?} ahead of the write", at - written);
        }
    }

    #[test]
    fn uneven_pulls_move_the_playout_clock_by_little_per_frame() {
        let origin = Instant::now();
        let mut pacer = PlayoutPacer::new(PTIME, FRAME);
        pacer.poll(origin, 0, None);
        // A device pulling in callbacks of 25 ms: five frames in four
        // callbacks, the fourth taking two at once.
        const SETTLING: usize = 15;
        let mut pulls = Vec::new();
        for callback in 0..40u64 {
            let at = ms(origin, 7 + 25 * callback);
            pulls.push(at);
            if callback % 4 == 3 {
                pulls.push(at + Duration::from_micros(50));
            }
        }
        let played: Vec<Instant> = pulls
            .into_iter()
            .map(|pull| write_after(&mut pacer, pull, pull + Duration::from_millis(1)).0)
            .collect();
        // A frame taken in the same callback as the one before plays out
        // then (not a packet time later); after the first few such, the
        // clock keeps to the earliest phase the pattern has, and moves
        // little per frame.
        for (k, pair) in played.windows(2).enumerate().skip(SETTLING) {
            let step = pair[1] - pair[0];
            assert!(
                step >= PTIME - Duration::from_millis(1) && step <= PTIME + PHASE_FOLLOW_PER_FRAME,
                "frame {k}: {step:?}"
            );
        }
    }

    #[test]
    fn a_late_poll_widens_the_lead_before_a_write_comes_late() {
        let origin = Instant::now();
        let mut pacer = PlayoutPacer::new(PTIME, FRAME);
        pacer.woke(ms(origin, 11), ms(origin, 5));
        assert_eq!(pacer.lead(), MIN_LEAD + Duration::from_millis(6));
        // Never more than a packet time: then the frame goes in at once.
        pacer.woke(ms(origin, 60), ms(origin, 10));
        assert_eq!(pacer.lead(), PTIME);
        pacer.poll(ms(origin, 60), 0, None);
        assert!(matches!(
            pacer.poll(ms(origin, 70), 0, Some(ms(origin, 65))),
            Pace::Play { .. }
        ));
    }

    #[test]
    fn a_pull_earlier_than_one_packet_time_after_the_last_widens_the_lead() {
        let origin = Instant::now();
        let mut pacer = PlayoutPacer::new(PTIME, FRAME);
        pacer.poll(origin, 0, None);
        pacer.poll(ms(origin, 10), 0, Some(ms(origin, 7)));
        // The device's next pull came 4 ms early (the one before was late).
        let early = ms(origin, 23);
        let pace = pacer.poll(ms(origin, 24), 0, Some(early));
        assert_eq!(pacer.lead(), MIN_LEAD + Duration::from_millis(4));
        assert_eq!(
            pace,
            Pace::Hold {
                until: early + PTIME - MIN_LEAD - Duration::from_millis(4)
            }
        );
    }

    #[test]
    fn a_device_that_stopped_pulling_gets_its_frame_at_once() {
        let origin = Instant::now();
        let mut pacer = PlayoutPacer::new(PTIME, FRAME);
        pacer.poll(origin, 0, None);
        // The last pull was 30 ms ago: the predicted one has passed.
        assert_eq!(
            pacer.poll(ms(origin, 40), 0, Some(ms(origin, 10))),
            Pace::Play { at: ms(origin, 20) }
        );
    }
}
