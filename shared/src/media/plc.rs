//! Packet loss concealment for PCM at any rate, pitch-synchronous in the
//! manner of ITU-T G.711 Appendix I and WebRTC NetEQ's expand and merge.
//!
//! The concealer keeps the last 35 ms of output. When a frame is lost it
//! estimates the pitch period (the lag of highest normalised
//! autocorrelation between 5 and 15 ms) and repeats the last pitch period,
//! its last quarter period overlap-added with the samples before it, so the
//! wrap from the end of the cycle to its start is smooth. The output fades
//! by 25 % per 10 ms from the start of the loss, silent from 40 ms on, so a
//! long gap does not buzz. (Appendix I's switch to two and three periods
//! after 10 and 20 ms, tried with this fade, cost 0.05-0.09 PESQ.)
//!
//! The end of a loss is merged in one of two ways:
//! - When the frame after the lost one is already here (the jitter buffer
//!   holds it: [`Plc::conceal_before`]), that frame is extended backwards
//!   by repeating its own first pitch period, and the lost frame
//!   cross-fades from the continuation of the past into that extension. The
//!   loss then ends on the phase and level of what follows, and the next
//!   frame plays untouched: interpolation, not extrapolation.
//! - Otherwise the first good frame after the loss is overlap-added with
//!   the continued synthetic signal over a quarter pitch period plus 4 ms
//!   per further 10 ms of loss (at most 10 ms).
//!
//! Unlike Appendix I, good frames are not delayed by 3.75 ms to smooth the
//! start of a loss: a clean path must stay bit-exact and add no latency.
//! For a voiced signal the repeated period is the signal's own
//! continuation, so the start of a loss stays continuous anyway. The
//! buffers are sized once, in [`Plc::new`]: concealing allocates nothing.

/// How much of the level a concealment loses per 10 ms, from its first
/// sample (silent after 40 ms). Tuned on the deterministic replay of
/// `tests/tests/voice_quality.rs` (`cargo bench --bench concealment`):
/// Appendix I's 20 % per 10 ms after 10 ms scored lower at 2-10 % loss,
/// and so did 20 % or 35 % from the start.
const FADE_PER_10_MS: f32 = 0.25;

/// Milliseconds → samples at `rate`.
fn ms(rate: u32, millis: u32) -> usize {
    usize::try_from(rate / 1000 * millis).unwrap_or(usize::MAX)
}

/// Pitch-synchronous concealer for one stream of 16-bit PCM.
#[derive(Debug, Clone)]
pub struct Plc {
    rate: u32,
    /// The last `history.len()` output samples, oldest first.
    history: Vec<i16>,
    /// The history as it was when the current loss began.
    snapshot: Vec<f32>,
    /// The repeated cycle: the last pitch period of the snapshot.
    cycle: Vec<f32>,
    /// The pitch period of the current loss, in samples.
    pitch: usize,
    /// Next sample of `cycle` to play.
    offset: usize,
    /// Samples concealed in the current loss; 0 when none is going on.
    erased: usize,
    /// The start of the frame after a loss, once it is known: its first
    /// samples, to be extended backwards into the lost frame.
    ahead: Vec<f32>,
    /// The backward cycle: the first pitch period of `ahead`, its first
    /// quarter period blended with the samples after it.
    ahead_cycle: Vec<f32>,
}

impl Plc {
    /// A concealer for PCM at `rate` Hz, starting from silence.
    pub fn new(rate: u32) -> Self {
        // The pitch search's 20 ms window and its longest lag.
        let len = ms(rate, 35);
        Self {
            rate,
            history: vec![0; len],
            snapshot: vec![0.0; len],
            cycle: Vec::with_capacity(len),
            pitch: ms(rate, 15),
            offset: 0,
            erased: 0,
            ahead: Vec::with_capacity(len),
            ahead_cycle: Vec::with_capacity(len),
        }
    }

    /// Takes a good frame: after a loss, overlap-adds its start with the
    /// continued synthetic signal (so `frame` is modified); otherwise leaves
    /// it untouched. Either way the frame enters the history.
    pub fn good_frame(&mut self, frame: &mut [i16]) {
        if self.erased > 0 {
            let tens = self.erased / ms(self.rate, 10).max(1);
            let extra = ms(self.rate, 4) * tens.saturating_sub(1);
            let len = (self.pitch / 4 + extra)
                .min(ms(self.rate, 10))
                .min(frame.len());
            let step = 1.0 / (len as f32 + 1.0);
            for (i, sample) in frame.iter_mut().take(len).enumerate() {
                let synthetic = self.next_synthetic();
                let w = (i as f32 + 1.0) * step;
                *sample = saturate(w * f32::from(*sample) + (1.0 - w) * synthetic);
            }
            self.erased = 0;
        }
        self.remember(frame);
    }

    /// Fills `out` with the concealment of a lost frame.
    pub fn conceal(&mut self, out: &mut [i16]) {
        if self.erased == 0 {
            self.start_loss();
        }
        for sample in out.iter_mut() {
            *sample = saturate(self.next_synthetic());
        }
        self.remember(out);
    }

    /// Fills `out` with the concealment of a lost frame whose successor,
    /// `next` (its decoded samples), is already here: the forward
    /// continuation of the past cross-fades into `next` extended backwards
    /// by its own pitch period, so the loss ends on the phase and level of
    /// the signal that follows and that frame needs no merge.
    pub fn conceal_before(&mut self, next: impl IntoIterator<Item = i16>, out: &mut [i16]) {
        if self.erased == 0 {
            self.start_loss();
        }
        self.ahead.clear();
        let room = self.history.len();
        self.ahead
            .extend(next.into_iter().take(room).map(f32::from));
        let pitch = self.build_ahead_cycle();
        let n = out.len();
        let step = 1.0 / (n as f32 + 1.0);
        for (i, sample) in out.iter_mut().enumerate() {
            let forward = self.next_synthetic();
            // Position `i` is `n - i` samples before `next` starts.
            let back = (pitch - (n - i) % pitch) % pitch;
            let backward = self.ahead_cycle.get(back).copied().unwrap_or(0.0);
            let w = (i as f32 + 1.0) * step;
            *sample = saturate((1.0 - w) * forward + w * backward);
        }
        self.remember(out);
        self.erased = 0;
    }

    /// Forgets the signal (a new source).
    pub fn reset(&mut self) {
        self.history.fill(0);
        self.erased = 0;
    }

    fn remember(&mut self, frame: &[i16]) {
        let len = self.history.len();
        if frame.len() >= len {
            let start = frame.len() - len;
            self.history
                .copy_from_slice(frame.get(start..).unwrap_or_default());
        } else {
            self.history.copy_within(frame.len().., 0);
            if let Some(tail) = self.history.get_mut(len - frame.len()..) {
                tail.copy_from_slice(frame);
            }
        }
    }

    fn start_loss(&mut self) {
        for (s, h) in self.snapshot.iter_mut().zip(&self.history) {
            *s = f32::from(*h);
        }
        self.pitch = estimate_pitch(
            &self.snapshot,
            ms(self.rate, 5),
            ms(self.rate, 15),
            ms(self.rate, 20),
        );
        self.build_cycle();
        self.offset = 0;
    }

    /// `cycle` = the last pitch period of the snapshot, its last
    /// quarter period blended into the samples that precede the cycle's
    /// start, so that playing it in a loop is smooth.
    fn build_cycle(&mut self) {
        let len = self.snapshot.len();
        let span = self.pitch;
        let overlap = self.pitch / 4;
        let start = len.saturating_sub(span);
        let before = start.saturating_sub(overlap);
        self.cycle.clear();
        self.cycle
            .extend_from_slice(self.snapshot.get(start..).unwrap_or_default());
        let step = 1.0 / (overlap as f32 + 1.0);
        let tail_start = self.cycle.len().saturating_sub(overlap);
        let preceding = self.snapshot.get(before..start).unwrap_or_default();
        for (j, (sample, prior)) in self
            .cycle
            .iter_mut()
            .skip(tail_start)
            .zip(preceding)
            .enumerate()
        {
            let w = (j as f32 + 1.0) * step;
            *sample = (1.0 - w) * *sample + w * prior;
        }
    }

    /// `ahead_cycle` = the first pitch period of `ahead`, its first quarter
    /// period blended into the samples after the period, so that playing it
    /// backwards in a loop is smooth. Returns the period.
    fn build_ahead_cycle(&mut self) -> usize {
        let (min, max) = (ms(self.rate, 5), ms(self.rate, 15));
        let len = self.ahead.len();
        // The pitch of `ahead`, measured at its start: the same search as
        // for the past, on the samples in reverse.
        self.ahead_cycle.clear();
        self.ahead_cycle.extend(self.ahead.iter().rev());
        let window = len.saturating_sub(max).max(ms(self.rate, 5));
        let pitch = if len >= window + min {
            estimate_pitch(&self.ahead_cycle, min, max, window)
        } else {
            self.pitch
        }
        .min(len)
        .max(1);
        let overlap = (pitch / 4).min(len.saturating_sub(pitch));
        self.ahead_cycle.clear();
        self.ahead_cycle
            .extend_from_slice(self.ahead.get(..pitch).unwrap_or_default());
        let step = 1.0 / (overlap as f32 + 1.0);
        let after = self.ahead.get(pitch..pitch + overlap).unwrap_or_default();
        for (j, (sample, later)) in self.ahead_cycle.iter_mut().zip(after).enumerate() {
            let w = (j as f32 + 1.0) * step;
            *sample = w * *sample + (1.0 - w) * later;
        }
        pitch
    }

    /// The next synthetic sample, advancing the loss.
    fn next_synthetic(&mut self) -> f32 {
        let ten = ms(self.rate, 10).max(1);
        let gain = 1.0 - FADE_PER_10_MS * self.erased as f32 / ten as f32;
        self.erased += 1;
        if self.offset >= self.cycle.len() {
            self.offset = 0;
        }
        let sample = self.cycle.get(self.offset).copied().unwrap_or(0.0);
        self.offset += 1;
        sample * gain.max(0.0)
    }
}

fn saturate(x: f32) -> i16 {
    // `as` saturates float to int conversions.
    x.round() as i16
}

/// The lag in `min..=max` with the highest normalised correlation between
/// the last `window` samples of `signal` and the same span `lag` earlier.
fn estimate_pitch(signal: &[f32], min: usize, max: usize, window: usize) -> usize {
    let len = signal.len();
    let Some(recent) = signal.get(len.saturating_sub(window)..) else {
        return max;
    };
    let energy: f32 = recent.iter().map(|x| x * x).sum();
    let mut best = (max, 0.0f32);
    for lag in min..=max {
        let Some(earlier) = len
            .checked_sub(window + lag)
            .and_then(|start| signal.get(start..start + window))
        else {
            break;
        };
        let (mut cross, mut lagged) = (0.0f32, 0.0f32);
        for (x, y) in recent.iter().zip(earlier) {
            cross += x * y;
            lagged += y * y;
        }
        let denominator = (energy * lagged).sqrt();
        if denominator > 0.0 && cross / denominator > best.1 {
            best = (lag, cross / denominator);
        }
    }
    best.0
}

#[cfg(test)]
mod tests {
    use super::*;

    const RATE: u32 = 8000;
    const FRAME: usize = 160;

    fn sine_at(rate: u32, freq: f32, amp: f32, n: usize) -> Vec<i16> {
        (0..n)
            .map(|i| {
                (amp * (2.0 * std::f32::consts::PI * freq * i as f32 / rate as f32).sin()) as i16
            })
            .collect()
    }

    fn sine(freq: f32, amp: f32, n: usize) -> Vec<i16> {
        sine_at(RATE, freq, amp, n)
    }

    /// A voiced sound: a 125 Hz fundamental and its harmonics, falling off
    /// as a glottal source does (a period of 64 samples at 8 kHz).
    fn voiced(rate: u32, n: usize) -> Vec<f32> {
        (0..n)
            .map(|i| {
                (1..=12)
                    .map(|h| {
                        let phase = 2.0 * std::f32::consts::PI * 125.0 * h as f32 * i as f32;
                        3000.0 / h as f32 * (phase / rate as f32 + h as f32).sin()
                    })
                    .sum()
            })
            .collect()
    }

    fn rms(x: &[i16]) -> f32 {
        (x.iter().map(|&s| f32::from(s).powi(2)).sum::<f32>() / x.len() as f32).sqrt()
    }

    fn max_step(x: &[i16]) -> i32 {
        x.windows(2)
            .map(|w| (i32::from(w[1]) - i32::from(w[0])).abs())
            .max()
            .unwrap_or(0)
    }

    fn zero_crossings(x: &[i16]) -> usize {
        x.windows(2).filter(|w| (w[0] < 0) != (w[1] < 0)).count()
    }

    fn error_rms(a: &[i16], b: &[i16]) -> f32 {
        let error: Vec<i16> = a.iter().zip(b).map(|(x, y)| x - y).collect();
        rms(&error)
    }

    /// Plays `signal` (at `rate`, in frames of `frame` samples) frame by
    /// frame, losing the frames in `lost`. With `bridge`, a lost frame whose
    /// successor is not lost is concealed knowing that successor, as the
    /// jitter buffer allows when it already holds the next packet.
    fn play_at(rate: u32, frame: usize, signal: &[i16], lost: &[usize], bridge: bool) -> Vec<i16> {
        let mut plc = Plc::new(rate);
        let mut out = Vec::new();
        let frames: Vec<&[i16]> = signal.chunks(frame).collect();
        for (n, chunk) in frames.iter().enumerate() {
            let mut frame = chunk.to_vec();
            let next = frames
                .get(n + 1)
                .filter(|_| bridge && !lost.contains(&(n + 1)));
            match (lost.contains(&n), next) {
                (true, Some(next)) => plc.conceal_before(next.iter().copied(), &mut frame),
                (true, None) => plc.conceal(&mut frame),
                (false, _) => plc.good_frame(&mut frame),
            }
            out.extend_from_slice(&frame);
        }
        out
    }

    fn play(signal: &[i16], lost: &[usize]) -> Vec<i16> {
        play_at(RATE, FRAME, signal, lost, false)
    }

    #[test]
    fn good_frames_pass_bit_exact() {
        let signal = sine(300.0, 9000.0, FRAME * 20);
        assert_eq!(play(&signal, &[]), signal);
    }

    #[test]
    fn the_pitch_of_a_voiced_signal_is_found_at_any_rate() {
        for rate in [8000, 16_000] {
            let signal = voiced(rate, ms(rate, 50));
            let lag = estimate_pitch(&signal, ms(rate, 5), ms(rate, 15), ms(rate, 20));
            assert_eq!(lag, ms(rate, 8), "{rate} Hz");
        }
    }

    #[test]
    fn a_sine_keeps_its_frequency_and_phase_across_a_one_frame_loss() {
        let signal = sine(440.0, 8000.0, FRAME * 20);
        let out = play(&signal, &[10]);
        let lost = &out[FRAME * 10..FRAME * 11];
        let truth = &signal[FRAME * 10..FRAME * 11];
        let crossings = zero_crossings(lost);
        assert!((16..=19).contains(&crossings), "{crossings} zero crossings");
        // The first 5 ms follow the true continuation closely (the fade has
        // taken 12.5 % by then).
        let snr =
            20.0 * (rms(&truth[..40]) / error_rms(&lost[..40], &truth[..40]).max(1.0)).log10();
        assert!(snr > 15.0, "SNR {snr} dB");
        // Frames after the loss are back to the signal once the overlap is over.
        assert_eq!(&out[FRAME * 11 + 80..], &signal[FRAME * 11 + 80..]);
    }

    #[test]
    fn seams_stay_continuous_bridged_or_not() {
        for rate in [8000, 16_000] {
            let frame = ms(rate, 20);
            let signal = sine_at(rate, 440.0, 8000.0, frame * 20);
            let bound = max_step(&signal) * 3 / 2;
            for bridge in [false, true] {
                for lost in [vec![10], vec![10, 11], vec![5, 6, 7, 8, 9]] {
                    let out = play_at(rate, frame, &signal, &lost, bridge);
                    let around = &out[frame * 4..frame * 16];
                    assert!(
                        max_step(around) <= bound,
                        "{rate} Hz, bridged {bridge}, {lost:?}: step {} > {bound}",
                        max_step(around)
                    );
                }
            }
        }
    }

    #[test]
    fn a_bridged_loss_lands_on_the_next_frame_which_plays_untouched() {
        let signal: Vec<i16> = voiced(RATE, FRAME * 20).iter().map(|&x| x as i16).collect();
        let bridged = play_at(RATE, FRAME, &signal, &[10], true);
        let extrapolated = play(&signal, &[10]);
        // The next frame needs no merge: it is exactly what was sent.
        assert_eq!(&bridged[FRAME * 11..], &signal[FRAME * 11..]);
        // Its last samples are the next frame's own backward continuation.
        let truth = &signal[FRAME * 10..FRAME * 11];
        let tail = FRAME - 40..FRAME;
        let lost = &bridged[FRAME * 10..FRAME * 11];
        let snr = 20.0
            * (rms(&truth[tail.clone()]) / error_rms(&lost[tail.clone()], &truth[tail]).max(1.0))
                .log10();
        assert!(snr > 15.0, "SNR {snr} dB at the end of the bridged frame");
        // Over the whole frame, bridging is closer to the truth than the
        // past's faded continuation alone.
        let (b, e) = (
            error_rms(lost, truth),
            error_rms(&extrapolated[FRAME * 10..FRAME * 11], truth),
        );
        assert!(b < 0.5 * e, "bridged error {b}, extrapolated {e}");
    }

    #[test]
    fn a_long_loss_fades_monotonically_to_silence() {
        let signal = sine(250.0, 10_000.0, FRAME * 20);
        let out = play(&signal, &[10, 11, 12, 13, 14]);
        let gap = &out[FRAME * 10..FRAME * 15];
        let period = 32; // 250 Hz at 8 kHz
        let levels: Vec<f32> = gap.chunks(period).map(rms).collect();
        assert!(levels[0] > 0.8 * rms(&signal[..period]), "{levels:?}");
        // 25 % per 10 ms: silent once 40 ms have passed.
        let silent = ms(RATE, 40) / period;
        for pair in levels[..silent].windows(2) {
            assert!(pair[1] < pair[0], "not fading: {levels:?}");
        }
        assert!(gap[ms(RATE, 40)..].iter().all(|&s| s == 0), "not silent");
        // The good frame after the loss fades in from silence.
        let back = &out[FRAME * 15..FRAME * 16];
        assert!(back[0].abs() < 1000 && rms(&back[80..]) > 6000.0);
    }

    #[test]
    fn concealing_allocates_nothing() {
        let signal = sine(200.0, 9000.0, FRAME * 60);
        let mut plc = Plc::new(RATE);
        let mut frame = [0i16; FRAME];
        let counted = allocation_counter::measure(|| {
            for (n, chunk) in signal.chunks(FRAME).enumerate() {
                frame.copy_from_slice(chunk);
                match n % 5 {
                    1 => plc.conceal(&mut frame),
                    3 => {
                        plc.conceal_before(signal.iter().skip((n + 1) * FRAME).copied(), &mut frame)
                    }
                    _ => plc.good_frame(&mut frame),
                }
            }
        });
        assert_eq!(counted.count_total, 0);
    }

    #[test]
    fn loss_before_any_signal_is_silent_and_reset_forgets() {
        let mut plc = Plc::new(RATE);
        let mut frame = vec![7; FRAME];
        plc.conceal(&mut frame);
        assert!(frame.iter().all(|&s| s == 0));
        let mut loud = sine(300.0, 9000.0, FRAME);
        plc.good_frame(&mut loud);
        plc.reset();
        plc.conceal(&mut frame);
        assert!(frame.iter().all(|&s| s == 0));
    }
}
