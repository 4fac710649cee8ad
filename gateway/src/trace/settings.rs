//! `[trace]` in the configuration file.

use std::num::NonZeroU32;

use serde::Deserialize;

use super::profile::Profile;
use super::rotate::Rotation;

/// `[trace]`: the profiles on from the start, and the files' bounds.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TraceSection {
    /// Profiles switched on at start (`gateway trace enable` adds more).
    pub enabled: Vec<Profile>,
    /// A trace file is rotated when it would pass this size.
    pub file_size_kib: NonZeroU32,
    /// Files kept per profile, the one being written included.
    pub files: NonZeroU32,
}

impl Default for TraceSection {
    fn default() -> Self {
        Self {
            enabled: Vec::new(),
            file_size_kib: NonZeroU32::new(10 * 1024).unwrap_or(NonZeroU32::MIN),
            files: NonZeroU32::new(5).unwrap_or(NonZeroU32::MIN),
        }
    }
}

impl TraceSection {
    pub fn rotation(&self) -> Rotation {
        Rotation {
            max_bytes: u64::from(self.file_size_kib.get()) * 1024,
            files: self.files.get(),
        }
    }
}
