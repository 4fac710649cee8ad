//! The sound devices the system offers, and finding one by the name the
//! user typed or picked.

use cpal::traits::{DeviceTrait, HostTrait};

use super::{AudioError, Direction};

/// One sound device, as `softphone audio devices` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceInfo {
    /// Stable id, `host:device` (e.g. `alsa:pulse`, `alsa:hw:CARD=0,DEV=0`).
    pub id: String,
    /// Human-readable name (first line of the host's description).
    pub name: String,
    /// Can record (microphone, monitor of a sink).
    pub input: bool,
    /// Can play.
    pub output: bool,
}

/// Every device of the default host (ALSA on Linux, which also reaches
/// PulseAudio and PipeWire through their plugins). Empty when the sound
/// system cannot be asked. Cheap: it reads the host's device hints and
/// opens no device.
pub fn list_devices() -> Vec<DeviceInfo> {
    let host = cpal::default_host();
    let Ok(devices) = host.devices() else {
        return Vec::new();
    };
    devices
        .filter_map(|device| {
            let id = device.id().ok()?.to_string();
            let description = device.description().ok()?;
            Some(DeviceInfo {
                id,
                name: description
                    .name()
                    .lines()
                    .next()
                    .unwrap_or_default()
                    .to_owned(),
                input: description.supports_input(),
                output: description.supports_output(),
            })
        })
        .collect()
}

/// The device `name` names for `which`: `None` or `"default"` is the
/// host's default; otherwise the first device whose id (`alsa:pulse`), id
/// without its host (`pulse`) or human-readable name matches exactly.
pub(crate) fn find_device(
    host: &cpal::Host,
    which: Direction,
    name: Option<&str>,
) -> Result<cpal::Device, AudioError> {
    let wanted = name.unwrap_or("default");
    let default = || match which {
        Direction::Capture => host.default_input_device(),
        Direction::Playback => host.default_output_device(),
    };
    let found = if wanted == "default" {
        default()
    } else {
        host.devices().ok().and_then(|mut devices| {
            devices.find(|device| {
                let id = device.id().map(|id| id.to_string()).unwrap_or_default();
                let host_less = id.split_once(':').map_or(id.as_str(), |(_, rest)| rest);
                let named = device
                    .description()
                    .is_ok_and(|d| d.name().lines().next() == Some(wanted));
                id == wanted || host_less == wanted || named
            })
        })
    };
    found.ok_or_else(|| match name {
        Some(name) if name != "default" => AudioError::DeviceNotFound {
            which,
            name: name.to_owned(),
        },
        _ => AudioError::NoDefaultDevice { which },
    })
}

/// A device's display name for messages: its id, else its description.
pub(crate) fn display_name(device: &cpal::Device) -> String {
    device
        .id()
        .map(|id| id.to_string())
        .or_else(|_| device.description().map(|d| d.name().to_owned()))
        .unwrap_or_else(|_| device.to_string())
}
