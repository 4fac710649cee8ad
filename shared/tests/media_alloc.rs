//! The media hot path allocates (almost) nothing per packet: capture,
//! encode, packetise, receive, buffer, decode and play 20 ms frames for
//! ten virtual seconds in steady state, counting heap allocations on this
//! thread. The output buffer grows in 64 KiB chunks shared by hundreds of
//! packets, so a few allocations remain; none is per packet.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use bytes::Bytes;
use shared::media::{Codec, MediaSession, OpusBandwidth, SessionConfig};

/// A one-way call from A to B with 30 ms of delay.
struct OneWay {
    a: MediaSession,
    b: MediaSession,
    t0: Instant,
    flight: VecDeque<(Instant, Bytes)>,
    pcm: Vec<i16>,
    out: Vec<i16>,
}

impl OneWay {
    fn new(codec: Codec) -> Self {
        let t0 = Instant::now();
        let config = |ssrc| SessionConfig::new(codec, ssrc);
        let a = MediaSession::new(config(1), t0, 1).expect("a valid configuration");
        let b = MediaSession::new(config(2), t0, 2).expect("a valid configuration");
        let spf = a.samples_per_frame();
        Self {
            a,
            b,
            t0,
            flight: VecDeque::with_capacity(16),
            pcm: (0..spf)
                .map(|i| ((i as f64 * 0.3).sin() * 8000.0) as i16)
                .collect(),
            out: vec![0; spf],
        }
    }

    /// Frames `range`: capture and send, deliver what is due, play.
    fn run(&mut self, range: std::ops::Range<u64>) {
        for k in range {
            let now = self.t0 + Duration::from_millis(20 * k);
            self.a.send_frame(now, &self.pcm);
            while let Some(t) = self.a.poll_transmit() {
                self.flight
                    .push_back((now + Duration::from_millis(30), t.bytes));
            }
            while self.flight.front().is_some_and(|(at, _)| *at <= now) {
                if let Some((_, bytes)) = self.flight.pop_front() {
                    self.b.handle_rtp(now, &bytes);
                }
            }
            self.b
                .playout(now + Duration::from_millis(7), &mut self.out);
        }
    }
}

#[test]
fn steady_state_allocates_nothing_per_packet() {
    for codec in [Codec::Pcma, Codec::Opus(OpusBandwidth::Narrowband)] {
        let mut call = OneWay::new(codec);
        // Warm up: buffers, pools and queues reach their working size.
        call.run(0..100);
        let frames = 500;
        let counted = allocation_counter::measure(|| call.run(100..100 + frames));
        assert!(
            counted.count_total <= frames / 100,
            "{codec:?}: {} allocations in {frames} frames",
            counted.count_total
        );
        let stats = call.b.stats();
        assert!(
            stats.played > 590 && stats.lost == 0,
            "{codec:?}: {stats:?}"
        );
    }
}
