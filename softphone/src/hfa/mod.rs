//! The OpenStage HFA phone personality: account settings, the driver of
//! the HFA protocol engine, the phone model fed by the gateway's stimuli,
//! and the headless call commands built on them.

pub mod account;
pub mod call_flow;
pub mod client;
pub mod indicators;
pub mod phone_model;
pub mod session;

pub use account::{AccountError, AccountWarning, GatewayAddress, HfaAccount};
pub use client::{ClientCommand, HfaClient, MediaHandle};
pub use indicators::{ClockShown, Hook, Led, ToneKind};
pub use phone_model::{Change, PhoneModel, press_digit, press_feature};
