//! The home side of Device@Home: an OpenStage HFA phone and the VoIP client
//! of the myPortal to go app, usable headless or from the desktop GUI.

pub mod audio;
pub mod cli;
pub mod feedback;
pub mod gui;
pub mod hfa;
pub mod load;
pub mod media;
pub mod portal;
pub mod scenario;
