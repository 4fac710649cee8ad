//! A private PulseAudio daemon with null sinks, for tests that play and
//! record through real sound devices on a machine without a sound card.
//! Shared by `tests/audio_pulse.rs` and the app's own tests (`src/gui`),
//! which include it beside `child_run.rs` (its `super::child_run`).
//!
//! cpal (and the ALSA `pulse` plugin under it) read `PULSE_SERVER` when
//! they open a device, and the crate forbids the `unsafe`
//! `std::env::set_var`, so a test re-runs its own test binary as a child
//! process ([`run_child`], `child_run.rs`) with `PULSE_SERVER` and `HOME`
//! set; the child starts the [`Daemon`] there and does the work. Each sink
//! is also an ALSA device of its own name (`~/.asoundrc` in the child's
//! `HOME`), so the app can pick it like a headset.
//!
//! Without PulseAudio installed a test skips with a visible line, and fails
//! instead under CI (`CI` set), where `scripts/install-deps.sh` installs it.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Tells the child run where the daemon's directory is.
const CHILD_DIR: &str = "SOFTPHONE_TEST_PULSE_DIR";
/// The sinks' rate, and so their monitors'.
pub const MONITOR_RATE: u32 = 48000;

/// `true` when PulseAudio's tools are installed; else skips `test` with a
/// line on stderr, or fails under CI.
pub fn available(test: &str) -> bool {
    let missing: Vec<&str> = ["pulseaudio", "pactl", "parec"]
        .into_iter()
        .filter(|tool| Command::new(tool).arg("--version").output().is_err())
        .collect();
    if missing.is_empty() {
        return true;
    }
    let message = format!(
        "{} not installed (scripts/install-deps.sh installs pulseaudio \
         pulseaudio-utils libasound2-plugins)",
        missing.join(", ")
    );
    assert!(
        std::env::var_os("CI").is_none(),
        "CI must run {test}, not skip it: {message}"
    );
    // Straight to stderr: the test harness captures println!/eprintln!.
    let _ = writeln!(std::io::stderr(), "SKIPPED: {test}: {message}");
    false
}

/// Runs the ignored test `child` (its full path in this test binary) as a
/// child process with a daemon directory of its own (`PULSE_SERVER` and
/// `HOME` there), and fails unless it passed within `timeout`.
pub fn run_child(child: &str, timeout: Duration) {
    let dir = tempfile::Builder::new()
        .prefix("softphone-pulse-")
        .tempdir()
        .expect("create a temporary directory");
    let socket = format!("unix:{}", dir.path().join("native").display());
    let env = [
        ("PULSE_SERVER", socket.into()),
        ("HOME", dir.path().into()),
        (CHILD_DIR, dir.path().into()),
    ];
    let log = dir.path().join("daemon.log");
    super::child_run::run_child(child, dir.path(), &env, timeout, &[&log]);
}

/// The daemon's directory in a child run; `None` when the test runs by
/// itself (it then has nothing to do: its parent runs it).
pub fn child_dir() -> Option<PathBuf> {
    std::env::var_os(CHILD_DIR).map(PathBuf::from)
}

/// A private PulseAudio daemon, killed on drop: mono 48 kHz null sinks,
/// the first one the default sink, and `source` the default source.
pub struct Daemon {
    child: Child,
}

impl Daemon {
    /// Starts the daemon in `dir` with `sinks`, each also an ALSA device of
    /// the same name described as "`name` sink".
    pub fn start(dir: &Path, sinks: &[&str], source: &str) -> Self {
        write_asoundrc(dir, sinks);
        let socket = dir.join("native");
        let log = std::fs::File::create(dir.join("daemon.log")).expect("log file");
        let mut command = Command::new("pulseaudio");
        command
            .args([
                "-n",
                "--daemonize=no",
                "--exit-idle-time=-1",
                "--disallow-exit",
                "--use-pid-file=no",
            ])
            .arg("-L")
            .arg(format!(
                "module-native-protocol-unix auth-anonymous=1 socket={}",
                socket.display()
            ));
        for sink in sinks {
            command.arg("-L").arg(format!(
                "module-null-sink sink_name={sink} rate={MONITOR_RATE} channels=1"
            ));
        }
        let child = command
            .env("HOME", dir)
            .env("XDG_RUNTIME_DIR", dir)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start pulseaudio");
        let mut daemon = Self { child };
        daemon.wait_ready();
        let default_sink = sinks.first().expect("at least one sink");
        for (what, name) in [
            ("set-default-sink", *default_sink),
            ("set-default-source", source),
        ] {
            let status = Command::new("pactl")
                .args([what, name])
                .status()
                .expect("pactl");
            assert!(status.success(), "pactl {what} {name}: {status}");
        }
        daemon
    }

    /// Polls `pactl info` until the server answers.
    fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let info = Command::new("pactl").arg("info").output().expect("pactl");
            if info.status.success() {
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("pulseaudio exited: {status}");
            }
            assert!(Instant::now() < deadline, "pulseaudio not ready after 10 s");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Each sink as an ALSA device of its own (the `pulse` plugin on that
/// sink, and its monitor for capture), listed with a description.
fn write_asoundrc(dir: &Path, sinks: &[&str]) {
    let devices: String = sinks
        .iter()
        .map(|sink| {
            format!(
                "pcm.{sink} {{\n  type pulse\n  device \"{sink}\"\n  \
                 hint {{ show on description \"{sink} sink\" }}\n}}\n"
            )
        })
        .collect();
    std::fs::write(dir.join(".asoundrc"), devices).expect("write .asoundrc");
}

/// `parec` on `source` with 10 ms latency: records what a sink plays
/// (from its monitor), and keeps the null sink awake (idle, it wakes every
/// 2 s only). Starts once the first samples arrive.
pub struct Recorder {
    child: Child,
    samples: Arc<Mutex<Vec<i16>>>,
}

impl Recorder {
    pub fn start(source: &str) -> Self {
        let mut child = Command::new("parec")
            .args(["-d", source, "--latency-msec=10", "--raw"])
            .args(["--format=s16le", "--channels=1"])
            .arg(format!("--rate={MONITOR_RATE}"))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start parec");
        let mut stdout = child.stdout.take().expect("parec stdout");
        let samples = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&samples);
        std::thread::spawn(move || {
            let mut bytes = [0u8; 4096];
            while let Ok(count @ 1..) = stdout.read(&mut bytes) {
                let mut samples = sink.lock().expect("samples");
                let pairs = bytes[..count & !1].chunks_exact(2);
                samples.extend(pairs.map(|pair| i16::from_le_bytes([pair[0], pair[1]])));
            }
        });
        let deadline = Instant::now() + Duration::from_secs(10);
        while samples.lock().expect("samples").is_empty() {
            assert!(
                Instant::now() < deadline,
                "parec recorded nothing on {source} in 10 s"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Self { child, samples }
    }

    /// Everything recorded since the last take.
    pub fn take(&self) -> Vec<i16> {
        std::mem::take(&mut *self.samples.lock().expect("samples"))
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
