//! Wire formats, sans-IO protocol engines and media DSP shared by the
//! gateway (the company side) and the softphone (the home side).
//!
//! Nothing in this crate touches a socket, a thread, or the clock: every
//! engine is driven by its owner with the same loop (see `../../docs/`):
//!
//! ```text
//! engine.handle_input(now, input)   // bytes received or a command
//! engine.handle_timeout(now)
//! engine.poll_transmit()            // bytes to send
//! engine.poll_event()               // what happened, for the owner
//! engine.poll_timeout()             // when to call handle_timeout next
//! ```

pub mod capture;
pub mod hfa;
pub mod hfa_engine;
pub mod media;
pub mod portal;
pub mod secret;
pub mod stun;
pub mod version;
