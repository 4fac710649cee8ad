//! Arbitrary bytes as the myPortal to go client reads them from the
//! gateway: an SSE `data:` payload (`Event`), an error body (`ApiError`),
//! and the challenge, session and registration answers. Nothing may panic;
//! an event that parses must survive its own round trip.

#![no_main]

use libfuzzer_sys::fuzz_target;
use shared::portal::{ApiError, Challenge, Event, LoginNonce, Session, VoipRegistered};

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data)
        && let Ok(event) = Event::from_data(text)
    {
        let again = Event::from_data(&event.to_data()).expect("an event's own data parses");
        assert_eq!(again, event);
    }
    let _ = serde_json::from_slice::<ApiError>(data);
    let _ = serde_json::from_slice::<Session>(data);
    let _ = serde_json::from_slice::<VoipRegistered>(data);
    if let Ok(challenge) = serde_json::from_slice::<Challenge>(data) {
        let _ = LoginNonce::from_hex(&challenge.nonce);
    }
});
