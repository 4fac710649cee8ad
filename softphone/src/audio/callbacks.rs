//! The bodies of the sound card callbacks: down-mix or up-mix, convert the
//! sample format, resample, and move whole frames through the rings.
//!
//! Why they never block or allocate: every buffer (resampler chunks, the
//! `i16` scratch frame) is sized when the stream is built; the rings are
//! wait-free; the ring end sits in a mutex shared with the supervisor only
//! so that it can take over the ring while no device runs, and the callback
//! merely `try_lock`s it (an uncontended compare-and-swap), playing silence
//! in the never-expected case that it is held. The tests measure it: zero
//! allocations per callback.

use std::sync::{Arc, Mutex};

use cpal::{FromSample, Sample};

use super::controls::{CaptureSink, PlaybackSource};
use super::health::StreamHealth;
use super::resample::{ChunkResampler, from_i16, to_i16};

/// State of an input stream's callback.
pub(crate) struct CaptureSide {
    sink: Arc<Mutex<CaptureSink>>,
    resampler: ChunkResampler,
    channels: usize,
    scratch: Vec<i16>,
    health: Arc<StreamHealth>,
}

impl CaptureSide {
    pub(crate) fn new(
        sink: Arc<Mutex<CaptureSink>>,
        resampler: ChunkResampler,
        channels: u16,
        health: Arc<StreamHealth>,
    ) -> Self {
        let scratch = vec![0; resampler.output_chunk()];
        Self {
            sink,
            resampler,
            channels: usize::from(channels.max(1)),
            scratch,
            health,
        }
    }

    /// Takes interleaved device frames; the channels are averaged.
    pub(crate) fn process<T>(&mut self, data: &[T])
    where
        T: Sample,
        f32: FromSample<T>,
    {
        self.health.beat();
        let Ok(mut sink) = self.sink.try_lock() else {
            return;
        };
        let scale = 1.0 / self.channels as f32;
        let scratch = &mut self.scratch;
        for frame in data.chunks_exact(self.channels) {
            let mono = frame.iter().map(|s| s.to_sample::<f32>()).sum::<f32>() * scale;
            self.resampler.push(mono, |chunk| {
                let len = chunk.len().min(scratch.len());
                let pcm = &mut scratch[..len];
                for (slot, &sample) in pcm.iter_mut().zip(chunk) {
                    *slot = to_i16(sample);
                }
                sink.push(pcm);
            });
        }
    }
}

/// State of an output stream's callback.
pub(crate) struct PlaybackSide {
    source: Arc<Mutex<PlaybackSource>>,
    resampler: ChunkResampler,
    channels: usize,
    scratch: Vec<i16>,
    health: Arc<StreamHealth>,
}

impl PlaybackSide {
    pub(crate) fn new(
        source: Arc<Mutex<PlaybackSource>>,
        resampler: ChunkResampler,
        channels: u16,
        health: Arc<StreamHealth>,
    ) -> Self {
        let scratch = vec![0; resampler.input_chunk()];
        Self {
            source,
            resampler,
            channels: usize::from(channels.max(1)),
            scratch,
            health,
        }
    }

    /// Fills interleaved device frames; every channel gets the same sound.
    pub(crate) fn process<T>(&mut self, data: &mut [T])
    where
        T: Sample + FromSample<f32>,
    {
        self.health.beat();
        let Ok(mut source) = self.source.try_lock() else {
            data.fill(T::EQUILIBRIUM);
            return;
        };
        let scratch = &mut self.scratch;
        for frame in data.chunks_exact_mut(self.channels) {
            let sample = self.resampler.pull(|input| {
                let len = input.len().min(scratch.len());
                let pcm = &mut scratch[..len];
                source.pull(pcm);
                for (slot, &sample) in input.iter_mut().zip(pcm.iter()) {
                    *slot = from_i16(sample);
                }
            });
            frame.fill(T::from_sample(sample));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audio::controls::AudioControls;
    use crate::audio::tone::{dominant_frequency, sine};

    fn capture(device_rate: u32, channels: u16) -> (CaptureSide, rtrb::Consumer<i16>) {
        let (producer, consumer) = rtrb::RingBuffer::new(8000);
        let sink = CaptureSink::new(producer, Arc::new(AudioControls::default()), 160);
        let resampler = ChunkResampler::to_frames(device_rate, 8000, 160).expect("resampler");
        let side = CaptureSide::new(
            Arc::new(Mutex::new(sink)),
            resampler,
            channels,
            Arc::default(),
        );
        (side, consumer)
    }

    fn playback(device_rate: u32, channels: u16) -> (PlaybackSide, rtrb::Producer<i16>) {
        let (producer, consumer) = rtrb::RingBuffer::new(8000);
        let source = PlaybackSource::new(consumer, Arc::new(AudioControls::default()));
        let resampler = ChunkResampler::from_frames(8000, device_rate, 160).expect("resampler");
        let side = PlaybackSide::new(
            Arc::new(Mutex::new(source)),
            resampler,
            channels,
            Arc::default(),
        );
        (side, producer)
    }

    #[test]
    fn a_stereo_f32_microphone_arrives_as_mono_8khz() {
        let (mut side, mut ring) = capture(48000, 2);
        let tone = sine(48000, 1000.0, 16000.0, 48000);
        let stereo: Vec<f32> = tone
            .iter()
            .flat_map(|&s| [from_i16(s), from_i16(s)])
            .collect();
        // Device callbacks of 441 frames: not a multiple of the chunk.
        for callback in stereo.chunks(882) {
            side.process(callback);
        }
        let received: Vec<i16> = std::iter::from_fn(|| ring.pop().ok()).collect();
        assert_eq!(received.len(), 8000);
        let hz = dominant_frequency(&received[2000..], 8000).expect("a tone");
        assert!((hz - 1000.0).abs() < 1.0, "{hz} Hz");
        assert_eq!(side.health.callbacks(), 109);
    }

    #[test]
    fn playback_reaches_every_channel_of_an_i16_speaker() {
        let (mut side, mut ring) = playback(44100, 2);
        let tone = sine(8000, 1000.0, 16000.0, 8000);
        let mut output = vec![0i16; 2 * 44100];
        let mut sent = 0;
        for callback in output.chunks_mut(1024) {
            while sent < tone.len() && ring.push(tone[sent]).is_ok() {
                sent += 1;
            }
            side.process(callback);
        }
        let left: Vec<i16> = output.iter().step_by(2).copied().collect();
        let right: Vec<i16> = output.iter().skip(1).step_by(2).copied().collect();
        assert_eq!(left, right);
        let hz = dominant_frequency(&left[11025..33075], 44100).expect("a tone");
        assert!((hz - 1000.0).abs() < 1.0, "{hz} Hz");
    }

    #[test]
    fn callbacks_do_not_allocate() {
        let (mut input, _ring_out) = capture(44100, 2);
        let (mut output, mut ring_in) = playback(48000, 1);
        let microphone: Vec<i32> = (0..2048).map(|n| (n % 64) << 24).collect();
        let mut speaker = vec![0.0f32; 960];
        let counted = allocation_counter::measure(|| {
            for _ in 0..200 {
                for _ in 0..160 {
                    let _ = ring_in.push(1000);
                }
                input.process(&microphone);
                output.process(&mut speaker);
            }
        });
        assert_eq!(counted.count_total, 0);
    }
}
