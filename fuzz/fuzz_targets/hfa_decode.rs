//! Arbitrary bytes, cut into arbitrary TCP segments, into the HFA
//! `FrameDecoder`. It must never panic nor buffer more than one frame; it
//! must give the same results however the stream is cut; and every frame it
//! decodes must encode and decode back to itself.

#![no_main]

use libfuzzer_sys::fuzz_target;
use shared::hfa::{Codec, DecodeError, EncodeError, Frame, FrameDecoder, MAX_FRAME_LEN};

/// Decodes `stream` in chunks whose sizes `chunk(step)` chooses, stopping at
/// a framing error as a connection owner would.
fn decode_all(
    stream: &[u8],
    chunk: impl Fn(usize) -> usize,
) -> (Vec<Result<Frame, DecodeError>>, usize) {
    let mut decoder = FrameDecoder::new();
    let mut results = Vec::new();
    let mut rest = stream;
    let mut step = 0;
    while !rest.is_empty() {
        let (mut segment, tail) = rest.split_at(chunk(step).clamp(1, rest.len()));
        rest = tail;
        step += 1;
        loop {
            assert!(decoder.buffered() <= MAX_FRAME_LEN);
            match decoder.decode(&mut segment) {
                Ok(Some(frame)) => results.push(Ok(frame)),
                Ok(None) => break,
                Err(error) => {
                    let framing = error.is_framing();
                    results.push(Err(error));
                    if framing {
                        return (results, decoder.buffered());
                    }
                }
            }
        }
    }
    (results, decoder.buffered())
}

fuzz_target!(|data: &[u8]| {
    // The last byte also chooses the segment sizes, so that a seed file
    // (a valid stream) is a useful input as it is.
    let Some(&seed) = data.last() else {
        return;
    };
    let stream = data;
    let whole = decode_all(stream, |_| usize::MAX);
    let cut = decode_all(stream, |step| {
        1 + usize::from(seed.rotate_left(step as u32 % 8)) % 37
    });
    assert_eq!(whole, cut, "results depend on how the stream was cut");

    for frame in whole.0.iter().flatten() {
        match frame.to_bytes() {
            Ok(bytes) => assert_eq!(Frame::from_bytes(&bytes).as_ref(), Ok(frame)),
            // Decoding canonicalises address text (adds a NUL, rewrites an
            // IPv6 form), which may push a frame already at the limit over it.
            Err(EncodeError::FrameTooLong { len }) => assert!(len > MAX_FRAME_LEN - 64),
            Err(error) => panic!("decoded frame does not encode: {error}"),
        }
    }
});
