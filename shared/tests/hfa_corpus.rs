//! The decoder over the seed corpus in `tests/corpus/hfa/`, and over
//! seeded random mutations of it.
//!
//! File names say what to expect:
//! - `ok-*.bin`: one or more valid frames; each decodes, re-encodes and
//!   decodes to the same message, and nothing is left over.
//! - `err-*.bin`: at least one frame is rejected with a `DecodeError`.
//! - `partial-*.bin`: no error, but the stream ends inside a frame.
//!
//! Every file is fed whole and in several chunkings; the results must not
//! depend on how TCP cut the stream. The same files seed the cargo-fuzz
//! target (`fuzz/`, `cargo fuzz run hfa_decode shared/tests/corpus/hfa`).

mod support;

use support::{Rng, corpus};

use shared::hfa::{Codec, DecodeError, EncodeError, Frame, FrameDecoder, MAX_FRAME_LEN};

/// What feeding a stream produced.
#[derive(Debug, PartialEq)]
struct Outcome {
    results: Vec<Result<Frame, DecodeError>>,
    buffered: usize,
}

/// Feeds `bytes` in chunks whose sizes come from `sizes` (cycled), stopping
/// at a framing error as a connection owner would.
fn feed(bytes: &[u8], sizes: &[usize]) -> Outcome {
    let mut decoder = FrameDecoder::new();
    let mut results = Vec::new();
    let mut rest = bytes;
    let mut sizes = sizes.iter().cycle();
    while !rest.is_empty() {
        let size = sizes
            .next()
            .copied()
            .unwrap_or(usize::MAX)
            .clamp(1, rest.len());
        let (mut chunk, tail) = rest.split_at(size);
        rest = tail;
        loop {
            assert!(decoder.buffered() <= MAX_FRAME_LEN);
            match decoder.decode(&mut chunk) {
                Ok(Some(frame)) => results.push(Ok(frame)),
                Ok(None) => break,
                Err(error) => {
                    let framing = error.is_framing();
                    results.push(Err(error));
                    if framing {
                        return Outcome {
                            results,
                            buffered: decoder.buffered(),
                        };
                    }
                }
            }
        }
    }
    Outcome {
        results,
        buffered: decoder.buffered(),
    }
}

/// A decoded frame must survive encode → decode unchanged. Re-encoding may
/// legitimately exceed the maximum when decoding canonicalised an address
/// text (a missing NUL, an IPv6 form) in a frame already at the limit.
fn assert_round_trips(frame: &Frame) {
    match frame.to_bytes() {
        Ok(bytes) => assert_eq!(
            Frame::from_bytes(&bytes).as_ref(),
            Ok(frame),
            "re-decoding {bytes:02x?}"
        ),
        Err(EncodeError::FrameTooLong { len }) => assert!(len > MAX_FRAME_LEN - 64),
        Err(error) => panic!("a decoded frame failed to encode: {error}: {frame:?}"),
    }
}

const CHUNKINGS: [&[usize]; 8] = [
    &[usize::MAX],
    &[1],
    &[2],
    &[3],
    &[5, 1],
    &[7],
    &[11, 2, 1],
    &[64],
];

#[test]
fn every_corpus_file_gives_its_expected_outcome_in_every_chunking() {
    let files = corpus("hfa");
    assert!(files.len() >= 60, "corpus has {} files", files.len());
    for (name, bytes) in files {
        let whole = feed(&bytes, CHUNKINGS[0]);
        for sizes in CHUNKINGS {
            assert_eq!(feed(&bytes, sizes), whole, "{name} in chunks of {sizes:?}");
        }
        whole.results.iter().flatten().for_each(assert_round_trips);
        let errors = whole.results.iter().filter(|r| r.is_err()).count();
        if name.starts_with("ok-") {
            assert_eq!(errors, 0, "{name}: {:?}", whole.results);
            assert!(!whole.results.is_empty(), "{name}: no frame");
            assert_eq!(whole.buffered, 0, "{name}: bytes left over");
        } else if name.starts_with("err-") {
            assert!(errors > 0, "{name}: no error in {:?}", whole.results);
        } else if name.starts_with("partial-") {
            assert_eq!(errors, 0, "{name}: {:?}", whole.results);
            assert!(whole.buffered > 0, "{name}: nothing left over");
        } else {
            panic!("corpus file {name} has no ok-/err-/partial- prefix");
        }
    }
}

fn mutate(rng: &mut Rng, bytes: &mut Vec<u8>, other: &[u8]) {
    for _ in 0..=rng.below(4) {
        let at = rng.below(bytes.len() + 1);
        match rng.below(8) {
            0 if at < bytes.len() => bytes[at] ^= 1 << rng.below(8),
            1 if at < bytes.len() => bytes[at] = rng.byte(),
            2 => bytes.insert(at, rng.byte()),
            3 if at < bytes.len() => {
                bytes.remove(at);
            }
            4 => bytes.truncate(at),
            5 => bytes.splice(at..at, other.iter().copied()).for_each(drop),
            6 if bytes.len() >= 2 => {
                // A plausible length field: the damage a parser must survive.
                let len = rng.below(bytes.len() + 16) as u16;
                bytes[..2].copy_from_slice(&len.to_be_bytes());
            }
            _ => {
                let end = (at + rng.below(8)).min(bytes.len());
                let copy = bytes[at..end].to_vec();
                bytes.splice(at..at, copy).for_each(drop);
            }
        }
    }
}

#[test]
fn mutated_frames_never_panic_and_decode_the_same_in_any_chunking() {
    let seeds: Vec<Vec<u8>> = corpus("hfa").into_iter().map(|(_, bytes)| bytes).collect();
    let mut rng = Rng(0x5eed_1234_abcd_0001);
    let mut decoded = 0;
    for _ in 0..20_000 {
        let mut bytes = seeds[rng.below(seeds.len())].clone();
        let other = &seeds[rng.below(seeds.len())];
        mutate(&mut rng, &mut bytes, other);
        let sizes: Vec<usize> = (0..4).map(|_| 1 + rng.below(32)).collect();
        let whole = feed(&bytes, &[usize::MAX]);
        assert_eq!(
            feed(&bytes, &sizes),
            whole,
            "{bytes:02x?} in chunks of {sizes:?}"
        );
        for frame in whole.results.iter().flatten() {
            assert_round_trips(frame);
            decoded += 1;
        }
    }
    assert!(
        decoded > 5000,
        "mutations too destructive: only {decoded} frames decoded"
    );
}
