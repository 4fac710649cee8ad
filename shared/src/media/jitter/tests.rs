//! The jitter buffer on a virtual clock: 20 ms frames of 160 samples at
//! 8 kHz; the payload of packet `n` is `n` in 4 bytes, so the tests can
//! tell which frame played.

use super::*;

const TS: u32 = 160;
const FRAME_MS: u64 = 20;

/// What one pop gave, by packet number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Played {
    Frame(u32),
    Missing(Option<u32>),
    Stretch,
    Silence,
}

fn number(payload: &[u8]) -> u32 {
    u32::from_be_bytes(payload.try_into().expect("4-byte payload"))
}

/// (pop time, result) of each pop, and (packet, verdict) of each insert.
type Run = (Vec<(u64, Played)>, Vec<(u32, Insert)>);

struct Rig {
    jb: JitterBuffer,
    t0: Instant,
    seq0: u16,
    ts0: u32,
}

impl Rig {
    fn new(config: JitterConfig) -> Self {
        Self::numbered(config, 1000, 50_000)
    }

    fn numbered(config: JitterConfig, seq0: u16, ts0: u32) -> Self {
        Self {
            jb: JitterBuffer::new(config, 8000, TS).unwrap(),
            t0: Instant::now(),
            seq0,
            ts0,
        }
    }

    fn at(&self, ms: u64) -> Instant {
        self.t0 + Duration::from_millis(ms)
    }

    fn send(&mut self, n: u32, ms: u64) -> Insert {
        let seq = self.seq0.wrapping_add(n as u16);
        let ts = self.ts0.wrapping_add(n * TS);
        self.jb.insert(self.at(ms), seq, ts, &n.to_be_bytes())
    }

    fn pop(&mut self, ms: u64) -> Played {
        match self.jb.pop(self.at(ms)) {
            Pop::Frame(p) => Played::Frame(number(p)),
            Pop::Missing { next } => Played::Missing(next.map(number)),
            Pop::Stretch => Played::Stretch,
            Pop::Silence => Played::Silence,
        }
    }

    /// Delivers `arrivals` (ms, packet) and pops at 10 ms past every 20 ms
    /// until `end_ms`; returns (pop time, result) and the insert verdicts.
    fn run(&mut self, arrivals: &[(u64, u32)], from_ms: u64, end_ms: u64) -> Run {
        let mut arrivals: Vec<(u64, u32)> = arrivals
            .iter()
            .copied()
            .filter(|&(ms, _)| (from_ms..end_ms).contains(&ms))
            .collect();
        arrivals.sort_by_key(|&(ms, _)| ms);
        let mut pending = arrivals.into_iter().peekable();
        let (mut played, mut verdicts) = (Vec::new(), Vec::new());
        for ms in from_ms..end_ms {
            while let Some(&(at, n)) = pending.peek() {
                if at > ms {
                    break;
                }
                verdicts.push((n, self.send(n, at)));
                pending.next();
            }
            if ms % FRAME_MS == 10 {
                played.push((ms, self.pop(ms)));
            }
        }
        (played, verdicts)
    }
}

fn frames(played: &[(u64, Played)]) -> Vec<u32> {
    played
        .iter()
        .filter_map(|(_, p)| match p {
            Played::Frame(n) => Some(*n),
            _ => None,
        })
        .collect()
}

/// How many pops before the last frame played matched `what` (after the
/// stream ends the buffer conceals `idle_after`, as it should).
fn count(played: &[(u64, Played)], what: fn(&Played) -> bool) -> usize {
    let last = played
        .iter()
        .rposition(|(_, p)| matches!(p, Played::Frame(_)))
        .unwrap_or(0);
    played[..last].iter().filter(|(_, p)| what(p)).count()
}

/// Packets 0..n sent every 20 ms from `start_ms`, each delayed by `delay(n)`.
fn arrivals(n: u32, start_ms: u64, mut delay: impl FnMut(u32) -> u64) -> Vec<(u64, u32)> {
    (0..n)
        .map(|i| (start_ms + u64::from(i) * FRAME_MS + delay(i), i))
        .collect()
}

/// A tiny seeded generator (xorshift64*), so the jittered runs reproduce.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % n
    }
}

#[test]
fn clean_path_plays_every_frame_in_order_at_the_target_delay() {
    let mut rig = Rig::new(JitterConfig::default());
    let (played, verdicts) = rig.run(&arrivals(200, 0, |_| 30), 0, 4200);
    assert!(verdicts.iter().all(|(_, v)| *v == Insert::Accepted));
    assert_eq!(frames(&played), (0..200).collect::<Vec<_>>());
    let first = played
        .iter()
        .position(|(_, p)| *p != Played::Silence)
        .unwrap();
    assert!(
        played[first..first + 200]
            .iter()
            .all(|(_, p)| matches!(p, Played::Frame(_)))
    );
    // Packet 0 arrived at 30 ms and played at 50 ms: the 20 ms minimum.
    assert_eq!(played[first], (50, Played::Frame(0)));
    let delay = rig.jb.current_delay();
    assert!(
        delay >= Duration::from_millis(20) && delay < Duration::from_millis(40),
        "{delay:?}"
    );
    assert_eq!(rig.jb.stats(), JitterStats::default());
}

#[test]
fn a_loss_raises_the_least_delay_to_its_after_loss_floor() {
    let config = JitterConfig {
        min_delay: Duration::from_millis(10),
        min_delay_after_loss: Duration::from_millis(20),
        ..JitterConfig::default()
    };
    let mut rig = Rig::new(config);
    let clean = arrivals(50, 0, |_| 5);
    rig.run(&clean, 0, 1000);
    assert_eq!(rig.jb.target_delay(), Duration::from_millis(10));
    // Packet 60 never comes.
    let lossy: Vec<_> = arrivals(100, 0, |_| 5)
        .into_iter()
        .skip(50)
        .filter(|(_, n)| *n != 60)
        .collect();
    let (played, _) = rig.run(&lossy, 1000, 2100);
    assert_eq!(count(&played, |p| matches!(p, Played::Missing(_))), 1);
    assert_eq!(rig.jb.target_delay(), Duration::from_millis(20));
}

#[test]
fn a_late_packet_is_not_a_loss_the_after_loss_floor_stays_off() {
    let config = JitterConfig {
        min_delay: Duration::from_millis(10),
        min_delay_after_loss: Duration::from_millis(20),
        ..JitterConfig::default()
    };
    let mut rig = Rig::new(config);
    // Packet 60 comes 30 ms after the others' 5 ms: after its frame.
    let plan = arrivals(250, 0, |n| if n == 60 { 35 } else { 5 });
    let (played, verdicts) = rig.run(&plan, 0, 5100);
    assert_eq!(
        verdicts.iter().find(|(n, _)| *n == 60).map(|(_, v)| *v),
        Some(Insert::Late)
    );
    assert_eq!(count(&played, |p| matches!(p, Played::Missing(_))), 1);
    // The delay it called for has decayed back to the clean-path floor.
    assert_eq!(rig.jb.target_delay(), Duration::from_millis(10));
}

#[test]
fn measurement_noise_at_the_target_neither_stretches_nor_drops() {
    // A short history, so that the fastest transit moves by 1 ms as the
    // one fast packet of every twenty comes and leaves it: the measured
    // delay swings between 9 and 10 ms around its 10 ms target.
    let config = JitterConfig {
        min_delay: Duration::from_millis(10),
        min_delay_after_loss: Duration::from_millis(10),
        history: 10,
        ..JitterConfig::default()
    };
    let mut rig = Rig::new(config);
    let plan = arrivals(300, 0, |n| if n % 20 == 0 { 0 } else { 1 });
    let (played, _) = rig.run(&plan, 0, 6100);
    assert_eq!(frames(&played), (0..300).collect::<Vec<_>>());
    assert_eq!(rig.jb.stats().stretched, 0);
    assert_eq!(rig.jb.stats().dropped, 0);
}

#[test]
fn a_packet_late_by_less_than_the_dead_band_still_grows_the_delay() {
    let config = JitterConfig {
        min_delay: Duration::from_millis(10),
        min_delay_after_loss: Duration::from_millis(10),
        ..JitterConfig::default()
    };
    let mut rig = Rig::new(config);
    // Playing 10 ms after the packets' arrival; packets 50, 60 and 70 come
    // 11 ms later than the others: the first after its frame played. The
    // delay must grow at the first, not let the next ones come late too.
    let plan = arrivals(150, 0, |n| if n % 10 == 0 && n >= 50 { 11 } else { 0 });
    let (played, verdicts) = rig.run(&plan, 0, 3100);
    let late: Vec<u32> = verdicts
        .iter()
        .filter(|(_, v)| *v == Insert::Late)
        .map(|(n, _)| *n)
        .collect();
    assert_eq!(late, [50]);
    assert_eq!(count(&played, |p| *p == Played::Stretch), 1);
}

#[test]
fn reordered_packets_play_in_order() {
    let mut rig = Rig::new(JitterConfig::default());
    // Every fifth packet overtaken by the next one.
    let (played, verdicts) = rig.run(
        &arrivals(100, 0, |n| if n % 5 == 2 { 30 } else { 5 }),
        0,
        2500,
    );
    let order: Vec<u32> = verdicts.iter().map(|(n, _)| *n).collect();
    assert_ne!(order, (0..100).collect::<Vec<_>>(), "not reordered");
    assert_eq!(frames(&played), (0..100).collect::<Vec<_>>());
    assert_eq!(count(&played, |p| matches!(p, Played::Missing(_))), 0);
    assert_eq!(rig.jb.stats().late, 0);
}

#[test]
fn duplicates_are_dropped_whether_held_or_played() {
    let mut rig = Rig::new(JitterConfig::default());
    let mut plan = arrivals(50, 0, |_| 10);
    plan.push((215, 10)); // held: packet 10 arrived at 210, plays at 250
    plan.push((600, 12)); // played long ago
    let (played, verdicts) = rig.run(&plan, 0, 1200);
    let dups: Vec<u32> = verdicts
        .iter()
        .filter(|(_, v)| *v == Insert::Duplicate)
        .map(|(n, _)| *n)
        .collect();
    assert_eq!(dups, vec![10, 12]);
    assert_eq!(frames(&played), (0..50).collect::<Vec<_>>());
    assert_eq!(rig.jb.stats().duplicates, 2);
    assert_eq!(rig.jb.stats().late, 0);
}

#[test]
fn a_late_packet_is_concealed_counted_and_raises_the_delay_at_once() {
    let mut rig = Rig::new(JitterConfig::default());
    let plan = arrivals(150, 0, |n| if n == 50 { 150 } else { 10 });
    let (mut played, verdicts) = rig.run(&plan, 0, 1500);
    assert!(
        rig.jb.target_delay() >= Duration::from_millis(130),
        "{:?}",
        rig.jb.target_delay()
    );
    played.extend(rig.run(&plan, 1500, 3300).0);
    assert_eq!(
        verdicts.iter().find(|(n, _)| *n == 50).unwrap().1,
        Insert::Late
    );
    assert_eq!(rig.jb.stats().late, 1);
    // Packet 50 is concealed (from packet 51: Opus could use its FEC).
    assert!(
        played.contains(&(1030, Played::Missing(Some(51)))),
        "{:?}",
        &played[50..56]
    );
    assert!(!frames(&played).contains(&50));
    // The delay grows to cover such a packet within a few frames, by stretching.
    let stretches: Vec<u64> = played
        .iter()
        .filter(|(_, p)| *p == Played::Stretch)
        .map(|(ms, _)| *ms)
        .collect();
    assert!(stretches.len() >= 5, "{stretches:?}");
    assert!(
        stretches.iter().all(|&ms| (1150..1400).contains(&ms)),
        "{stretches:?}"
    );
    // ...and then falls by 20 ms per second.
    assert!(rig.jb.target_delay() < Duration::from_millis(110));
    // The stream's end is concealed for 60 ms, then silent.
    let tail: Vec<Played> = played.iter().rev().take(5).map(|(_, p)| *p).collect();
    assert_eq!(tail[..2], [Played::Silence, Played::Silence]);
}

#[test]
fn sequence_numbers_and_timestamps_wrap() {
    // Both counters wrap within the first second.
    let mut rig = Rig::numbered(JitterConfig::default(), 65_500, u32::MAX - 20 * TS + 1);
    let (played, verdicts) = rig.run(
        &arrivals(200, 0, |n| if n % 7 == 3 { 25 } else { 0 }),
        0,
        4200,
    );
    assert!(
        verdicts.iter().all(|(_, v)| *v == Insert::Accepted),
        "{verdicts:?}"
    );
    assert_eq!(frames(&played), (0..200).collect::<Vec<_>>());
    assert_eq!(count(&played, |p| matches!(p, Played::Missing(_))), 0);
}

#[test]
fn a_new_source_after_reset_plays_from_its_first_packet() {
    let mut rig = Rig::new(JitterConfig::default());
    let (before, _) = rig.run(&arrivals(50, 0, |_| 10), 0, 990);
    assert!(frames(&before).len() > 40);
    // The new source numbers its packets from elsewhere entirely.
    rig.jb.reset();
    rig.seq0 = 7;
    rig.ts0 = 3_000_000_000;
    let (after, verdicts) = rig.run(&arrivals(50, 1000, |_| 10), 990, 2200);
    assert!(verdicts.iter().all(|(_, v)| *v == Insert::Accepted));
    assert_eq!(frames(&after), (0..50).collect::<Vec<_>>());
    let stats = rig.jb.stats();
    assert_eq!((stats.late, stats.discarded, stats.resyncs), (0, 0, 0));
}

#[test]
fn delay_grows_fast_under_jitter_and_shrinks_slowly_after() {
    let mut rig = Rig::new(JitterConfig::default());
    let mut rng = Rng(0x1234_5678_9abc_def1);
    // 5 s clean, 4 s of 0-120 ms jitter, then 30 s clean.
    let plan = arrivals(1950, 0, |n| {
        if (250..450).contains(&n) {
            10 + rng.below(121)
        } else {
            10
        }
    });
    let mut drops = Vec::new();
    let mut targets = Vec::new();
    let mut played = Vec::new();
    for second in 0..40 {
        let (p, _) = rig.run(&plan, second * 1000, (second + 1) * 1000);
        played.extend(p);
        drops.push(rig.jb.stats().dropped);
        targets.push(rig.jb.target_delay());
    }
    let late = rig.jb.stats().late;
    assert!(late <= 10, "{late} late of 200 jittered packets");
    assert!(
        targets[5] >= Duration::from_millis(100),
        "grew only to {:?} after 1 s of jitter",
        targets[5]
    );
    assert!(
        targets[39] <= Duration::from_millis(60),
        "still {:?}",
        targets[39]
    );
    assert!(
        rig.jb.current_delay() < Duration::from_millis(80),
        "{:?}",
        rig.jb.current_delay()
    );
    // At most one frame dropped per second of shrinking.
    for pair in drops.windows(2) {
        assert!(pair[1] - pair[0] <= 1, "{drops:?}");
    }
    assert!(drops[39] >= 3, "{drops:?}");
    // Frames still come in order.
    let order = frames(&played);
    assert!(order.windows(2).all(|w| w[0] < w[1]));
}

#[test]
fn a_pause_turns_to_silence_and_playout_restarts_at_the_target() {
    let mut rig = Rig::new(JitterConfig::default());
    // A talkspurt of 50 packets, 1 s of DTX (timestamps run on, sequence
    // numbers do not), then another talkspurt of 50.
    let (mut played, _) = rig.run(&arrivals(50, 0, |_| 10), 0, 1000);
    rig.ts0 = rig.ts0.wrapping_add(8000);
    let (after, _) = rig.run(&arrivals(100, 1000, |_| 10)[50..], 1000, 3500);
    played.extend(after);
    assert_eq!(frames(&played), (0..100).collect::<Vec<_>>());
    let missing = count(&played, |p| matches!(p, Played::Missing(_)));
    assert!(missing <= 3, "concealed {missing} frames of a pause");
    assert!(
        played
            .iter()
            .any(|(ms, p)| *ms > 1300 && *p == Played::Silence)
    );
    // Packet 50 arrives at 2010 ms and plays 20 ms later, at the first pop.
    assert!(
        played.contains(&(2030, Played::Frame(50))),
        "{:?}",
        &played[100..106]
    );
    assert_eq!(rig.jb.stats(), JitterStats::default());
}

#[test]
fn memory_stays_bounded_under_a_flood() {
    let config = JitterConfig::default();
    let mut rig = Rig::new(config);
    // 20 s of packets at once: held up to the limit, the rest discarded (or,
    // once far beyond the timeline, taken as a sender restart).
    let mut accepted = 0;
    for n in 0..1000 {
        if rig.send(n, 0) == Insert::Accepted {
            accepted += 1;
        }
        assert!(rig.jb.len() <= config.max_packets);
    }
    let stats = rig.jb.stats();
    assert_eq!(accepted + stats.discarded, 1000);
    assert!(
        stats.discarded >= 1000 - 64 * (stats.resyncs + 1),
        "{stats:?}"
    );
    // Too large a payload is refused outright.
    assert_eq!(
        rig.jb.insert(rig.at(1), 1, 1, &[0; MAX_PAYLOAD + 1]),
        Insert::Discarded
    );
}

#[test]
fn a_stray_packet_is_discarded_but_two_in_sequence_start_a_new_timeline() {
    let mut rig = Rig::new(JitterConfig::default());
    let (_, _) = rig.run(&arrivals(50, 0, |_| 10), 0, 1000);
    // A stray with a far sequence number and timestamp.
    assert_eq!(
        rig.jb.insert(rig.at(1000), 40_000, 9, &[0, 0, 0, 99]),
        Insert::Discarded
    );
    let (played, _) = rig.run(
        &arrivals(60, 0, |_| 10)
            .into_iter()
            .skip(50)
            .collect::<Vec<_>>(),
        1000,
        1300,
    );
    assert!(frames(&played).contains(&55));
    // The sender restarts its numbering: the first packet is discarded, the
    // second confirms the new timeline.
    let restart = |n: u32| (20_000u16.wrapping_add(n as u16), 1_000_000u32 + n * TS);
    let (s, t) = restart(0);
    assert_eq!(
        rig.jb.insert(rig.at(1300), s, t, &[0, 0, 1, 0]),
        Insert::Discarded
    );
    let (s, t) = restart(1);
    assert_eq!(
        rig.jb.insert(rig.at(1320), s, t, &[0, 0, 1, 1]),
        Insert::Accepted
    );
    assert_eq!(rig.jb.stats().resyncs, 1);
    let mut got = Vec::new();
    for k in 0..10u64 {
        let (s, t) = restart(2 + k as u32);
        rig.jb
            .insert(rig.at(1340 + 20 * k), s, t, &(258 + k as u32).to_be_bytes());
        got.push(rig.pop(1350 + 20 * k));
    }
    assert!(got.contains(&Played::Frame(257)), "{got:?}");
}

#[test]
fn a_dtmf_span_is_silence_not_loss() {
    let mut rig = Rig::new(JitterConfig::default());
    // Packets 20..30 are replaced by a DTMF event.
    let plan: Vec<(u64, u32)> = arrivals(60, 0, |_| 10)
        .into_iter()
        .filter(|(_, n)| !(20..30).contains(n))
        .collect();
    rig.jb.mark_silent(rig.ts0 + 20 * TS, 10 * TS);
    let (played, _) = rig.run(&plan, 0, 1400);
    assert_eq!(
        count(&played, |p| matches!(
            p,
            Played::Missing(_) | Played::Stretch
        )),
        0
    );
    assert_eq!(frames(&played).len(), 50);
}
