//! The incoming call's desktop notification, shown by a real notification
//! server: `dunst` on a virtual display (Xvfb), on a private session bus
//! (`dbus-daemon`), asked what it shows and shows no more with `dunstctl`.
//!
//! notify-rust connects to the bus `DBUS_SESSION_BUS_ADDRESS` names, which
//! this crate may not set for itself (`std::env::set_var` is `unsafe`), so
//! the test runs its other half as a child process with it set. Fails when
//! the server cannot start: `scripts/install-deps.sh` installs xvfb,
//! dbus-daemon and dunst.

use std::ffi::OsString;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::{PATIENCE, child_run};
use crate::gui::notification::Notifier;

/// Tells the child half it runs under the private bus.
const CHILD_MARK: &str = "SOFTPHONE_TEST_NOTIFICATIONS";

/// The processes of the notification server, killed on drop.
struct Desktop {
    processes: Vec<Child>,
    bus: String,
}

impl Desktop {
    fn start(dir: &Path) -> Self {
        let mut desktop = Self {
            processes: Vec::new(),
            bus: String::new(),
        };
        let display = desktop.first_line(
            // -noreset: a client leaving must not reset the server under dunst
            // while it connects.
            Command::new("Xvfb").args(["-displayfd", "1", "-nolisten", "tcp", "-noreset"]),
            "Xvfb (package xvfb)",
        );
        let display = format!(":{display}");
        let address = format!("unix:path={}", dir.join("bus").display());
        desktop.bus = desktop.first_line(
            Command::new("dbus-daemon").args([
                "--session",
                "--nofork",
                "--print-address=1",
                &format!("--address={address}"),
            ]),
            "dbus-daemon (package dbus-daemon)",
        );
        let log = std::fs::File::create(dir.join("dunst.log")).expect("log file");
        let dunst = Command::new("dunst")
            .env("DISPLAY", &display)
            .env("DBUS_SESSION_BUS_ADDRESS", &desktop.bus)
            .env("HOME", dir)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|error| panic!("cannot start dunst (package dunst): {error}"));
        desktop.processes.push(dunst);
        // Ready once it owns the notification service.
        let deadline = Instant::now() + PATIENCE;
        while displayed(&desktop.bus).is_none() {
            assert!(Instant::now() < deadline, "dunst did not come up");
            std::thread::sleep(Duration::from_millis(50));
        }
        desktop
    }

    /// Starts `command` and reads the first line it prints.
    fn first_line(&mut self, command: &mut Command, what: &str) -> String {
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|error| panic!("cannot start {what}: {error}"));
        let stdout = child.stdout.take().expect("stdout");
        self.processes.push(child);
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .unwrap_or_else(|error| panic!("{what} said nothing: {error}"));
        assert!(!line.trim().is_empty(), "{what} exited at once");
        line.trim().to_owned()
    }
}

impl Drop for Desktop {
    fn drop(&mut self) {
        for process in self.processes.iter_mut().rev() {
            let _ = process.kill();
            let _ = process.wait();
        }
    }
}

/// `dunstctl` on `bus`: its output, `None` if it failed.
fn dunstctl(bus: &str, args: &[&str]) -> Option<String> {
    let output = Command::new("dunstctl")
        .args(args)
        .env("DBUS_SESSION_BUS_ADDRESS", bus)
        .output()
        .ok()?;
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).into_owned())
}

/// How many notifications dunst shows now.
fn displayed(bus: &str) -> Option<u32> {
    dunstctl(bus, &["count", "displayed"])?.trim().parse().ok()
}

fn until_displayed(bus: &str, count: u32) {
    let deadline = Instant::now() + PATIENCE;
    while displayed(bus) != Some(count) {
        assert!(
            Instant::now() < deadline,
            "dunst shows {:?} notifications, not {count}",
            displayed(bus)
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn an_incoming_call_shows_a_desktop_notification_until_the_ringing_stops() {
    let dir = tempfile::tempdir().expect("temp dir");
    let desktop = Desktop::start(dir.path());
    let env: [(&str, OsString); 2] = [
        ("DBUS_SESSION_BUS_ADDRESS", desktop.bus.clone().into()),
        (CHILD_MARK, "1".into()),
    ];
    child_run::run_child(
        "gui::tests::notification::notification_child",
        dir.path(),
        &env,
        Duration::from_secs(60),
        &[&dir.path().join("dunst.log")],
    );
}

#[test]
#[ignore = "the child half of an_incoming_call_shows_a_desktop_notification_until_the_ringing_stops"]
fn notification_child() {
    if std::env::var_os(CHILD_MARK).is_none() {
        return;
    }
    let bus = std::env::var("DBUS_SESSION_BUS_ADDRESS").expect("the private bus");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let notifier = Notifier::start(runtime.handle());
    until_displayed(&bus, 0);

    notifier.ringing("Call from 202 Ben".into());
    until_displayed(&bus, 1);
    // Answered (or missed): the notification goes, into dunst's history.
    notifier.stopped();
    until_displayed(&bus, 0);
    let history = dunstctl(&bus, &["history"]).expect("dunstctl history");
    let field = |name: &str, value: &str| {
        // dunstctl prints JSON: "name" : { "type" : "s", "data" : "value" }
        let compact: String = history.split_whitespace().collect();
        compact.contains(&format!(
            "\"{name}\":{{\"type\":\"s\",\"data\":\"{}\"}}",
            value.replace(' ', "")
        ))
    };
    assert!(field("summary", "Incoming call"), "{history}");
    assert!(field("body", "Call from 202 Ben"), "{history}");
    assert!(field("appname", "Device@Home softphone"), "{history}");
    assert!(field("category", "call.incoming"), "{history}");
}
