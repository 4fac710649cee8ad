//! The check every portal body and event type must pass on any bytes, used
//! by the corpus test (`portal_corpus.rs`) and the cargo-fuzz target
//! (`fuzz/fuzz_targets/portal_json.rs`): whatever parses serialises and
//! parses back to itself, and nothing panics.

use std::fmt::Debug;

use serde::Serialize;
use serde::de::DeserializeOwned;
use shared::portal::{
    ApiError, Challenge, ChallengeRequest, DialRequest, DtmfRequest, Event, LoginNonce,
    LoginRequest, Session, VoipRegistered, VoipRegistration,
};

/// Runs `bytes` through every type; returns how many accepted them.
pub fn check(bytes: &[u8]) -> usize {
    let accepted = [
        round_trip::<ChallengeRequest>(bytes),
        round_trip::<LoginRequest>(bytes),
        round_trip::<VoipRegistration>(bytes),
        round_trip::<DialRequest>(bytes),
        round_trip::<DtmfRequest>(bytes),
        round_trip::<Challenge>(bytes),
        round_trip::<Session>(bytes),
        round_trip::<VoipRegistered>(bytes),
        round_trip::<ApiError>(bytes),
        event_round_trip(bytes),
    ];
    if let Ok(text) = std::str::from_utf8(bytes)
        && let Some(nonce) = LoginNonce::from_hex(text.trim())
    {
        assert_eq!(LoginNonce::from_hex(&nonce.to_hex()), Some(nonce));
    }
    accepted.into_iter().filter(|ok| *ok).count()
}

fn round_trip<T: Serialize + DeserializeOwned + PartialEq + Debug>(bytes: &[u8]) -> bool {
    let Ok(value) = serde_json::from_slice::<T>(bytes) else {
        return false;
    };
    let again = serde_json::to_vec(&value).expect("a parsed body serialises");
    assert_eq!(
        serde_json::from_slice::<T>(&again).expect("its own output parses"),
        value
    );
    true
}

fn event_round_trip(bytes: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return false;
    };
    let Ok(event) = Event::from_data(text) else {
        return false;
    };
    let data = event.to_data();
    assert!(!data.contains('\n'), "an SSE data line has no newline");
    assert_eq!(Event::from_data(&data).expect("its own data parses"), event);
    true
}
