//! Two media sessions back to back on a virtual clock, through a seeded
//! impairment model (delay, jitter, loss, duplication, reordering), for
//! about ten seconds of a synthetic signal in each direction. No sleeps, no
//! real time: the clock is an `Instant` advanced by hand, one millisecond
//! per step.

mod support;

use support::Rng;

use std::time::{Duration, Instant};

use bytes::Bytes;
use shared::media::coder::{Decoder, Encoder};
use shared::media::{
    Channel, Codec, FrameSource, MediaEvent, MediaSession, OpusBandwidth, SessionConfig, Ssrc,
    StreamStats,
};

const PTIME_MS: u64 = 20;

/// What the network does to each datagram of one direction.
#[derive(Clone, Copy)]
struct Impairment {
    /// Fixed one-way delay.
    delay_ms: u64,
    /// Extra delay, uniform in 0..=jitter_ms: reorders when above 20 ms.
    jitter_ms: u64,
    /// Probability of loss.
    loss: f64,
    /// Probability that a delivered datagram also arrives a second time.
    duplicate: f64,
    /// Drop exactly the RTP datagrams whose index (from 0) this selects.
    drop_rtp: Option<fn(u64) -> bool>,
}

impl Impairment {
    const CLEAN: Self = Self {
        delay_ms: 30,
        jitter_ms: 0,
        loss: 0.0,
        duplicate: 0.0,
        drop_rtp: None,
    };
}

/// One direction of the network: datagrams in flight, and the truth about
/// what it did.
struct Link {
    rng: Rng,
    impairment: Impairment,
    in_flight: Vec<(u64, u64, Channel, Bytes)>,
    order: u64,
    rtp_sent: u64,
    rtp_lost: u64,
    rtp_duplicated: u64,
}

impl Link {
    fn new(impairment: Impairment, seed: u64) -> Self {
        Self {
            rng: Rng(seed),
            impairment,
            in_flight: Vec::new(),
            order: 0,
            rtp_sent: 0,
            rtp_lost: 0,
            rtp_duplicated: 0,
        }
    }

    fn send(&mut self, now_ms: u64, channel: Channel, bytes: Bytes) {
        let imp = self.impairment;
        let index = self.rtp_sent;
        if channel == Channel::Rtp {
            self.rtp_sent += 1;
        }
        let forced = channel == Channel::Rtp && imp.drop_rtp.is_some_and(|drop| drop(index));
        if forced || self.rng.unit() < imp.loss {
            if channel == Channel::Rtp {
                self.rtp_lost += 1;
            }
            return;
        }
        let copies = if self.rng.unit() < imp.duplicate {
            2
        } else {
            1
        };
        if copies == 2 && channel == Channel::Rtp {
            self.rtp_duplicated += 1;
        }
        for _ in 0..copies {
            let jitter = if imp.jitter_ms == 0 {
                0
            } else {
                self.rng.next() % (imp.jitter_ms + 1)
            };
            self.order += 1;
            self.in_flight.push((
                now_ms + imp.delay_ms + jitter,
                self.order,
                channel,
                bytes.clone(),
            ));
        }
    }

    /// The datagrams due by `now_ms`, in arrival order.
    fn due(&mut self, now_ms: u64) -> Vec<(Channel, Bytes)> {
        self.in_flight.sort_by_key(|&(at, order, _, _)| (at, order));
        let split = self
            .in_flight
            .partition_point(|&(at, _, _, _)| at <= now_ms);
        self.in_flight
            .drain(..split)
            .map(|(_, _, channel, bytes)| (channel, bytes))
            .collect()
    }
}

/// A synthetic signal: three partials and a slow chirp, different per side.
fn signal(side: u64, frames: usize, spf: usize, rate: u32) -> Vec<Vec<i16>> {
    let rate = f64::from(rate);
    let base = 180.0 + 70.0 * side as f64;
    (0..frames)
        .map(|k| {
            (0..spf)
                .map(|i| {
                    let t = (k * spf + i) as f64 / rate;
                    let chirp = 400.0 + 60.0 * t;
                    let x = (2.0 * std::f64::consts::PI * base * t).sin() * 5000.0
                        + (2.0 * std::f64::consts::PI * 3.1 * base * t).sin() * 2500.0
                        + (2.0 * std::f64::consts::PI * chirp * t).sin() * 1500.0;
                    x as i16
                })
                .collect()
        })
        .collect()
}

/// One side of the call: its session, what it plays, what it reports.
struct Side {
    session: MediaSession,
    played: Vec<(FrameSource, Vec<i16>)>,
    events: Vec<MediaEvent>,
}

impl Side {
    fn new(codec: Codec, ssrc: u32, t0: Instant, seed: u64) -> Self {
        Self {
            session: MediaSession::new(SessionConfig::new(codec, ssrc), t0, seed)
                .expect("a valid configuration"),
            played: Vec::new(),
            events: Vec::new(),
        }
    }
}

/// The whole call: A and B, and the network between them.
struct Call {
    t0: Instant,
    a: Side,
    b: Side,
    ab: Link,
    ba: Link,
    signal_a: Vec<Vec<i16>>,
    signal_b: Vec<Vec<i16>>,
    /// A second sender that takes over A's stream towards B at a frame.
    takeover: Option<(usize, MediaSession)>,
    /// DTMF digits A sends at a frame.
    dtmf: Vec<(usize, char)>,
    ms: u64,
}

impl Call {
    fn new(codec: Codec, ab: Impairment, ba: Impairment, seconds: u64) -> Self {
        let t0 = Instant::now();
        let frames = (seconds * 1000 / PTIME_MS) as usize;
        let spf = codec.samples_per_frame(Duration::from_millis(PTIME_MS));
        Self {
            t0,
            a: Side::new(codec, 0xaaaa_0001, t0, 1),
            b: Side::new(codec, 0xbbbb_0002, t0, 2),
            ab: Link::new(ab, 0x5eed_0001),
            ba: Link::new(ba, 0x5eed_0002),
            signal_a: signal(0, frames, spf, codec.pcm_rate()),
            signal_b: signal(1, frames, spf, codec.pcm_rate()),
            takeover: None,
            dtmf: Vec::new(),
            ms: 0,
        }
    }

    fn at(&self, ms: u64) -> Instant {
        self.t0 + Duration::from_millis(ms)
    }

    /// Runs to the end of the signal, plus time for the last packets.
    fn run(&mut self) {
        let frames = self.signal_a.len();
        let end = frames as u64 * PTIME_MS + 300;
        while self.ms < end {
            self.step(frames);
            self.ms += 1;
        }
    }

    fn step(&mut self, frames: usize) {
        let now = self.at(self.ms);
        let ms = self.ms;
        // Deliveries.
        for (channel, bytes) in self.ab.due(ms) {
            deliver(&mut self.b.session, now, channel, &bytes);
        }
        for (channel, bytes) in self.ba.due(ms) {
            deliver(&mut self.a.session, now, channel, &bytes);
            if let Some((_, other)) = &mut self.takeover {
                deliver(other, now, channel, &bytes);
            }
        }
        // Capture ticks at every 20 ms.
        if ms.is_multiple_of(PTIME_MS) && ((ms / PTIME_MS) as usize) < frames {
            let k = (ms / PTIME_MS) as usize;
            for &(_, digit) in self.dtmf.iter().filter(|&&(at, _)| at == k) {
                self.a.session.send_dtmf(now, digit);
            }
            match &mut self.takeover {
                Some((from, other)) if k >= *from => other.send_frame(now, &self.signal_a[k]),
                _ => self.a.session.send_frame(now, &self.signal_a[k]),
            }
            self.b.session.send_frame(now, &self.signal_b[k]);
        }
        // Playout ticks, at another phase.
        if ms % PTIME_MS == 7 {
            for side in [&mut self.a, &mut self.b] {
                let mut out = vec![0; side.session.samples_per_frame()];
                let source = side.session.playout(now, &mut out);
                side.played.push((source, out));
            }
        }
        // Timers.
        for session in [&mut self.a.session, &mut self.b.session] {
            if session.poll_timeout().is_some_and(|at| at <= now) {
                session.handle_timeout(now);
            }
        }
        if let Some((_, other)) = &mut self.takeover
            && other.poll_timeout().is_some_and(|at| at <= now)
        {
            other.handle_timeout(now);
        }
        // Outputs.
        while let Some(t) = self.a.session.poll_transmit() {
            self.ab.send(ms, t.channel, t.bytes);
        }
        if let Some((_, other)) = &mut self.takeover {
            while let Some(t) = other.poll_transmit() {
                self.ab.send(ms, t.channel, t.bytes);
            }
        }
        while let Some(t) = self.b.session.poll_transmit() {
            self.ba.send(ms, t.channel, t.bytes);
        }
        for side in [&mut self.a, &mut self.b] {
            while let Some(event) = side.session.poll_event() {
                side.events.push(event);
            }
        }
    }
}

fn deliver(session: &mut MediaSession, now: Instant, channel: Channel, bytes: &[u8]) {
    match channel {
        Channel::Rtp => session.handle_rtp(now, bytes),
        Channel::Rtcp => session.handle_rtcp(now, bytes),
    }
}

/// What a G.711 round trip makes of each frame.
fn round_trip(codec: Codec, frames: &[Vec<i16>]) -> Vec<Vec<i16>> {
    let mut encoder = Encoder::new(codec).expect("G.711 encoder");
    let mut decoder = Decoder::new(codec).expect("G.711 decoder");
    frames
        .iter()
        .map(|frame| {
            let mut payload = Vec::new();
            encoder.encode(frame, &mut payload).expect("a full frame");
            let mut out = vec![0; frame.len()];
            decoder.decode(&payload, &mut out).expect("its own payload");
            out
        })
        .collect()
}

/// The pops between the first and the last decoded frame.
fn speech(played: &[(FrameSource, Vec<i16>)]) -> &[(FrameSource, Vec<i16>)] {
    let first = played
        .iter()
        .position(|(s, _)| *s == FrameSource::Decoded)
        .expect("a decoded frame");
    let last = played
        .iter()
        .rposition(|(s, _)| *s == FrameSource::Decoded)
        .expect("a decoded frame");
    &played[first..=last]
}

fn count(played: &[(FrameSource, Vec<i16>)], source: FrameSource) -> usize {
    played.iter().filter(|(s, _)| *s == source).count()
}

fn near(value: f64, truth: f64, tolerance: f64) -> bool {
    (value - truth).abs() <= tolerance
}

#[test]
fn clean_g711_path_is_bit_exact_after_the_initial_delay() {
    for codec in [Codec::Pcma, Codec::Pcmu] {
        let mut call = Call::new(codec, Impairment::CLEAN, Impairment::CLEAN, 10);
        call.run();
        for (side, sent) in [(&call.b, &call.signal_a), (&call.a, &call.signal_b)] {
            let expected = round_trip(codec, sent);
            let speech = speech(&side.played);
            assert!(
                speech.iter().all(|(s, _)| *s == FrameSource::Decoded),
                "{codec:?}: a frame was not decoded"
            );
            assert_eq!(
                speech.len(),
                expected.len(),
                "{codec:?}: every frame plays once"
            );
            for (k, ((_, got), want)) in speech.iter().zip(&expected).enumerate() {
                assert_eq!(got, want, "{codec:?}: frame {k} differs");
            }
            let stats = side.session.stats();
            assert_eq!(
                (stats.lost, stats.late, stats.duplicates),
                (0, 0, 0),
                "{stats:?}"
            );
            // Only the stream's end is concealed (60 ms), before silence.
            assert_eq!(stats.concealed, 3, "{stats:?}");
            assert!(stats.jitter_ms < 0.2, "{stats:?}");
            let rtt = stats.rtt_ms.unwrap();
            assert!(near(rtt, 60.0, 1.0), "rtt {rtt}");
            // G.711's least delay is 10 ms: a frame plays at the first pop
            // at least that long after it arrives.
            assert!((10.0..30.0).contains(&stats.playout_delay_ms), "{stats:?}");
            assert!(stats.mos > 4.35, "{stats:?}");
            assert_eq!(stats.remote_loss_fraction, Some(0.0));
        }
        // Hanging up: the peer hears RTCP BYE.
        let now = call.at(call.ms);
        call.a.session.close(now);
        while let Some(t) = call.a.session.poll_transmit() {
            assert_eq!(t.channel, Channel::Rtcp);
            call.b.session.handle_rtcp(now, &t.bytes);
        }
        assert_eq!(
            call.b.session.poll_event(),
            Some(MediaEvent::Bye {
                ssrc: Ssrc(0xaaaa_0001),
                reason: None
            })
        );
        assert_eq!(call.a.session.poll_timeout(), None);
    }
}

#[test]
fn impaired_g711_path_conceals_loss_and_measures_the_network() {
    let network = Impairment {
        delay_ms: 40,
        jitter_ms: 30,
        loss: 0.03,
        duplicate: 0.02,
        drop_rtp: None,
    };
    let mut call = Call::new(Codec::Pcma, network, network, 12);
    call.run();
    let truth = &call.ab;
    let stats: StreamStats = call.b.session.stats();
    let lost = truth.rtp_lost as f64;
    // RFC 3550 loss cannot see losses after the last packet received.
    assert!(
        near(stats.lost as f64, lost, 2.0),
        "lost {} vs {lost}",
        stats.lost
    );
    let fraction = lost / truth.rtp_sent as f64;
    assert!(
        near(stats.loss_fraction, fraction, 0.005),
        "{} vs {fraction}",
        stats.loss_fraction
    );
    assert!(
        near(stats.duplicates as f64, truth.rtp_duplicated as f64, 1.0),
        "{stats:?}"
    );
    // Every missing frame was concealed, and nothing else went silent.
    let speech = speech(&call.b.played);
    let concealed = count(speech, FrameSource::Concealed);
    assert!(
        concealed as u64 >= stats.lost,
        "{concealed} concealed, {stats:?}"
    );
    assert!(count(speech, FrameSource::Silence) <= 3, "{stats:?}");
    assert!(stats.concealed <= stats.lost + stats.late + 3, "{stats:?}");
    // Uniform 0-30 ms jitter: E|D| = 10 ms; RTT 80 ms plus two jitters.
    assert!(
        near(stats.jitter_ms, 10.0, 3.0),
        "jitter {}",
        stats.jitter_ms
    );
    let rtt = stats.rtt_ms.unwrap();
    assert!((80.0..=140.0).contains(&rtt), "rtt {rtt}");
    assert!(stats.playout_delay_ms >= 25.0, "{stats:?}");
    assert!(stats.late <= 10, "{stats:?}");
    assert!((3.6..4.3).contains(&stats.mos), "{stats:?}");
    let remote = call.a.session.stats().remote_loss_fraction.unwrap();
    assert!(remote < 0.15, "{remote}");
}

#[test]
fn opus_fec_recovers_single_losses() {
    for bandwidth in [OpusBandwidth::Narrowband, OpusBandwidth::Wideband] {
        let every_25th = Impairment {
            drop_rtp: Some(|i| i % 25 == 12),
            ..Impairment::CLEAN
        };
        let mut call = Call::new(Codec::Opus(bandwidth), every_25th, Impairment::CLEAN, 10);
        call.run();
        let stats = call.b.session.stats();
        assert!(stats.lost >= 19, "{stats:?}");
        assert_eq!(stats.lost, call.ab.rtp_lost, "{stats:?}");
        assert_eq!(
            stats.concealed,
            stats.lost + 3,
            "the end is concealed too: {stats:?}"
        );
        // The first loss comes at the clean path's least delay, before the
        // next packet is in hand: concealed. It raises the least delay to a
        // packet time (one stretch), and FEC recovers every later one.
        assert_eq!(stats.stretched, 1, "{bandwidth:?}: {stats:?}");
        assert_eq!(
            stats.fec_recovered,
            stats.lost - 1,
            "{bandwidth:?}: {stats:?}"
        );
        assert!(stats.mos > 4.2, "{stats:?}");
        // The other direction is clean and decodes every frame.
        let back = speech(&call.a.played);
        assert!(back.iter().all(|(s, _)| *s == FrameSource::Decoded));
        assert_eq!(back.len(), call.signal_b.len());
    }
}

#[test]
fn dtmf_digits_arrive_once_each() {
    let network = Impairment {
        delay_ms: 25,
        jitter_ms: 25,
        loss: 0.02,
        duplicate: 0.10,
        drop_rtp: None,
    };
    let mut call = Call::new(Codec::Pcmu, network, network, 6);
    call.dtmf = "147*#0"
        .chars()
        .map(|d| (50, d))
        .chain([(200, '9'), (201, '9')])
        .collect();
    call.run();
    let digits: String = call
        .b
        .events
        .iter()
        .filter_map(|e| match e {
            MediaEvent::Dtmf(d) => Some(*d),
            _ => None,
        })
        .collect();
    assert_eq!(digits, "147*#099");
    let stats = call.b.session.stats();
    assert!(stats.duplicates > 10, "{stats:?}");
    // 8 digits of 100 ms plus their end packets: silence, not concealment.
    assert!(stats.concealed < 30, "{stats:?}");
    assert_eq!(call.a.session.stats().usage_errors, 0);
}

#[test]
fn ssrc_change_mid_stream_is_survived() {
    let network = Impairment {
        delay_ms: 30,
        jitter_ms: 15,
        ..Impairment::CLEAN
    };
    let mut call = Call::new(Codec::Pcma, network, Impairment::CLEAN, 8);
    let config = SessionConfig::new(Codec::Pcma, 0xcccc_0003);
    call.takeover = Some((200, MediaSession::new(config, call.t0, 3).unwrap()));
    call.run();
    let changes: Vec<&MediaEvent> = call
        .b
        .events
        .iter()
        .filter(|e| matches!(e, MediaEvent::RemoteSsrcChanged { .. }))
        .collect();
    assert_eq!(
        changes,
        vec![&MediaEvent::RemoteSsrcChanged {
            old: Ssrc(0xaaaa_0001),
            new: Ssrc(0xcccc_0003)
        }]
    );
    let stats = call.b.session.stats();
    assert_eq!(
        (stats.ssrc_changes, stats.remote_ssrc),
        (1, Some(Ssrc(0xcccc_0003))),
        "{stats:?}"
    );
    assert_eq!(stats.lost, 0, "{stats:?}");
    // The new source plays bit-exact from shortly after the change to the end.
    let expected = round_trip(Codec::Pcma, &call.signal_a);
    let tail: Vec<&Vec<i16>> = speech(&call.b.played)
        .iter()
        .rev()
        .take(150)
        .map(|(_, f)| f)
        .collect();
    for (k, frame) in tail.iter().enumerate() {
        assert_eq!(
            *frame,
            &expected[expected.len() - 1 - k],
            "frame {k} from the end"
        );
    }
    let gap = count(speech(&call.b.played), FrameSource::Concealed)
        + count(speech(&call.b.played), FrameSource::Silence);
    assert!(
        gap <= 6,
        "{gap} frames not decoded around the change; {stats:?}"
    );
}
