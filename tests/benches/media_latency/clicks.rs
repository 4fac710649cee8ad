//! The test signal and its analysis: silence with sharp clicks, and where
//! the clicks are in a recording.
//!
//! A click is a 1 ms full-scale pulse. Click k starts `LEAD_IN + k ×
//! interval + k × SHIFT` into the file: the small shift moves it across the
//! 20 ms frame, so the clicks do not all sit at the same place in a frame.
//! Under the clicks, a quiet tick marker: a constant level per 20 ms frame,
//! [`MARKER`] and twice that in turn (−72 / −66 dBFS), so that the level
//! meter changes at every tick of the device clock that plays the file
//! (`stamped.rs`). Both phones play the file; only B's recording counts.
//! In a recording, a click's *onset* is the first sample of at least half
//! the peak within 5 ms of where the sound crossed [`THRESHOLD`]: the pulse's
//! first sample for G.711, within a fraction of a ms of it for Opus.

use std::path::Path;
use std::time::Duration;

use anyhow::Context as _;

/// Silence before the first click: media starts, the jitter buffer settles.
const LEAD_IN: Duration = Duration::from_secs(2);
/// Silence after the last click.
const TAIL: Duration = Duration::from_secs(1);
/// Moves click k by k × this within the frame.
const SHIFT: Duration = Duration::from_micros(2300);
/// A sound louder than this (−12 dBFS) is a click.
const THRESHOLD: u16 = 8192;
/// The tick marker's level in even frames; odd frames have twice this.
const MARKER: i16 = 8;

/// The clicks of a played file.
#[derive(Debug, Clone)]
pub struct Clicks {
    pub rate: u32,
    /// Where each click starts, in samples.
    pub positions: Vec<usize>,
    pub samples: Vec<i16>,
}

impl Clicks {
    pub fn new(rate: u32, count: usize, interval: Duration) -> Self {
        let at = |d: Duration| (d.as_secs_f64() * f64::from(rate)).round() as usize;
        let positions: Vec<usize> = (0..count as u32)
            .map(|k| at(LEAD_IN + interval * k + SHIFT * k))
            .collect();
        let pulse = at(Duration::from_millis(1)).max(1);
        let len = positions.last().map_or(0, |last| last + at(TAIL));
        let mut samples = marker(rate, len);
        for &position in &positions {
            for sample in samples.iter_mut().skip(position).take(pulse) {
                *sample = i16::MAX;
            }
        }
        Self {
            rate,
            positions,
            samples,
        }
    }

    /// How long the file plays.
    pub fn duration(&self) -> Duration {
        Duration::from_secs_f64(self.samples.len() as f64 / f64::from(self.rate))
    }

    /// The clicks with the marker.
    pub fn write(&self, path: &Path) -> anyhow::Result<()> {
        write(path, self.rate, &self.samples)
    }

    /// The frame (of 20 ms) each click starts in.
    pub fn frames(&self) -> Vec<usize> {
        let frame = (self.rate / 50) as usize;
        self.positions.iter().map(|p| p / frame).collect()
    }
}

/// `len` samples of the tick marker at `rate`.
fn marker(rate: u32, len: usize) -> Vec<i16> {
    let frame = (rate / 50) as usize;
    (0..len)
        .map(|n| {
            if (n / frame).is_multiple_of(2) {
                MARKER
            } else {
                2 * MARKER
            }
        })
        .collect()
}

fn write(path: &Path, rate: u32, samples: &[i16]) -> anyhow::Result<()> {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut writer = hound::WavWriter::create(path, spec)
        .with_context(|| format!("cannot create {}", path.display()))?;
    for &sample in samples {
        writer.write_sample(sample)?;
    }
    writer.finalize()?;
    Ok(())
}

/// A recording's samples, checked to be mono at `rate`.
pub fn read(path: &Path, rate: u32) -> anyhow::Result<Vec<i16>> {
    let reader =
        hound::WavReader::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let spec = reader.spec();
    anyhow::ensure!(
        spec.channels == 1 && spec.sample_rate == rate,
        "{}: {} channels at {} Hz, expected mono at {rate} Hz",
        path.display(),
        spec.channels,
        spec.sample_rate
    );
    Ok(reader.into_samples::<i16>().collect::<Result<_, _>>()?)
}

/// The onsets of the clicks heard in `samples`, in samples; sounds closer
/// than half a second to the previous one belong to it (a concealed copy,
/// the codec's ringing).
pub fn onsets(samples: &[i16], rate: u32) -> Vec<usize> {
    let window = (rate / 200) as usize; // 5 ms
    let gap = (rate / 2) as usize;
    let mut onsets = Vec::new();
    let mut index = 0;
    while index < samples.len() {
        if samples[index].unsigned_abs() < THRESHOLD {
            index += 1;
            continue;
        }
        let from = index.saturating_sub(window);
        let to = (index + window).min(samples.len());
        let near = &samples[from..to];
        let peak = near.iter().map(|s| s.unsigned_abs()).max().unwrap_or(0);
        let onset = near
            .iter()
            .position(|s| s.unsigned_abs() >= peak / 2)
            .map_or(index, |offset| from + offset);
        onsets.push(onset);
        index = onset + gap;
    }
    onsets
}
