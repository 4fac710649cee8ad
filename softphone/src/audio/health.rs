//! Is a stream still alive? A device counts as lost when its stream
//! reports `DeviceNotAvailable`, `HostUnavailable` or `StreamInvalidated`,
//! or when its callbacks stop. Every other stream error is counted and
//! otherwise ignored: xruns, and the ALSA pulse plugin's spurious
//! `snd_pcm_avail_delay ... I/O error (5)`, which can fire hundreds of times
//! while the sound is intact (and millions of times, with no callbacks,
//! once the server is gone: the watchdog catches that case).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;

use cpal::ErrorKind;

use super::Direction;
use super::guard::Command;

/// Supervisor ticks (20 ms each) a new stream may take to call back: an
/// idle PulseAudio null sink wakes only every 2 s.
const STARTUP_TICKS: u32 = 250;
/// Ticks without a callback after which a running device counts as gone.
/// Counted in ticks, not wall time, so a suspended machine that stopped
/// this thread too does not look like a lost device on resume.
const STALL_TICKS: u32 = 100;

/// Signs of life of one stream, read by the supervisor's watchdog.
#[derive(Debug, Default)]
pub(crate) struct StreamHealth {
    callbacks: AtomicU64,
    /// Errors the stream survives (xruns, the ALSA pulse plugin's spurious
    /// `snd_pcm_avail_delay` I/O errors): counted, never fatal.
    soft_errors: AtomicU64,
}

impl StreamHealth {
    pub(crate) fn callbacks(&self) -> u64 {
        self.callbacks.load(Ordering::Relaxed)
    }

    pub(crate) fn soft_errors(&self) -> u64 {
        self.soft_errors.load(Ordering::Relaxed)
    }

    fn count_soft_error(&self) {
        self.soft_errors.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn beat(&self) {
        self.callbacks.fetch_add(1, Ordering::Relaxed);
    }
}

/// The stream error callback: fatal errors go to the supervisor (this runs
/// on the stream's thread, which ends after such an error), the rest are
/// counted without allocating.
pub(crate) fn error_callback(
    which: Direction,
    generation: u64,
    health: Arc<StreamHealth>,
    commands: mpsc::Sender<Command>,
) -> impl FnMut(cpal::Error) + Send + 'static {
    move |error| {
        if is_fatal(error.kind()) {
            let why = error.to_string();
            let _ = commands.send(Command::StreamFailed {
                which,
                generation,
                why,
            });
        } else {
            health.count_soft_error();
        }
    }
}

fn is_fatal(kind: ErrorKind) -> bool {
    matches!(
        kind,
        ErrorKind::DeviceNotAvailable | ErrorKind::HostUnavailable | ErrorKind::StreamInvalidated
    )
}

/// Notices a stream whose callbacks stopped.
#[derive(Debug, Default)]
pub(crate) struct Watchdog {
    seen: u64,
    quiet_ticks: u32,
}

impl Watchdog {
    pub(crate) fn check(&mut self, callbacks: u64) -> Option<String> {
        if callbacks != self.seen {
            self.seen = callbacks;
            self.quiet_ticks = 0;
            return None;
        }
        self.quiet_ticks += 1;
        let limit = if callbacks == 0 {
            STARTUP_TICKS
        } else {
            STALL_TICKS
        };
        (self.quiet_ticks == limit).then(|| {
            let seconds = f64::from(limit) / 50.0;
            format!("the device sent no audio callback for {seconds} s")
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_device_that_is_gone_is_fatal() {
        assert!(is_fatal(ErrorKind::DeviceNotAvailable));
        assert!(is_fatal(ErrorKind::StreamInvalidated));
        assert!(
            !is_fatal(ErrorKind::BackendError),
            "ALSA pulse plugin I/O error (5)"
        );
        assert!(!is_fatal(ErrorKind::Xrun));
    }

    #[test]
    fn watchdog_reports_a_stream_that_stops_once() {
        let mut watchdog = Watchdog::default();
        for _ in 1..STARTUP_TICKS {
            assert_eq!(watchdog.check(0), None, "a slow start is no loss");
        }
        assert_eq!(watchdog.check(1), None);
        for _ in 1..STALL_TICKS {
            assert_eq!(watchdog.check(1), None);
        }
        let why = watchdog.check(1).expect("stalled for 2 s");
        assert!(why.contains("2 s"), "{why}");
        assert_eq!(watchdog.check(1), None, "reported once");
        assert_eq!(watchdog.check(2), None, "callbacks resumed");
    }

    #[test]
    fn error_callback_counts_soft_errors_and_forwards_fatal_ones() {
        let (commands, inbox) = mpsc::channel();
        let health = Arc::new(StreamHealth::default());
        let mut callback = error_callback(Direction::Playback, 7, Arc::clone(&health), commands);
        for _ in 0..300 {
            callback(cpal::Error::with_message(
                ErrorKind::BackendError,
                "snd_pcm_avail_delay: I/O error (5)",
            ));
        }
        assert_eq!(health.soft_errors(), 300);
        assert!(inbox.try_recv().is_err());
        callback(ErrorKind::DeviceNotAvailable.into());
        match inbox.try_recv() {
            Ok(Command::StreamFailed {
                which: Direction::Playback,
                generation: 7,
                why,
            }) => assert!(why.contains("not available"), "{why}"),
            _ => panic!("fatal error not forwarded"),
        }
    }
}
