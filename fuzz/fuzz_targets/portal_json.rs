//! Arbitrary bytes as every myPortal to go request body, response body and
//! event: nothing panics, and whatever parses serialises and parses back to
//! itself (the same check as `shared/tests/portal_corpus.rs`).

#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../shared/tests/portal_check/mod.rs"]
mod portal_check;

fuzz_target!(|data: &[u8]| {
    portal_check::check(data);
});
