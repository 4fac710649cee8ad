//! Runs one ignored test of this test binary as a child process, with
//! environment variables the test itself may not set (the crate forbids
//! the `unsafe` `std::env::set_var`): a sound server's or a session bus's
//! address, read by libraries when they connect.

use std::ffi::OsString;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// Runs the ignored test `child` (its full path in this binary) with `env`,
/// its output in `dir`; fails with that output and the files `logs` unless
/// it passed within `timeout` (a stuck child must fail the test, not CI).
pub fn run_child(
    child: &str,
    dir: &Path,
    env: &[(&str, OsString)],
    timeout: Duration,
    logs: &[&Path],
) {
    let (out_path, err_path) = (dir.join("child.out"), dir.join("child.err"));
    let mut process = Command::new(std::env::current_exe().expect("test binary"))
        .args([
            child,
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .envs(env.iter().map(|(name, value)| (name, value)))
        .stdout(std::fs::File::create(&out_path).expect("child stdout"))
        .stderr(std::fs::File::create(&err_path).expect("child stderr"))
        .spawn()
        .expect("run the child test");
    let deadline = Instant::now() + timeout;
    let status = loop {
        match process.try_wait().expect("child status") {
            Some(status) => break Some(status),
            None if Instant::now() > deadline => {
                let _ = process.kill();
                let _ = process.wait();
                break None;
            }
            None => std::thread::sleep(Duration::from_millis(100)),
        }
    };
    let stdout = std::fs::read_to_string(&out_path).unwrap_or_default();
    let stderr = std::fs::read_to_string(&err_path).unwrap_or_default();
    let logs: String = logs
        .iter()
        .map(|log| {
            let text = std::fs::read_to_string(log).unwrap_or_default();
            format!("{}:\n{text}\n", log.display())
        })
        .collect();
    assert!(
        status.is_some_and(|status| status.success()) && stdout.contains("1 passed"),
        "child run {child} failed ({status:?}, killed after {timeout:?} if None):\n\
         {stdout}\n{stderr}\n{logs}"
    );
}
