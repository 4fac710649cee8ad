//! The OpenStage HFA phone personality: account settings and the driver of
//! the HFA protocol engine.

pub mod account;
pub mod client;

pub use account::{AccountError, AccountWarning, GatewayAddress, HfaAccount};
pub use client::{ClientCommand, HfaClient};
