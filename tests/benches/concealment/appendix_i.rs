//! The concealer this project had before issue 16, kept as it was
//! (its tests and `reset` left out) as the concealment benchmark's baseline: G.711 Appendix I
//! style, extrapolation only.
//!
//! Packet loss concealment for G.711, in the manner of ITU-T G.711
//! Appendix I.
//!
//! The concealer keeps the last 48.75 ms of output. When a frame is lost it
//! estimates the pitch period (the lag of highest normalised
//! autocorrelation between 5 and 15 ms) and repeats the last pitch period,
//! the last two after 10 ms and the last three after 20 ms, so that a long
//! gap does not buzz. Each repeated cycle has its last quarter period
//! overlap-added with the samples before it, so the wrap from the end of
//! the cycle to its start is smooth. After the first 10 ms the output is
//! attenuated by 20 % per 10 ms, so it is silent from 60 ms on. The first
//! good frame after a loss is overlap-added with the continued synthetic
//! signal over a quarter pitch period plus 4 ms per further 10 ms of loss
//! (at most 10 ms).
//!
//! Unlike Appendix I, good frames are not delayed by 3.75 ms to smooth the
//! start of a loss: a clean path must stay bit-exact and add no latency.
//! For a voiced signal the repeated period is the signal's own
//! continuation, so the start of a loss stays continuous anyway.

/// Milliseconds → samples at `rate`.
fn ms(rate: u32, millis: u32) -> usize {
    usize::try_from(rate / 1000 * millis).unwrap_or(usize::MAX)
}

/// G.711 Appendix I style concealer for one stream of 16-bit PCM.
#[derive(Debug, Clone)]
pub struct Plc {
    rate: u32,
    /// The last `history.len()` output samples, oldest first.
    history: Vec<i16>,
    /// The history as it was when the current loss began.
    snapshot: Vec<f32>,
    /// The repeated cycle: the last `periods` pitch periods of the snapshot.
    cycle: Vec<f32>,
    /// The pitch period of the current loss, in samples.
    pitch: usize,
    /// How many periods `cycle` holds (1 to 3).
    periods: usize,
    /// Next sample of `cycle` to play.
    offset: usize,
    /// Samples concealed in the current loss; 0 when none is going on.
    erased: usize,
}

impl Plc {
    /// A concealer for PCM at `rate` Hz, starting from silence.
    pub fn new(rate: u32) -> Self {
        // 3 periods of the longest pitch plus a quarter for the overlap.
        let len = ms(rate, 15) * 13 / 4;
        Self {
            rate,
            history: vec![0; len],
            snapshot: vec![0.0; len],
            cycle: Vec::with_capacity(len),
            pitch: ms(rate, 15),
            periods: 1,
            offset: 0,
            erased: 0,
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
        self.periods = 1;
        self.build_cycle();
        self.offset = 0;
    }

    /// `cycle` = the last `periods` pitch periods of the snapshot, the last
    /// quarter period blended into the samples that precede the cycle's
    /// start, so that playing it in a loop is smooth.
    fn build_cycle(&mut self) {
        let len = self.snapshot.len();
        let span = self.pitch * self.periods;
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

    /// The next synthetic sample, advancing the loss.
    fn next_synthetic(&mut self) -> f32 {
        let ten = ms(self.rate, 10).max(1);
        // More periods after 10 and 20 ms, the same sample kept in place.
        let wanted = (1 + self.erased / ten).min(3);
        if wanted > self.periods && self.pitch * wanted <= self.snapshot.len() {
            self.periods = wanted;
            self.offset += self.pitch;
            self.build_cycle();
        }
        let gain = if self.erased < ten {
            1.0
        } else {
            1.0 - 0.2 * (self.erased - ten) as f32 / ten as f32
        };
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
