//! Call control: internal calls, the built-in test trunk, service numbers,
//! hold, consultation transfer and forwarding, with class of service
//! against toll fraud (guide 2.2). Sans-IO and independent of how devices
//! are attached: HFA phones and myPortal to go apps today, SIP devices later.

pub mod channels;
pub mod control;
pub mod dialplan;
pub mod indication;
pub mod media;
pub mod model;
pub mod screen;
pub mod service;

pub use control::{CallControl, CallEvent, CallTimers, DeviceInput, Output};
pub use indication::{
    CallId, ClockKind, DisplayRow, FeatureKey, Indication, Lamp, MediaIndication, Tone,
};
pub use model::Origin;
pub use service::{AttachmentId, CallService, DeviceSink};

#[cfg(test)]
mod tests;
