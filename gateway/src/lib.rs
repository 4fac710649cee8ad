//! The company side of Device@Home: an OpenScape Business emulator.
pub mod addresses;
pub mod admission;
pub mod calls;
pub mod capture;
pub mod clock;
pub mod config;
pub mod gateway;
pub mod hfa;
pub mod listen;
pub mod lockout;
pub mod log_limit;
pub mod media;
pub mod portal;
pub mod public_ip;
pub mod sbc;
pub mod status;
pub mod stun;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod trace;
