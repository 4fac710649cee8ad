//! Speech for voice-quality checks: a reference sentence synthesised once
//! per test binary with eSpeak NG and SoX (`make deps`) at 8 kHz and, for
//! G.722, at 16 kHz; PESQ scoring (ITU-T P.862 narrowband, mapped to
//! MOS-LQO, P.862.1; P.862.2 wideband) and the plain G.711 and G.722 round
//! trips that are the codecs' own ceilings.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use shared::media::Codec;
use shared::media::coder::{Decoder, Encoder};

const SPEECH: &str = "The home worker's phone connects to the office over the internet. \
    Every call runs through the company's system, which decides what the phone shows, \
    and the voice travels as small packets twenty milliseconds apart.";

/// A path in the temporary directory, unique to this process.
pub fn temp(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("e2e-speech-{}-{name}", std::process::id()))
}

/// The reference speech, 8 kHz mono 16-bit, with half a second of silence
/// either side (the proxy drops a device's first packets while it makes
/// sure of their source, and those should not be speech).
pub fn reference() -> &'static (PathBuf, Vec<i16>) {
    static REFERENCE: OnceLock<(PathBuf, Vec<i16>)> = OnceLock::new();
    REFERENCE.get_or_init(|| synthesise(8000))
}

/// The same reference speech at 16 kHz, for wideband calls.
pub fn reference_16k() -> &'static (PathBuf, Vec<i16>) {
    static REFERENCE: OnceLock<(PathBuf, Vec<i16>)> = OnceLock::new();
    REFERENCE.get_or_init(|| synthesise(16_000))
}

/// The reference sentence at `rate`, padded with half a second of silence.
fn synthesise(rate: u32) -> (PathBuf, Vec<i16>) {
    let (raw, path) = (
        temp(&format!("espeak-{rate}.wav")),
        temp(&format!("reference-{rate}.wav")),
    );
    let spoke = Command::new("espeak-ng")
        .args(["-v", "en-us", "-s", "150", "-w"])
        .arg(&raw)
        .arg(SPEECH)
        .status();
    assert!(
        spoke.is_ok_and(|s| s.success()),
        "espeak-ng is needed (make deps installs it)"
    );
    // -R: repeatable dither, so every run scores the same reference.
    let converted = Command::new("sox")
        .arg("-R")
        .arg(&raw)
        .arg("-r")
        .arg(rate.to_string())
        .args(["-c", "1", "-b", "16", "-e", "signed-integer"])
        .arg(&path)
        .args(["pad", "0.5", "0.5"])
        .status();
    assert!(
        converted.is_ok_and(|s| s.success()),
        "sox is needed (make deps installs it)"
    );
    let _ = std::fs::remove_file(&raw);
    let samples = read_wav_at(&path, rate);
    (path, samples)
}

/// An 8 kHz mono 16-bit WAV file's samples.
pub fn read_wav(path: &Path) -> Vec<i16> {
    read_wav_at(path, 8000)
}

/// A mono 16-bit WAV file's samples, which must be at `rate`.
pub fn read_wav_at(path: &Path, rate: u32) -> Vec<i16> {
    let reader = hound::WavReader::open(path).expect("open a recording");
    assert_eq!(reader.spec().sample_rate, rate);
    reader
        .into_samples::<i16>()
        .collect::<Result<_, _>>()
        .expect("samples")
}

/// Writes 16-bit mono samples at `rate`.
pub fn write_wav(path: &Path, rate: u32, samples: &[i16]) {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut writer = hound::WavWriter::create(path, spec).expect("create a wav file");
    for sample in samples {
        writer.write_sample(*sample).expect("write a sample");
    }
    writer.finalize().expect("finalize the wav file");
}

/// Narrowband PESQ, mapped to MOS-LQO (P.862.1).
pub fn mos(reference: &[i16], degraded: &[i16]) -> f32 {
    let raw = pesq::pesq_8k(reference, degraded).expect("PESQ scores the pair");
    pesq::score::mos_lqo(f64::from(raw))
}

/// `samples` through a G.711 A-law encoder and decoder, in 20 ms frames.
pub fn g711_round_trip(samples: &[i16]) -> Vec<i16> {
    let mut encoder = Encoder::new(Codec::Pcma).expect("encoder");
    let mut decoder = Decoder::new(Codec::Pcma).expect("decoder");
    let mut out = Vec::with_capacity(samples.len());
    let (mut payload, mut frame) = (Vec::new(), [0i16; 160]);
    for chunk in samples.chunks(160) {
        let mut input = [0i16; 160];
        input[..chunk.len()].copy_from_slice(chunk);
        payload.clear();
        encoder.encode(&input, &mut payload).expect("encode");
        decoder.decode(&payload, &mut frame).expect("decode");
        out.extend_from_slice(&frame[..chunk.len()]);
    }
    out
}

/// Wideband PESQ: the P.862.2 MOS-LQO of two 16 kHz signals.
pub fn mos_wb(reference: &[i16], degraded: &[i16]) -> f32 {
    pesq::pesq_wb(reference, degraded).expect("wideband PESQ scores the pair")
}

/// 16 kHz `samples` through a G.722 encoder and decoder, in 20 ms frames.
pub fn g722_round_trip(samples: &[i16]) -> Vec<i16> {
    let mut encoder = Encoder::new(Codec::G722).expect("encoder");
    let mut decoder = Decoder::new(Codec::G722).expect("decoder");
    let mut out = Vec::with_capacity(samples.len());
    let (mut payload, mut frame) = (Vec::new(), [0i16; 320]);
    for chunk in samples.chunks(320) {
        let mut input = [0i16; 320];
        input[..chunk.len()].copy_from_slice(chunk);
        encoder.encode(&input, &mut payload).expect("encode");
        decoder.decode(&payload, &mut frame).expect("decode");
        out.extend_from_slice(&frame[..chunk.len()]);
    }
    out
}
