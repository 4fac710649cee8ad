//! The myPortal to go VoIP client personality (guide 1.3.3, 4.2, 6): the
//! app's settings, which server it registers through on which network
//! (a sans-IO engine), the gateway certificate's trust, the HTTPS client of
//! the API in `docs/portal-api.md`, and the agent that drives them with the
//! call's media.

pub mod agent;
pub mod call_flow;
pub mod client;
pub mod demo;
pub mod events;
pub mod lines;
pub mod selection;
pub mod session;
pub mod settings;
pub mod trust;

#[cfg(test)]
pub(crate) mod testing;

pub use selection::{Route, Selection, SelectionTimers, Status, StatusChange};
pub use settings::{Network, PortalSettings, ServerAddress, SettingsError, VoipFlags};
pub use trust::{Fingerprint, Trust, TrustError};
