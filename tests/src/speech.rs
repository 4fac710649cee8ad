//! Speech for voice-quality checks: a reference sentence synthesised once
//! per test binary with eSpeak NG and SoX (`make deps`), PESQ scoring
//! (ITU-T P.862 narrowband, mapped to MOS-LQO, P.862.1) and the plain G.711
//! round trip that is the codec's own ceiling.

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
    REFERENCE.get_or_init(|| {
        let (raw, path) = (temp("espeak.wav"), temp("reference.wav"));
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
            .args(["-r", "8000", "-c", "1", "-b", "16", "-e", "signed-integer"])
            .arg(&path)
            .args(["pad", "0.5", "0.5"])
            .status();
        assert!(
            converted.is_ok_and(|s| s.success()),
            "sox is needed (make deps installs it)"
        );
        let _ = std::fs::remove_file(&raw);
        let samples = read_wav(&path);
        (path, samples)
    })
}

/// An 8 kHz mono 16-bit WAV file's samples.
pub fn read_wav(path: &Path) -> Vec<i16> {
    let reader = hound::WavReader::open(path).expect("open a recording");
    assert_eq!(reader.spec().sample_rate, 8000);
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
