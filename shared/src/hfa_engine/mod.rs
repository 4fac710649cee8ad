//! Sans-IO HFA connection engines: [`phone::PhoneEngine`] for the device
//! side and [`system::SystemConnection`] for one connection on the gateway.
//!
//! Both are driven the same way by a thin I/O owner:
//!
//! ```text
//! loop {
//!     feed socket bytes:    engine.handle_input(now, bytes)
//!     on the deadline:      engine.handle_timeout(now)
//!     write out:            while let Some(bytes) = engine.poll_transmit() { .. }
//!     act on:               while let Some(event) = engine.poll_event() { .. }
//!     sleep until:          engine.poll_timeout()
//! }
//! ```

mod challenge;
mod link;
pub mod phone;
pub mod system;

pub use challenge::ChallengeIssuer;
pub use link::LinkError;

#[cfg(test)]
mod tests;
