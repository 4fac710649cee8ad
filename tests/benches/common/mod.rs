//! What the benchmarks of this folder share: the gateway child process and
//! its generated office, /proc sampling, small statistics, the command
//! line's common options, and the markdown of the report. The phones
//! themselves are the load generator of `softphone load`
//! (`softphone::load`).
//!
//! Each bench binary includes this module with
//! `#[path = "common/mod.rs"] mod common;`.

#![allow(dead_code, reason = "each bench binary uses its own part")]

pub mod child;
pub mod cli;
pub mod gateway;
pub mod office;
pub mod procfs;
pub mod report;

/// Latency percentiles and failure tallies: the load generator's own.
pub use softphone::load::stats;
