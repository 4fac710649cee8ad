//! A server in a child process (the gateway, or the baseline's echo
//! server): started, awaited until it prints its `listening:` line, sampled
//! through /proc, stopped as Ctrl-C stops it (SIGINT), and killed on drop
//! if it still runs (so an error in the bench leaves no server behind).

use std::io::{BufRead as _, BufReader};
use std::net::SocketAddr;
use std::process::{Child, ChildStdout, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};

use super::procfs::{self, Process, Usage};

/// A running server process.
#[derive(Debug)]
pub struct ServerChild {
    name: &'static str,
    child: Child,
    listening_line: String,
    startup: Duration,
}

impl ServerChild {
    /// Runs `command` and waits up to `patience` for its `listening:` line
    /// on stdout. Stdout is drained by a thread for the rest of the child's
    /// life, so the child never blocks on a full pipe.
    pub fn start(
        name: &'static str,
        mut command: Command,
        patience: Duration,
    ) -> anyhow::Result<Self> {
        command.stdin(Stdio::null()).stdout(Stdio::piped());
        let started = Instant::now();
        let mut child = command
            .spawn()
            .with_context(|| format!("cannot start the {name} ({command:?})"))?;
        let stdout = child.stdout.take().context("the child has no stdout")?;
        let (lines, line_rx) = mpsc::channel();
        std::thread::spawn(move || forward_lines(stdout, &lines));
        let mut server = Self {
            name,
            child,
            listening_line: String::new(),
            startup: Duration::ZERO,
        };
        let deadline = started + patience;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match line_rx.recv_timeout(left) {
                Ok(line) if line.starts_with("listening:") => {
                    server.listening_line = line;
                    server.startup = started.elapsed();
                    return Ok(server);
                }
                Ok(_) => {}
                Err(RecvTimeoutError::Timeout) => {
                    bail!("the {name} printed no `listening:` line within {patience:?}")
                }
                Err(RecvTimeoutError::Disconnected) => {
                    let status = server.child.wait()?;
                    bail!("the {name} exited ({status}) before listening")
                }
            }
        }
    }

    /// The address printed after `label` on the `listening:` line, e.g.
    /// `HFA TCP` in `listening: HFA TCP 127.0.0.1:4060, HTTPS ...`.
    pub fn address(&self, label: &str) -> anyhow::Result<SocketAddr> {
        let line = &self.listening_line;
        let after = line
            .split_once(&format!("{label} "))
            .map(|(_, after)| after)
            .with_context(|| format!("no {label:?} in {line:?}"))?;
        let text = after.split([',', ' ']).next().unwrap_or_default();
        text.parse()
            .with_context(|| format!("no address after {label:?} in {line:?}"))
    }

    /// From spawn to the `listening:` line.
    pub fn startup(&self) -> Duration {
        self.startup
    }

    pub fn usage(&self) -> anyhow::Result<Usage> {
        procfs::usage(Process::Pid(self.child.id()))
    }

    /// Sends SIGINT (through kill(1): the workspace forbids unsafe code)
    /// and waits up to `patience` for the exit; kills the child after that.
    pub fn stop(mut self, patience: Duration) -> anyhow::Result<ExitStatus> {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-INT", &pid]).status();
        let deadline = Instant::now() + patience;
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait()? {
                return Ok(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        eprintln!(
            "the {} did not stop within {patience:?} of SIGINT: killed",
            self.name
        );
        self.child.kill()?;
        Ok(self.child.wait()?)
    }
}

impl Drop for ServerChild {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn forward_lines(stdout: ChildStdout, lines: &mpsc::Sender<String>) {
    for line in BufReader::new(stdout).lines() {
        let Ok(line) = line else { return };
        // Nobody waits for lines after startup: drain them.
        let _ = lines.send(line);
    }
}
