//! Troubleshooting as the guide's section 7 asks, from the home side: the
//! client trace ([`trace`]), the last calls' quality figures ([`calls`]),
//! and the feedback archive that bundles them with the setup information
//! (point 5: the device and its release, the routers, every IP address
//! involved) and the client's capture, for whoever looks into a problem.
//!
//! Everything lives in the profile directory (`--profile NAME`): the
//! window's and the headless commands' alike.

pub mod addresses;
pub mod archive;
pub mod calls;
pub mod trace;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::gui::settings::{Profile, ProfileError};

pub use calls::{CallLog, CallRecorder, Device};

/// The device last run from a profile (so a profile the window never
/// configured, used by headless commands only, still says what it was).
const DEVICE_FILE: &str = "device.json";
/// The capture last recorded from a profile (`--capture FILE`).
const CAPTURE_FILE: &str = "capture.json";

/// What a profile last ran as, and the capture it last wrote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct LastCapture {
    path: PathBuf,
}

/// A `--profile` that cannot keep a headless command's figures.
#[derive(Debug, thiserror::Error)]
#[error("profile: {0}")]
pub struct ProfileRefused(#[from] ProfileError);

/// A headless phone's call log in the profile `name`, its device and
/// capture noted there; `None` without a config directory (no HOME):
/// the phone runs, without figures kept. A bad name is refused.
pub fn headless_log(
    name: &str,
    device: Device,
    capture: Option<&Path>,
) -> Result<Option<CallLog>, ProfileRefused> {
    let profile = match Profile::named(name) {
        Ok(profile) => profile,
        Err(ProfileError::NoConfigDir) => return Ok(None),
        Err(error) => return Err(ProfileRefused(error)),
    };
    remember_device(profile.dir(), &device);
    if let Some(capture) = capture {
        remember_capture(profile.dir(), capture);
    }
    Ok(Some(CallLog::new(profile.dir(), device)))
}

/// Notes the device a profile runs as (the feedback archive's setup).
pub fn remember_device(profile_dir: &Path, device: &Device) {
    remember(profile_dir, DEVICE_FILE, device);
}

/// Notes the capture a command writes (the archive takes it in).
pub fn remember_capture(profile_dir: &Path, capture: &Path) {
    let path = std::path::absolute(capture).unwrap_or_else(|_| capture.to_owned());
    remember(profile_dir, CAPTURE_FILE, &LastCapture { path });
}

fn remember<T: Serialize>(profile_dir: &Path, name: &str, value: &T) {
    let written = serde_json::to_string_pretty(value)
        .map_err(std::io::Error::other)
        .and_then(|text| calls::write_private(&profile_dir.join(name), &text));
    if let Err(error) = written {
        tracing::warn!(file = name, %error, "profile note not written");
    }
}

fn recall<T: for<'de> Deserialize<'de>>(profile_dir: &Path, name: &str) -> Option<T> {
    let text = std::fs::read_to_string(profile_dir.join(name)).ok()?;
    serde_json::from_str(&text).ok()
}

/// The device the profile last ran as.
pub fn last_device(profile_dir: &Path) -> Option<Device> {
    recall(profile_dir, DEVICE_FILE)
}

/// The capture the profile last wrote, if it still exists.
pub fn last_capture(profile_dir: &Path) -> Option<PathBuf> {
    recall::<LastCapture>(profile_dir, CAPTURE_FILE)
        .map(|last| last.path)
        .filter(|path| path.is_file())
}
