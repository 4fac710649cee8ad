//! The myPortal to go bodies and events over the seed corpus in
//! `tests/corpus/portal/`, and over seeded random mutations of it.
//!
//! File names say what to expect: `ok-*.json` parses as at least one body
//! or event type, `err-*.json` as none. Whatever the bytes, nothing
//! panics, and whatever parses round-trips (`portal_check`). The same
//! files seed the cargo-fuzz target (`fuzz/`,
//! `cargo fuzz run portal_json ../shared/tests/corpus/portal`).

mod support;

use support::{Rng, corpus};

mod portal_check;

#[test]
fn every_seed_parses_as_its_name_says() {
    let files = corpus("portal");
    assert!(files.len() >= 10);
    for (name, bytes) in files {
        let accepted = portal_check::check(&bytes);
        if name.starts_with("ok-") {
            assert!(accepted >= 1, "{name} parsed as nothing");
        } else {
            assert!(name.starts_with("err-"), "{name}: say ok- or err-");
            assert_eq!(accepted, 0, "{name} parsed");
        }
    }
}

/// JSON-aware damage: a flipped bit, a random byte, a structural character
/// inserted, a cut, or a splice from another seed.
fn mutate(rng: &mut Rng, bytes: &mut Vec<u8>, other: &[u8]) {
    const STRUCTURE: &[u8] = b"{}[]\":,\\0-9e.nulltruefalse";
    for _ in 0..=rng.below(3) {
        let at = rng.below(bytes.len() + 1);
        match rng.below(5) {
            0 if at < bytes.len() => bytes[at] ^= 1 << rng.below(8),
            1 if at < bytes.len() => bytes[at] = rng.next() as u8,
            2 => bytes.insert(at, STRUCTURE[rng.below(STRUCTURE.len())]),
            3 => bytes.truncate(at),
            _ => {
                let from = rng.below(other.len() + 1);
                bytes.splice(at.., other[from..].iter().copied());
            }
        }
    }
}

#[test]
fn mutated_bodies_never_panic_and_round_trip_when_they_parse() {
    let seeds = corpus("portal");
    let mut rng = Rng(0x5eed_504f_5254_414c);
    let mut parsed = 0;
    for _ in 0..20_000 {
        let (_, seed) = &seeds[rng.below(seeds.len())];
        let (_, other) = &seeds[rng.below(seeds.len())];
        let mut bytes = seed.clone();
        mutate(&mut rng, &mut bytes, other);
        parsed += portal_check::check(&bytes);
    }
    // The mutations keep some inputs valid, so the round trip is exercised.
    assert!(parsed > 1_000, "only {parsed} mutated inputs parsed");
}
