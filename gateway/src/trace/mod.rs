//! Trace profiles (guide 7): each one a part of the gateway's `tracing`
//! events, switched on and off while the gateway runs, written to a file of
//! its own in the data directory (`traces/NAME.log`, rotated by size).
//!
//! Lines start with the UTC time to the microsecond (RFC 3339), so they
//! line up with a packet capture's timestamps. The events themselves never
//! carry passwords, proofs or session tokens; the trace adds nothing else.

mod layer;
mod profile;
mod rotate;
mod settings;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

pub use layer::{TraceLayer, line};
pub use profile::{Profile, TRUNK_TARGET};
pub use rotate::{RotatingFile, Rotation, numbered};
pub use settings::TraceSection;

/// Why a trace could not be switched on.
#[derive(Debug, thiserror::Error)]
pub enum TraceError {
    #[error("traces have no directory yet (the gateway is starting)")]
    NoDirectory,
    #[error("cannot open the trace file {path}: {source}")]
    Open {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Where the trace files go.
#[derive(Debug, Clone)]
struct Place {
    dir: PathBuf,
    rotation: Rotation,
}

/// One profile's switch and file.
#[derive(Debug, Default)]
struct Slot {
    on: AtomicBool,
    file: Mutex<Option<RotatingFile>>,
}

/// The trace profiles of one gateway process.
#[derive(Debug, Default)]
pub struct Traces {
    place: Mutex<Option<Place>>,
    slots: [Slot; Profile::ALL.len()],
}

impl Traces {
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// Trace files go to `dir` (created private if missing) from now on.
    pub fn set_directory(&self, dir: &Path, rotation: Rotation) {
        *lock(&self.place) = Some(Place {
            dir: dir.to_owned(),
            rotation,
        });
    }

    /// Switches `profile` on (opening its file) or off (closing it).
    /// Returns the file's path.
    pub fn set(&self, profile: Profile, on: bool) -> Result<PathBuf, TraceError> {
        let place = lock(&self.place).clone().ok_or(TraceError::NoDirectory)?;
        let path = place.dir.join(format!("{}.log", profile.name()));
        let slot = &self.slots[profile.index()];
        let mut file = lock(&slot.file);
        if on && file.is_none() {
            let open = create_private_dir(&place.dir)
                .and_then(|()| RotatingFile::open(&path, place.rotation));
            *file = Some(open.map_err(|source| TraceError::Open {
                path: path.clone(),
                source,
            })?);
        }
        let line = format!(
            "{} TRACE {} {}\n",
            layer::now(),
            profile.name(),
            if on { "switched on" } else { "switched off" }
        );
        if let Some(writer) = file.as_mut() {
            let _ = writer.write_line(line.as_bytes());
        }
        if !on {
            *file = None;
        }
        slot.on.store(on, Ordering::Relaxed);
        Ok(path)
    }

    /// Whether `profile` is on.
    pub fn is_on(&self, profile: Profile) -> bool {
        self.slots[profile.index()].on.load(Ordering::Relaxed)
    }

    /// The profiles switched on.
    pub fn enabled(&self) -> Vec<Profile> {
        Profile::ALL
            .into_iter()
            .filter(|profile| self.is_on(*profile))
            .collect()
    }

    /// The `tracing` layer writing the profiles' files.
    pub fn layer(self: &Arc<Self>) -> TraceLayer {
        TraceLayer::new(self.clone())
    }

    fn write(&self, profile: Profile, line: &[u8]) {
        if let Some(file) = lock(&self.slots[profile.index()].file).as_mut() {
            // A full disk must not stop the gateway; the line is lost.
            let _ = file.write_line(line);
        }
    }
}

fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt as _;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
