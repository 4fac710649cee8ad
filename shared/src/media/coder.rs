//! Encoder and decoder objects of a [`Codec`], each with its own way to
//! repair a lost frame: pitch-synchronous concealment ([`Plc`]) for G.711,
//! bridging into the next frame when it is here, and at 16 kHz for G.722
//! (from the past alone); for Opus its in-band FEC (the next packet carries a coarse
//! copy of the lost one) or, when the next packet is not there, its own PLC.

use audiopus::coder::{Decoder as OpusDecoder, Encoder as OpusEncoder, GenericCtl};
use audiopus::{Application, Bandwidth, Bitrate, Channels, SampleRate};
use ezk_g722::libg722::encoder::Encoder as G722Encoder;
use ezk_g722::libg722::{Bitrate as G722Bitrate, decoder::Decoder as G722Decoder};

use super::codec::{Codec, OpusBandwidth};
use super::error::CodecError;
use super::plc::Plc;

/// The largest Opus packet for one frame (RFC 6716 §3.4: 1275 bytes per
/// 20 ms frame, 60 ms at most here).
const MAX_OPUS_PACKET: usize = 3 * 1275;

/// The packet-loss percentage the Opus encoder plans for before the peer's
/// first receiver report: enough to put FEC data into every packet.
pub const INITIAL_EXPECTED_LOSS: u8 = 10;

fn opus_rate(bandwidth: OpusBandwidth) -> SampleRate {
    match bandwidth {
        OpusBandwidth::Narrowband => SampleRate::Hz8000,
        OpusBandwidth::Wideband => SampleRate::Hz16000,
    }
}

/// Encodes PCM frames of one codec.
#[derive(Debug)]
pub struct Encoder {
    kind: EncoderKind,
}

#[derive(Debug)]
enum EncoderKind {
    Pcma,
    Pcmu,
    G722(Box<G722State<G722Encoder>>),
    Opus(OpusEncoder),
}

/// A libg722 coder state (it implements no `Debug`).
struct G722State<T>(T);

impl<T> std::fmt::Debug for G722State<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("G722State")
    }
}

/// G.722 at 64 kbit/s (mode 1), from and to 16 kHz PCM, one byte per two
/// samples (RFC 3551 §4.5.2: the octets as the encoder emits them).
fn g722_encoder() -> G722Encoder {
    G722Encoder::new(G722Bitrate::Mode1_64000, false, false)
}

/// See [`g722_encoder`]; the decoder takes its flags the other way round.
fn g722_decoder() -> G722Decoder {
    G722Decoder::new(G722Bitrate::Mode1_64000, false, false)
}

impl Encoder {
    /// An encoder for `codec`. Opus runs in VoIP mode, mono, with in-band
    /// FEC on, at 24 (narrowband) or 32 kbit/s (wideband): libopus 1.3
    /// adds the FEC copy only above a rate threshold, which 16 kbit/s
    /// narrowband misses.
    pub fn new(codec: Codec) -> Result<Self, CodecError> {
        let kind = match codec {
            Codec::Pcma => EncoderKind::Pcma,
            Codec::Pcmu => EncoderKind::Pcmu,
            Codec::G722 => EncoderKind::G722(Box::new(G722State(g722_encoder()))),
            Codec::Opus(bandwidth) => {
                let mut encoder =
                    OpusEncoder::new(opus_rate(bandwidth), Channels::Mono, Application::Voip)?;
                let (bits, band) = match bandwidth {
                    OpusBandwidth::Narrowband => (24_000, Bandwidth::Narrowband),
                    OpusBandwidth::Wideband => (32_000, Bandwidth::Wideband),
                };
                encoder.set_bitrate(Bitrate::BitsPerSecond(bits))?;
                encoder.set_max_bandwidth(band)?;
                encoder.set_inband_fec(true)?;
                encoder.set_packet_loss_perc(INITIAL_EXPECTED_LOSS)?;
                EncoderKind::Opus(encoder)
            }
        };
        Ok(Self { kind })
    }

    /// Encodes one frame into `out` (replacing its contents). G.722 takes
    /// an even number of samples (two per octet).
    pub fn encode(&mut self, pcm: &[i16], out: &mut Vec<u8>) -> Result<(), CodecError> {
        out.clear();
        match &mut self.kind {
            EncoderKind::G722(encoder) => {
                if !pcm.len().is_multiple_of(2) {
                    return Err(CodecError::FrameLength {
                        expected: pcm.len() + 1,
                        actual: pcm.len(),
                    });
                }
                out.extend_from_slice(&encoder.0.encode(pcm));
            }
            EncoderKind::Pcma => {
                out.extend(pcm.iter().map(|&s| audio_codec_algorithms::encode_alaw(s)))
            }
            EncoderKind::Pcmu => {
                out.extend(pcm.iter().map(|&s| audio_codec_algorithms::encode_ulaw(s)))
            }
            EncoderKind::Opus(encoder) => {
                out.resize(MAX_OPUS_PACKET, 0);
                let len = encoder.encode(pcm, out);
                out.truncate(*len.as_ref().unwrap_or(&0));
                len?;
            }
        }
        Ok(())
    }

    /// Tells Opus how much loss to plan FEC for (the peer's reports); G.711
    /// has nothing to tune.
    pub fn set_expected_loss(&mut self, percent: u8) -> Result<(), CodecError> {
        if let EncoderKind::Opus(encoder) = &mut self.kind {
            encoder.set_packet_loss_perc(percent.min(100))?;
        }
        Ok(())
    }
}

/// The sample decoder of A-law (`alaw`) or µ-law.
fn g711_decode(alaw: bool) -> fn(u8) -> i16 {
    if alaw {
        audio_codec_algorithms::decode_alaw
    } else {
        audio_codec_algorithms::decode_ulaw
    }
}

/// How a lost frame was repaired.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Repair {
    /// Synthesised from the past signal (G.711 concealment, Opus PLC).
    Concealed,
    /// Rebuilt from the FEC data of the next packet (Opus).
    Recovered,
}

/// Decodes the payloads of one codec and repairs lost frames.
#[derive(Debug)]
pub struct Decoder {
    kind: DecoderKind,
}

#[derive(Debug)]
enum DecoderKind {
    G711 {
        alaw: bool,
        plc: Box<Plc>,
    },
    G722 {
        decoder: Box<G722State<G722Decoder>>,
        plc: Box<Plc>,
    },
    Opus {
        decoder: OpusDecoder,
        rate: SampleRate,
    },
}

impl Decoder {
    /// A decoder for `codec`.
    pub fn new(codec: Codec) -> Result<Self, CodecError> {
        let kind = match codec {
            Codec::Pcma | Codec::Pcmu => DecoderKind::G711 {
                alaw: codec == Codec::Pcma,
                plc: Box::new(Plc::new(codec.pcm_rate())),
            },
            Codec::G722 => DecoderKind::G722 {
                decoder: Box::new(G722State(g722_decoder())),
                plc: Box::new(Plc::new(codec.pcm_rate())),
            },
            Codec::Opus(bandwidth) => DecoderKind::Opus {
                decoder: OpusDecoder::new(opus_rate(bandwidth), Channels::Mono)?,
                rate: opus_rate(bandwidth),
            },
        };
        Ok(Self { kind })
    }

    /// PCM samples `payload` decodes to; 0 when it cannot be told.
    pub fn payload_samples(&self, payload: &[u8]) -> usize {
        match &self.kind {
            DecoderKind::G711 { .. } => payload.len(),
            DecoderKind::G722 { .. } => payload.len() * 2,
            DecoderKind::Opus { rate, .. } => {
                audiopus::packet::nb_samples(payload, *rate).unwrap_or(0)
            }
        }
    }

    /// Decodes one frame into `out`, which must be exactly as long as the
    /// payload lasts. On error `out` is left undefined: conceal instead.
    pub fn decode(&mut self, payload: &[u8], out: &mut [i16]) -> Result<(), CodecError> {
        let expected = out.len();
        let duration = self.payload_samples(payload);
        if duration != expected {
            return Err(CodecError::PayloadDuration {
                expected,
                actual: duration,
            });
        }
        match &mut self.kind {
            DecoderKind::G711 { alaw, plc } => {
                let decode = g711_decode(*alaw);
                for (sample, &byte) in out.iter_mut().zip(payload) {
                    *sample = decode(byte);
                }
                plc.good_frame(out);
            }
            DecoderKind::G722 { decoder, plc } => {
                let pcm = decoder.0.decode(payload);
                if pcm.len() != expected {
                    return Err(CodecError::PayloadDuration {
                        expected,
                        actual: pcm.len(),
                    });
                }
                out.copy_from_slice(&pcm);
                plc.good_frame(out);
            }
            DecoderKind::Opus { decoder, .. } => {
                let decoded = decoder.decode(Some(payload), &mut *out, false)?;
                if decoded != expected {
                    return Err(CodecError::PayloadDuration {
                        expected,
                        actual: decoded,
                    });
                }
            }
        }
        Ok(())
    }

    /// Fills `out` for a lost frame, using `next` (the packet of the
    /// following frame, when it has arrived): Opus rebuilds the frame from
    /// its FEC data, G.711 concealment bridges the gap into it. Without it,
    /// by concealment from the past alone.
    pub fn conceal(&mut self, next: Option<&[u8]>, out: &mut [i16]) -> Repair {
        match &mut self.kind {
            DecoderKind::G722 { plc, .. } => {
                // Decoding the next packet would move the ADPCM state on
                // before its turn: G.722 conceals from the past alone.
                plc.conceal(out);
                Repair::Concealed
            }
            DecoderKind::G711 { alaw, plc } => {
                // One byte per sample: a payload of another length is not
                // the frame that follows.
                match next.filter(|p| p.len() == out.len()) {
                    Some(next) => {
                        let decode = g711_decode(*alaw);
                        plc.conceal_before(next.iter().map(|&byte| decode(byte)), out);
                    }
                    None => plc.conceal(out),
                }
                Repair::Concealed
            }
            DecoderKind::Opus { decoder, .. } => {
                let expected = out.len();
                if let Some(next) = next.filter(|p| !p.is_empty())
                    && decoder.decode(Some(next), &mut *out, true).ok() == Some(expected)
                {
                    return Repair::Recovered;
                }
                if decoder.decode(None::<&[u8]>, &mut *out, false).ok() != Some(expected) {
                    out.fill(0);
                }
                Repair::Concealed
            }
        }
    }

    /// Fills `out` with silence (nothing to play), which G.711 and G.722
    /// concealment remember so that a later loss does not bring back older
    /// speech.
    pub fn silence(&mut self, out: &mut [i16]) {
        out.fill(0);
        if let DecoderKind::G711 { plc, .. } | DecoderKind::G722 { plc, .. } = &mut self.kind {
            plc.good_frame(out);
        }
    }

    /// Forgets the stream (a new source).
    pub fn reset(&mut self) {
        match &mut self.kind {
            DecoderKind::G711 { plc, .. } => plc.reset(),
            DecoderKind::G722 { decoder, plc } => {
                decoder.0 = g722_decoder();
                plc.reset();
            }
            DecoderKind::Opus { decoder, .. } => {
                // Resetting a valid decoder cannot fail; if it did, the old
                // state only colours the first frames.
                let _ = decoder.reset_state();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn speechlike(rate: u32, frames: usize, spf: usize) -> Vec<i16> {
        // A vowel-like signal: a 140 Hz fundamental with decaying harmonics,
        // its loudness wobbling at 3 Hz.
        (0..frames * spf)
            .map(|i| {
                let t = i as f32 / rate as f32;
                let env = 0.6 + 0.4 * (2.0 * std::f32::consts::PI * 3.0 * t).sin();
                let x: f32 = (1..=8)
                    .map(|h| (2.0 * std::f32::consts::PI * 140.0 * h as f32 * t).sin() / h as f32)
                    .sum();
                (4000.0 * env * x) as i16
            })
            .collect()
    }

    fn energy(x: &[i16]) -> f64 {
        x.iter().map(|&s| f64::from(s).powi(2)).sum()
    }

    #[test]
    fn g711_round_trips_within_the_companding_error() {
        for codec in [Codec::Pcma, Codec::Pcmu] {
            let mut encoder = Encoder::new(codec).unwrap();
            let mut decoder = Decoder::new(codec).unwrap();
            let pcm = speechlike(8000, 1, 160);
            let mut payload = Vec::new();
            encoder.encode(&pcm, &mut payload).unwrap();
            assert_eq!(payload.len(), 160);
            let mut out = vec![0; 160];
            decoder.decode(&payload, &mut out).unwrap();
            for (a, b) in pcm.iter().zip(&out) {
                assert!(
                    (i32::from(*a) - i32::from(*b)).abs() <= i32::from(a.unsigned_abs() / 16 + 16)
                );
            }
            assert!(decoder.decode(&payload[..100], &mut out).is_err());
        }
    }

    #[test]
    fn g722_round_trips_a_wideband_tone_and_refuses_bad_lengths() {
        // 5 kHz: above G.711's band, inside G.722's (50-7000 Hz).
        let tone: Vec<i16> = (0..16 * 320)
            .map(|i| {
                let t = i as f32 / 16_000.0;
                (8000.0 * (2.0 * std::f32::consts::PI * 5000.0 * t).sin()) as i16
            })
            .collect();
        let mut encoder = Encoder::new(Codec::G722).unwrap();
        let mut decoder = Decoder::new(Codec::G722).unwrap();
        let mut payload = Vec::new();
        let mut decoded = vec![0; tone.len()];
        for (frame, out) in tone.chunks(320).zip(decoded.chunks_mut(320)) {
            encoder.encode(frame, &mut payload).unwrap();
            assert_eq!(payload.len(), 160, "64 kbit/s: 160 octets per 20 ms");
            assert_eq!(decoder.payload_samples(&payload), 320);
            decoder.decode(&payload, out).unwrap();
        }
        // The QMF pair delays the signal by a few dozen samples; past the
        // start-up, at the best lag, the tone comes back within a few
        // percent of its energy (G.711 could not carry it at all).
        let settled = 4 * 320;
        let snr = (0..64)
            .map(|delay| {
                let error: Vec<i16> = decoded[settled..]
                    .iter()
                    .zip(&tone[settled - delay..tone.len() - delay])
                    .map(|(a, b)| a.saturating_sub(*b))
                    .collect();
                energy(&tone[settled..]) / energy(&error)
            })
            .fold(0.0, f64::max);
        assert!(snr > 100.0, "SNR {snr:.1}");
        assert!(encoder.encode(&tone[..319], &mut payload).is_err());
        let mut out = vec![0; 320];
        assert!(decoder.decode(&[0; 100], &mut out).is_err());
        assert_eq!(decoder.conceal(None, &mut out), Repair::Concealed);
        decoder.reset();
    }

    #[test]
    fn g722_decodes_any_payload_without_panicking() {
        // A peer's RTP is hostile: every byte string of the right length
        // decodes (debug builds check the ADPCM arithmetic for overflow),
        // and the output stays sample-sized, frame after frame.
        use rand::{Rng as _, SeedableRng as _};
        let mut rng = rand::rngs::StdRng::seed_from_u64(722);
        let mut decoder = Decoder::new(Codec::G722).unwrap();
        let (mut payload, mut out) = (vec![0u8; 160], vec![0i16; 320]);
        for round in 0..2_000 {
            match round % 3 {
                0 => rng.fill(&mut payload[..]),
                1 => payload.fill(if round % 2 == 0 { 0xff } else { 0x00 }),
                _ => payload
                    .iter_mut()
                    .for_each(|b| *b = rng.random_range(0xf0..=0xff)),
            }
            decoder.decode(&payload, &mut out).unwrap();
        }
    }

    /// Decodes `packets` losing `lost`, repairing with FEC when `fec`.
    fn decode_all(
        codec: Codec,
        packets: &[Vec<u8>],
        lost: &[usize],
        fec: bool,
        spf: usize,
    ) -> (Vec<i16>, usize) {
        let mut decoder = Decoder::new(codec).unwrap();
        let mut out = vec![0; packets.len() * spf];
        let mut recovered = 0;
        for (n, frame) in out.chunks_mut(spf).enumerate() {
            if lost.contains(&n) {
                let next = packets
                    .get(n + 1)
                    .filter(|_| fec && !lost.contains(&(n + 1)));
                if decoder.conceal(next.map(Vec::as_slice), frame) == Repair::Recovered {
                    recovered += 1;
                }
            } else {
                decoder.decode(&packets[n], frame).unwrap();
            }
        }
        (out, recovered)
    }

    #[test]
    fn opus_fec_recovers_a_single_loss_better_than_plc() {
        for (bandwidth, spf) in [
            (OpusBandwidth::Narrowband, 160),
            (OpusBandwidth::Wideband, 320),
        ] {
            let codec = Codec::Opus(bandwidth);
            let mut encoder = Encoder::new(codec).unwrap();
            let pcm = speechlike(codec.pcm_rate(), 50, spf);
            let packets: Vec<Vec<u8>> = pcm
                .chunks(spf)
                .map(|frame| {
                    let mut payload = Vec::new();
                    encoder.encode(frame, &mut payload).unwrap();
                    payload
                })
                .collect();
            let lost: Vec<usize> = (10..50).step_by(8).collect();
            let (clean, _) = decode_all(codec, &packets, &[], true, spf);
            let (fec, recovered) = decode_all(codec, &packets, &lost, true, spf);
            let (plc, none) = decode_all(codec, &packets, &lost, false, spf);
            assert_eq!((recovered, none), (lost.len(), 0));
            let error = |x: &[i16]| -> f64 {
                lost.iter()
                    .map(|&n| {
                        let range = n * spf..(n + 1) * spf;
                        let diff: Vec<i16> = x[range.clone()]
                            .iter()
                            .zip(&clean[range])
                            .map(|(a, b)| a.saturating_sub(*b))
                            .collect();
                        energy(&diff)
                    })
                    .sum()
            };
            assert!(
                error(&fec) < 0.75 * error(&plc),
                "{bandwidth:?}: FEC error {} vs PLC {}",
                error(&fec),
                error(&plc)
            );
        }
    }

    #[test]
    fn opus_refuses_a_frame_of_the_wrong_length_and_garbage_payloads() {
        let codec = Codec::Opus(OpusBandwidth::Narrowband);
        let mut encoder = Encoder::new(codec).unwrap();
        let mut payload = Vec::new();
        assert!(encoder.encode(&[0; 100], &mut payload).is_err());
        assert!(payload.is_empty());
        encoder.set_expected_loss(30).unwrap();
        let mut decoder = Decoder::new(codec).unwrap();
        let mut out = vec![0; 160];
        assert!(decoder.decode(&[], &mut out).is_err());
        assert!(decoder.decode(&[0xff; 3], &mut out).is_err());
        assert_eq!(
            decoder.conceal(Some(&[0xff; 3]), &mut out),
            Repair::Concealed
        );
        decoder.reset();
    }
}
