//! The STUN response decoder over the seed corpus in `tests/corpus/stun/`,
//! and over seeded random mutations of it: `ok-*.bin` decode, `err-*.bin`
//! are refused, and nothing panics. The same files seed the cargo-fuzz
//! target (`cargo fuzz run stun_response shared/tests/corpus/stun`).

mod support;

use shared::stun::{Outcome, decode_response};
use support::{Rng, corpus};

#[test]
fn every_corpus_file_gives_its_expected_outcome() {
    let files = corpus("stun");
    assert!(files.len() >= 5, "the corpus is there");
    for (name, bytes) in files {
        let decoded = decode_response(&bytes);
        if name.starts_with("ok-") {
            assert!(decoded.is_ok(), "{name}: {decoded:?}");
        } else {
            assert!(decoded.is_err(), "{name}: {decoded:?}");
        }
    }
}

#[test]
fn the_rfc5780_response_carries_every_address() {
    let bytes = corpus("stun")
        .into_iter()
        .find(|(name, _)| name == "ok-binding-success-rfc5780.bin")
        .expect("the file")
        .1;
    let Outcome::Success(binding) = decode_response(&bytes).expect("decodes").outcome else {
        panic!("a success response");
    };
    assert_eq!(binding.mapped.to_string(), "203.0.113.20:40000");
    assert_eq!(
        binding.other_address.map(|a| a.to_string()).as_deref(),
        Some("203.0.113.4:3479")
    );
    assert_eq!(
        binding.response_origin.map(|a| a.to_string()).as_deref(),
        Some("203.0.113.3:3478")
    );
}

#[test]
fn mutated_responses_never_panic() {
    let mut rng = Rng(0x5747_0001);
    for (_, original) in corpus("stun") {
        for _ in 0..2000 {
            let mut bytes = original.clone();
            for _ in 0..=rng.below(4) {
                match rng.below(3) {
                    0 if !bytes.is_empty() => {
                        let at = rng.below(bytes.len());
                        bytes[at] = rng.byte();
                    }
                    1 if !bytes.is_empty() => bytes.truncate(rng.below(bytes.len())),
                    _ => bytes.push(rng.byte()),
                }
            }
            let _ = decode_response(&bytes);
        }
    }
}
