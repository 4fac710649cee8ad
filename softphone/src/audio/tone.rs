//! Test tones: generate a sine, find where sound is in a recording, and
//! measure a tone's frequency. Used to check a sound path end to end (this
//! crate's tests, the end-to-end tests that record a call with `--record`).

/// `len` samples of a sine of `hz` at `rate`, peak `amplitude` (at most
/// 32767), starting at phase zero.
pub fn sine(rate: u32, hz: f64, amplitude: f64, len: usize) -> Vec<i16> {
    let step = std::f64::consts::TAU * hz / f64::from(rate);
    (0..len)
        .map(|n| (amplitude * (step * n as f64).sin()).round() as i16)
        .collect()
}

/// The part of `samples` from the first to the last sample louder than
/// `threshold`: a recording without the silence around the sound.
pub fn loud_span(samples: &[i16], threshold: u16) -> &[i16] {
    let loud = |sample: &i16| sample.unsigned_abs() > threshold;
    match (
        samples.iter().position(loud),
        samples.iter().rposition(loud),
    ) {
        (Some(first), Some(last)) => &samples[first..=last],
        _ => &[],
    }
}

/// The frequency of a tone, from the median time between its rising zero
/// crossings (interpolated between samples). The median shrugs off the odd
/// dropout or click of a real sound path, which would skew an average.
/// `None` with fewer than two crossings.
pub fn dominant_frequency(samples: &[i16], rate: u32) -> Option<f64> {
    let crossings: Vec<f64> = samples
        .windows(2)
        .enumerate()
        .filter(|(_, pair)| pair[0] < 0 && pair[1] >= 0)
        .map(|(n, pair)| {
            let (before, after) = (f64::from(pair[0]), f64::from(pair[1]));
            n as f64 + before / (before - after)
        })
        .collect();
    let mut periods: Vec<f64> = crossings.windows(2).map(|w| w[1] - w[0]).collect();
    periods.sort_by(f64::total_cmp);
    let median = periods.get(periods.len() / 2)?;
    Some(f64::from(rate) / median)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn measures_a_generated_tone() {
        for (rate, hz) in [(8000, 1000.0), (16000, 440.0), (48000, 1234.5)] {
            let tone = sine(rate, hz, 10000.0, rate as usize);
            let measured = dominant_frequency(&tone, rate).expect("a tone");
            assert!((measured - hz).abs() < 0.05, "{hz} Hz measured {measured}");
        }
        assert_eq!(dominant_frequency(&[0; 100], 8000), None);
    }

    #[test]
    fn a_dropout_does_not_move_the_measured_frequency() {
        let mut tone = sine(8000, 1000.0, 10000.0, 8000);
        tone[3000..3160].fill(0);
        tone[5001..5081].fill(0);
        let measured = dominant_frequency(&tone, 8000).expect("a tone");
        assert!((measured - 1000.0).abs() < 0.5, "measured {measured}");
    }

    #[test]
    fn loud_span_cuts_the_silence_around_the_sound() {
        let mut recording = vec![0, 3, -2, 0];
        recording.extend([500, -600, 700]);
        recording.extend([1, 0]);
        assert_eq!(loud_span(&recording, 10), &[500, -600, 700]);
        assert!(loud_span(&[1, -1], 10).is_empty());
    }
}
