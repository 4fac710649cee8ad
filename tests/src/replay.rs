//! Speech through an impaired path, replayed deterministically: the real
//! media sessions (codec, jitter buffer, concealment) on a virtual clock,
//! with packets dropped and delayed by a seeded impairment, so concealment
//! and zero-fill face exactly the same losses and the scores do not depend
//! on how busy the machine is. Shared by the voice-quality test and the
//! concealment benchmark.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use shared::media::{Channel, Codec, FrameSource, MediaSession, SessionConfig};

use crate::impair::Impairment;
use crate::speech::mos;

/// The loss patterns every figure is averaged over: one seed can be
/// favourable (its losses falling in pauses) or not.
pub const SEEDS: [u64; 6] = [1, 2, 3, 4, 5, 6];

/// The loss rates of the ladder.
pub const LOSS_LADDER: [f64; 3] = [0.02, 0.05, 0.10];

/// The impairment of the ladder at `loss` for loss pattern `seed`: one way
/// delay of 40 ± 20 ms (uniform in 20..60 ms), so packets also reorder.
pub fn ladder_impairment(loss: f64, seed: u64) -> Impairment {
    Impairment {
        loss,
        delay: Duration::from_millis(20),
        jitter: Duration::from_millis(40),
        seed,
    }
}

/// What the receiver played, frame by frame.
#[derive(Debug, Clone)]
pub struct Heard {
    /// The played samples, at the codec's PCM rate.
    pub samples: Vec<i16>,
    /// Where each 20 ms frame of `samples` came from.
    pub sources: Vec<FrameSource>,
}

/// `reference` (8 kHz) sent as G.711 A-law through `impairment` to a
/// receiver that conceals lost frames (`concealment`) or plays them as
/// silence.
pub fn through_impairment(reference: &[i16], impairment: Impairment, concealment: bool) -> Heard {
    through_impairment_in(Codec::Pcma, reference, impairment, concealment)
}

/// [`through_impairment`] in `codec`, `reference` at its PCM rate.
pub fn through_impairment_in(
    codec: Codec,
    reference: &[i16],
    impairment: Impairment,
    concealment: bool,
) -> Heard {
    let t0 = Instant::now();
    let mut sender = MediaSession::new(SessionConfig::new(codec, 1), t0, 1).expect("sender");
    let config = SessionConfig {
        concealment,
        ..SessionConfig::new(codec, 2)
    };
    let spf = sender.samples_per_frame();
    let mut receiver = MediaSession::new(config, t0, 2).expect("receiver");
    let mut rng = StdRng::seed_from_u64(impairment.seed);
    // Packets in flight by arrival time (µs after t0, then sending order).
    let mut in_flight: BTreeMap<(u128, usize), Vec<u8>> = BTreeMap::new();
    let frames = reference.len().div_ceil(spf) + 25;
    let mut heard = Heard {
        samples: Vec::with_capacity(frames * spf),
        sources: Vec::with_capacity(frames),
    };
    let (mut frame, mut input, mut sent) = (vec![0i16; spf], vec![0i16; spf], 0usize);
    for k in 0..frames {
        let now = t0 + Duration::from_millis(20 * k as u64);
        input.fill(0);
        for (sample, source) in input.iter_mut().zip(reference.iter().skip(k * spf)) {
            *sample = *source;
        }
        sender.send_frame(now, &input);
        while let Some(transmit) = sender.poll_transmit() {
            let lost = rng.random_bool(impairment.loss);
            let delay = impairment.delay + impairment.jitter.mul_f64(rng.random::<f64>());
            if transmit.channel == Channel::Rtp && !lost {
                let arrival = (now + delay).duration_since(t0).as_micros();
                in_flight.insert((arrival, sent), transmit.bytes.to_vec());
            }
            sent += 1;
        }
        let due = now.duration_since(t0).as_micros();
        while let Some(entry) = in_flight.first_entry().filter(|entry| entry.key().0 <= due) {
            let ((arrival, _), packet) = entry.remove_entry();
            receiver.handle_rtp(t0 + Duration::from_micros(arrival as u64), &packet);
        }
        heard.sources.push(receiver.playout(now, &mut frame));
        heard.samples.extend_from_slice(&frame);
    }
    heard
}

/// The PESQ MOS-LQO of `reference` through `impairment` at each loss rate
/// of [`LOSS_LADDER`], averaged over [`SEEDS`]; `play` turns the reference
/// and an impairment into what the listener hears.
pub fn ladder(reference: &[i16], play: impl Fn(Impairment) -> Vec<i16>) -> [f32; 3] {
    LOSS_LADDER.map(|loss| {
        let total: f32 = SEEDS
            .iter()
            .map(|&seed| mos(reference, &play(ladder_impairment(loss, seed))))
            .sum();
        total / SEEDS.len() as f32
    })
}
