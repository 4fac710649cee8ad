//! The company side of Device@Home: an OpenScape Business emulator.
pub mod lockout;
