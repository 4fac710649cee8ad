//! The client trace (guide 7 point 2, "myPortal to go client trace via the
//! feedback option in the app"): the softphone's own `tracing` events,
//! written to `trace/softphone.log` in its profile directory and rotated
//! by size, in the gateway's trace line format (UTC to the microsecond,
//! RFC 3339) so client and gateway traces and a capture line up.
//!
//! It records the softphone's and the shared protocol code's events at
//! debug level whatever `RUST_LOG` and `-v` say (those steer stderr only).
//! The events never carry passwords, UC proofs or session tokens: secrets
//! are [`shared::secret::Secret`]s, whose `Debug` and `Display` hide them.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use gateway::trace::{RotatingFile, Rotation};
use tracing::{Event, Subscriber};
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::layer::{Context, Layer};

/// The trace's directory inside a profile.
pub const TRACE_DIR: &str = "trace";
/// The file being written; older ones are `softphone.log.1`, `.2`, ...
pub const TRACE_FILE: &str = "softphone.log";
/// Four files of at most 1 MiB: a day of calls, never a full disk.
pub const ROTATION: Rotation = Rotation {
    max_bytes: 1 << 20,
    files: 4,
};

/// Where a profile's client trace is written.
pub fn trace_path(profile_dir: &Path) -> PathBuf {
    profile_dir.join(TRACE_DIR).join(TRACE_FILE)
}

/// The `tracing` layer writing the client trace.
#[derive(Debug)]
pub struct ClientTrace {
    file: Mutex<RotatingFile>,
}

impl ClientTrace {
    /// Opens (appends to) the trace of the profile in `profile_dir`; its
    /// directory is created readable by the user only.
    pub fn open(profile_dir: &Path) -> std::io::Result<Self> {
        use std::os::unix::fs::DirBuilderExt as _;
        let path = trace_path(profile_dir);
        if let Some(dir) = path.parent() {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)?;
        }
        Ok(Self {
            file: Mutex::new(RotatingFile::open(&path, ROTATION)?),
        })
    }

    /// The layer with its own filter: our crates at debug, nothing else
    /// (the gateway of the demo keeps its own traces).
    pub fn filtered<S>(self) -> tracing_subscriber::filter::Filtered<Self, Targets, S>
    where
        S: Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
    {
        let targets = Targets::new()
            .with_target("softphone", LevelFilter::DEBUG)
            .with_target("shared", LevelFilter::DEBUG);
        Layer::with_filter(self, targets)
    }
}

impl<S: Subscriber> Layer<S> for ClientTrace {
    fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
        let line = gateway::trace::line(event);
        let mut file = self.file.lock().unwrap_or_else(PoisonError::into_inner);
        // A full disk must not stop a call; the line is lost.
        let _ = file.write_line(line.as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use tracing_subscriber::layer::SubscriberExt as _;

    use super::*;

    #[test]
    fn lines_carry_utc_microseconds_and_only_our_crates() {
        let dir = tempfile::tempdir().expect("a temp dir");
        let trace = ClientTrace::open(dir.path()).expect("the trace opens");
        let subscriber = tracing_subscriber::registry().with(trace.filtered());
        tracing::subscriber::with_default(subscriber, || {
            tracing::debug!(number = "201", "registered");
            tracing::info!(target: "hyper_util", "a dependency's event");
        });
        let text = std::fs::read_to_string(trace_path(dir.path())).expect("the trace");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 1, "{text}");
        let (time, rest) = lines[0].split_once(' ').expect("a time first");
        assert_eq!(time.len(), "2026-12-07T13:04:05.123456Z".len(), "{time}");
        assert!(time.ends_with('Z') && time.as_bytes()[19] == b'.', "{time}");
        assert!(time.parse::<jiff::Timestamp>().is_ok(), "{time}");
        assert!(
            rest.starts_with("DEBUG softphone::feedback::trace::tests: registered number=\"201\""),
            "{rest}"
        );
    }
}
