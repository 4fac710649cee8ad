//! The system's own media ends: the echo test, the announcement test and
//! the built-in test trunk's announcement.

pub mod announcement;
pub mod echo;
mod echo_report;
pub mod services;

pub use services::ServiceMedia;
