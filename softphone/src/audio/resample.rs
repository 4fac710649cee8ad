//! Fixed-ratio conversion between a device's rate and the codec's, with
//! rubato's FFT resampler (the rates are locked: both sides run on the
//! device clock, so no drift to track).
//!
//! rubato processes chunks into preallocated buffers without allocating,
//! so [`ChunkResampler`] runs inside the audio callbacks. Its codec side is
//! fixed to whole codec frames: capture emits exactly one frame at a time
//! and playback takes exactly one frame at a time, whatever the device's
//! rate, so the media driver never has to queue more than a frame or two.
//! Every buffer is sized once, when the resampler is made.

use rubato::audioadapter_buffers::direct::InterleavedSlice;
use rubato::{Fft, FixedSync, Resampler};

use super::AudioError;

/// Bounds the chunks one `push` or `pull` may process: a chunk can need no
/// new input (or give no output) when the previous one left enough behind,
/// but never many times in a row.
const MAX_ROUNDS: usize = 64;

/// Streams mono samples from one rate to another in chunks.
pub(crate) struct ChunkResampler {
    /// `None` when both rates are equal: frames pass through unchanged.
    fft: Option<Fft<f32>>,
    input: Vec<f32>,
    /// Input samples the next chunk needs (at most `input.len()`).
    needed: usize,
    filled: usize,
    output: Vec<f32>,
    produced: usize,
    read: usize,
}

impl ChunkResampler {
    /// For capture: device samples in, codec frames of `frame` samples out.
    pub(crate) fn to_frames(from: u32, to: u32, frame: usize) -> Result<Self, AudioError> {
        Self::new(from, to, frame, FixedSync::Output)
    }

    /// For playback: codec frames of `frame` samples in, device samples out.
    pub(crate) fn from_frames(from: u32, to: u32, frame: usize) -> Result<Self, AudioError> {
        Self::new(from, to, frame, FixedSync::Input)
    }

    fn new(from: u32, to: u32, frame: usize, fixed: FixedSync) -> Result<Self, AudioError> {
        let frame = frame.max(1);
        let (fft, input, needed, output) = if from == to {
            (None, frame, frame, frame)
        } else {
            let fft = Fft::<f32>::new(from as usize, to as usize, frame, 1, fixed)?;
            let sizes = (fft.input_frames_max(), fft.input_frames_next());
            let output = fft.output_frames_max();
            (Some(fft), sizes.0, sizes.1, output)
        };
        Ok(Self {
            fft,
            input: vec![0.0; input],
            needed,
            filled: 0,
            output: vec![0.0; output],
            produced: 0,
            read: 0,
        })
    }

    /// The most input samples one chunk takes.
    pub(crate) fn input_chunk(&self) -> usize {
        self.input.len()
    }

    /// The most output samples one chunk gives.
    pub(crate) fn output_chunk(&self) -> usize {
        self.output.len()
    }

    /// Adds one input sample; `emit` receives each chunk of output that
    /// completes (for capture: exactly one codec frame each time).
    pub(crate) fn push(&mut self, sample: f32, mut emit: impl FnMut(&[f32])) {
        if let Some(slot) = self.input.get_mut(self.filled) {
            *slot = sample;
            self.filled += 1;
        }
        for _ in 0..MAX_ROUNDS {
            if self.filled < self.needed {
                return;
            }
            self.filled = 0;
            let produced = self.process();
            if let Some(chunk) = self.output.get(..produced) {
                emit(chunk);
            }
        }
    }

    /// The next output sample; whenever the output is used up, `refill`
    /// writes the input of a new chunk first (for playback: exactly one
    /// codec frame each time).
    pub(crate) fn pull(&mut self, mut refill: impl FnMut(&mut [f32])) -> f32 {
        for _ in 0..MAX_ROUNDS {
            if self.read < self.produced {
                break;
            }
            let needed = self.needed.min(self.input.len());
            refill(&mut self.input[..needed]);
            self.produced = self.process();
            self.read = 0;
        }
        let sample = match self.output.get(self.read) {
            Some(&sample) if self.read < self.produced => sample,
            _ => 0.0,
        };
        self.read += 1;
        sample
    }

    /// Resamples the `needed` input samples into `output`; returns how many
    /// output samples that gave.
    fn process(&mut self) -> usize {
        let frames_in = self.needed.min(self.input.len());
        let Some(fft) = self.fft.as_mut() else {
            self.output[..frames_in].copy_from_slice(&self.input[..frames_in]);
            return frames_in;
        };
        let frames_out = fft.output_frames_next().min(self.output.len());
        let capacity = self.output.len();
        let result = match (
            InterleavedSlice::new(&self.input[..], 1, frames_in),
            InterleavedSlice::new_mut(&mut self.output[..], 1, capacity),
        ) {
            (Ok(input), Ok(mut output)) => fft.process_into_buffer(&input, &mut output, None),
            // Unreachable: both buffers were sized by the resampler itself.
            _ => Ok((frames_in, 0)),
        };
        self.needed = fft.input_frames_next();
        match result {
            Ok((_, produced)) => produced,
            // Also unreachable for the same reason; a silent chunk keeps
            // the stream's timing if it ever happens.
            Err(_) => {
                self.output[..frames_out].fill(0.0);
                frames_out
            }
        }
    }
}

/// Resamples a whole clip (a `--play` file) at once; not for callbacks.
pub(crate) fn convert_clip(samples: &[f32], from: u32, to: u32) -> Result<Vec<f32>, AudioError> {
    if from == to || samples.is_empty() {
        return Ok(samples.to_vec());
    }
    let mut fft = Fft::<f32>::new(from as usize, to as usize, 1024, 1, FixedSync::Both)?;
    let input = InterleavedSlice::new(samples, 1, samples.len()).map_err(|_| {
        AudioError::Resample(rubato::ResampleError::InsufficientInputBufferSize {
            expected: samples.len(),
            actual: samples.len(),
        })
    })?;
    let output = fft.process_all(&input, samples.len(), None)?;
    Ok(output.take_data())
}

/// A sample in -1.0..1.0 as 16-bit PCM, clipped.
pub(crate) fn to_i16(sample: f32) -> i16 {
    (sample * 32768.0).round().clamp(-32768.0, 32767.0) as i16
}

/// 16-bit PCM as a sample in -1.0..1.0.
pub(crate) fn from_i16(sample: i16) -> f32 {
    f32::from(sample) / 32768.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audio::tone::{dominant_frequency, sine};

    /// Streams `signal` through a capture resampler; returns the output
    /// and the sizes of the chunks it came in.
    fn capture(from: u32, to: u32, signal: &[i16]) -> (Vec<i16>, Vec<usize>) {
        let frame = to as usize / 50;
        let mut resampler = ChunkResampler::to_frames(from, to, frame).expect("resampler");
        let (mut out, mut chunks) = (Vec::new(), Vec::new());
        for &sample in signal {
            resampler.push(from_i16(sample), |chunk| {
                chunks.push(chunk.len());
                out.extend(chunk.iter().map(|&s| to_i16(s)));
            });
        }
        (out, chunks)
    }

    #[test]
    fn capture_keeps_the_tone_and_the_rate_in_whole_frames() {
        for (from, to) in [
            (48000, 8000),
            (44100, 8000),
            (11025, 8000),
            (8000, 16000),
            (16000, 16000),
        ] {
            let tone = sine(from, 1000.0, 12000.0, from as usize);
            let (out, chunks) = capture(from, to, &tone);
            let frame = to as usize / 50;
            assert!(
                chunks.iter().all(|&len| len == frame),
                "{from}->{to}: {chunks:?}"
            );
            let expected = to as usize;
            assert!(
                out.len().abs_diff(expected) <= expected / 20,
                "{from}->{to}: {}",
                out.len()
            );
            // Skip the resampler's start-up delay.
            let steady = &out[out.len() / 4..];
            let hz = dominant_frequency(steady, to).expect("a tone");
            assert!((hz - 1000.0).abs() < 1.0, "{from}->{to}: {hz} Hz");
        }
    }

    #[test]
    fn playback_takes_whole_frames_and_keeps_the_tone() {
        for to in [48000, 44100, 11025, 8000] {
            let tone = sine(8000, 1000.0, 12000.0, 8000);
            let mut resampler = ChunkResampler::from_frames(8000, to, 160).expect("resampler");
            assert_eq!(resampler.input_chunk(), 160);
            let mut position = 0;
            let out: Vec<i16> = (0..to)
                .map(|_| {
                    to_i16(resampler.pull(|input| {
                        assert_eq!(input.len(), 160);
                        for slot in input.iter_mut() {
                            *slot = from_i16(tone.get(position).copied().unwrap_or(0));
                            position += 1;
                        }
                    }))
                })
                .collect();
            assert!(
                position.abs_diff(8000) <= 320,
                "8000->{to}: took {position}"
            );
            let steady = &out[to as usize / 4..to as usize * 3 / 4];
            let hz = dominant_frequency(steady, to).expect("a tone");
            assert!((hz - 1000.0).abs() < 1.0, "8000->{to}: {hz} Hz");
        }
    }

    #[test]
    fn push_and_pull_do_not_allocate() {
        let mut capture = ChunkResampler::to_frames(44100, 8000, 160).expect("resampler");
        let mut playback = ChunkResampler::from_frames(8000, 11025, 160).expect("resampler");
        let counted = allocation_counter::measure(|| {
            for n in 0..10_000 {
                capture.push((n % 100) as f32 / 100.0, |chunk| {
                    std::hint::black_box(chunk);
                });
                let _ = playback.pull(|input| input.fill(0.25));
            }
        });
        assert_eq!(counted.count_total, 0);
    }

    #[test]
    fn clip_conversion_keeps_length_and_pitch() {
        let tone: Vec<f32> = sine(44100, 1000.0, 12000.0, 44100)
            .into_iter()
            .map(from_i16)
            .collect();
        let out: Vec<i16> = convert_clip(&tone, 44100, 8000)
            .expect("converted")
            .into_iter()
            .map(to_i16)
            .collect();
        assert!(out.len().abs_diff(8000) <= 1, "{}", out.len());
        let hz = dominant_frequency(&out[400..7600], 8000).expect("a tone");
        assert!((hz - 1000.0).abs() < 0.5, "{hz} Hz");
    }
}
