//! The gateway under test: found in the bench's target directory, started as
//! a child process with a generated configuration of N HFA phones (in a
//! temporary directory, with its log), sampled through /proc, and stopped.
//!
//! Clean-up holds on every path: the child is killed on drop if it still
//! runs, and the temp dir (config, log) is removed on drop.

use std::fs::File;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{Context as _, bail};

use super::child::ServerChild;
use super::office::{self, Phone, TempDir, temp_dir};
use super::procfs::Usage;

/// How long a server may take to start (a config of 10,000 clients is
/// validated first) and to stop.
pub const STARTUP_PATIENCE: Duration = Duration::from_secs(120);
pub const STOP_PATIENCE: Duration = Duration::from_secs(20);
/// Lines of the gateway's log shown when it has any.
const LOG_EXCERPT_LINES: usize = 5;

/// File descriptors per process beyond one per connection.
pub const SPARE_FDS: u64 = 1024;

/// `explicit` (`--gateway`), or `gateway` in the target directory of the
/// running bench (target/release/deps/NAME-* → target/release/gateway).
pub fn binary(explicit: Option<&Path>) -> anyhow::Result<PathBuf> {
    if let Some(path) = explicit {
        return Ok(path.to_owned());
    }
    let me = std::env::current_exe().context("cannot find this bench's executable")?;
    let profile_dir = me
        .parent()
        .and_then(|deps| deps.parent())
        .context("the bench does not run from a target directory")?;
    let gateway = profile_dir.join("gateway");
    if !gateway.is_file() {
        bail!(
            "no gateway binary at {}: build it first with `cargo build --release -p gateway` \
             (or pass --gateway PATH)",
            gateway.display()
        );
    }
    Ok(gateway)
}

/// Each process (this one, the gateway, an echo server, which inherit the
/// limit) holds one descriptor per connection: raise the soft limit to
/// `connections` + [`SPARE_FDS`], up to the hard one.
pub fn raise_fd_limit(connections: usize) -> anyhow::Result<()> {
    let needed = connections as u64 + SPARE_FDS;
    let limit =
        rlimit::increase_nofile_limit(needed).context("cannot raise the open-file limit")?;
    if limit < needed {
        bail!(
            "the open-file limit is {limit}, {needed} are needed: raise the hard limit \
             (e.g. `ulimit -Hn {needed}` as root, or in /etc/security/limits.conf)"
        );
    }
    Ok(())
}

/// A running gateway with the configuration of some phones.
#[derive(Debug)]
pub struct GatewayChild {
    server: ServerChild,
    log: PathBuf,
    // Dropped last: holds the config and the log.
    _dir: TempDir,
}

impl GatewayChild {
    /// Writes a configuration of `phones` (HFA on a free port of
    /// 127.0.0.1) and runs `binary run --config FILE` with `RUST_LOG=warn`,
    /// its log in a file; returns once it listens.
    pub fn start(binary: &Path, phones: &[Phone], label: &str) -> anyhow::Result<Self> {
        let dir = temp_dir(label)?;
        let config = dir.path().join("gateway.toml");
        let ports = office::free_ports()?;
        std::fs::write(&config, office::config_toml(phones, ports.0, ports.1))?;
        let log = dir.path().join("gateway.log");
        let mut command = Command::new(binary);
        command
            .arg("run")
            .arg("--config")
            .arg(&config)
            .env("RUST_LOG", "warn")
            .stderr(File::create(&log)?);
        let server = ServerChild::start("gateway", command, STARTUP_PATIENCE)
            .with_context(|| format!("gateway log:\n{}", log_excerpt(&log, 20).1))?;
        Ok(Self {
            server,
            log,
            _dir: dir,
        })
    }

    /// Where the phones connect.
    pub fn hfa_address(&self) -> anyhow::Result<SocketAddr> {
        self.server.address("HFA TCP")
    }

    /// From spawn to the `listening:` line (includes config validation).
    pub fn startup(&self) -> Duration {
        self.server.startup()
    }

    pub fn usage(&self) -> anyhow::Result<Usage> {
        self.server.usage()
    }

    /// Stops the gateway (SIGINT); returns the number of lines it logged,
    /// and prints the first of them, and the exit status if it failed.
    pub fn stop(self) -> anyhow::Result<usize> {
        let status = self.server.stop(STOP_PATIENCE)?;
        let (lines, excerpt) = log_excerpt(&self.log, LOG_EXCERPT_LINES);
        if !status.success() || lines > 0 {
            eprintln!("gateway exit: {status}; {lines} log lines, the first:\n{excerpt}");
        }
        Ok(lines)
    }
}

/// The number of lines in `log`, and its first `lines` lines.
fn log_excerpt(log: &Path, lines: usize) -> (usize, String) {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let head: Vec<&str> = text.lines().take(lines).collect();
    (text.lines().count(), head.join("\n"))
}
