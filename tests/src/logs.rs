//! The gateway's log lines, captured in memory, for tests that check what
//! an administrator would read.
//!
//! One global subscriber (INFO and above, no colours) writes each line to
//! the capture of the thread that logs it. In a current-thread runtime
//! (`#[tokio::test]`) the gateway's tasks run on the test's thread, so a
//! test sees its own gateway's lines and none of the tests running beside
//! it.

use std::cell::RefCell;
use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

type Lines = Arc<Mutex<Vec<u8>>>;

thread_local! {
    static CAPTURE: RefCell<Option<Lines>> = const { RefCell::new(None) };
}

/// Captures the log lines of the current thread until dropped.
pub struct LogCapture {
    lines: Lines,
}

impl LogCapture {
    pub fn start() -> Self {
        static SUBSCRIBER: OnceLock<()> = OnceLock::new();
        SUBSCRIBER.get_or_init(|| {
            let installed = tracing_subscriber::fmt()
                .with_ansi(false)
                .with_max_level(tracing::Level::INFO)
                .with_writer(|| ThreadSink)
                .try_init();
            if let Err(error) = installed {
                panic!("cannot capture the logs: {error}");
            }
        });
        let lines = Lines::default();
        CAPTURE.with(|capture| *capture.borrow_mut() = Some(lines.clone()));
        Self { lines }
    }

    /// Everything this thread logged since the capture started.
    pub fn text(&self) -> String {
        let lines = self.lines.lock().unwrap_or_else(PoisonError::into_inner);
        String::from_utf8_lossy(&lines).into_owned()
    }
}

impl Drop for LogCapture {
    fn drop(&mut self) {
        CAPTURE.with(|capture| *capture.borrow_mut() = None);
    }
}

/// Writes to the current thread's capture, or nowhere.
struct ThreadSink;

impl Write for ThreadSink {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        CAPTURE.with(|capture| {
            if let Some(lines) = capture.borrow().as_ref() {
                let mut lines = lines.lock().unwrap_or_else(PoisonError::into_inner);
                lines.extend_from_slice(bytes);
            }
        });
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
