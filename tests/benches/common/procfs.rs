//! What a process has used so far, from Linux's /proc: CPU time
//! (utime + stime) and resident memory (VmRSS now, VmHWM the peak).

use std::sync::OnceLock;
use std::time::Duration;

use anyhow::Context as _;

/// One look at a process.
#[derive(Debug, Clone, Copy, Default)]
pub struct Usage {
    /// User + system CPU time since the process started.
    pub cpu: Duration,
    /// Resident set size now, KiB.
    pub rss_kib: u64,
    /// Peak resident set size so far, KiB.
    pub peak_rss_kib: u64,
}

/// Which process to look at.
#[derive(Debug, Clone, Copy)]
pub enum Process {
    /// This one (the load generator).
    Current,
    Pid(u32),
}

impl Process {
    fn dir(self) -> String {
        match self {
            Self::Current => "/proc/self".to_owned(),
            Self::Pid(pid) => format!("/proc/{pid}"),
        }
    }
}

pub fn usage(process: Process) -> anyhow::Result<Usage> {
    let dir = process.dir();
    let stat = std::fs::read_to_string(format!("{dir}/stat"))
        .with_context(|| format!("cannot read {dir}/stat"))?;
    let status = std::fs::read_to_string(format!("{dir}/status"))
        .with_context(|| format!("cannot read {dir}/status"))?;
    Ok(Usage {
        cpu: cpu_time(&stat).with_context(|| format!("unexpected {dir}/stat"))?,
        rss_kib: status_kib(&status, "VmRSS:").unwrap_or(0),
        peak_rss_kib: status_kib(&status, "VmHWM:").unwrap_or(0),
    })
}

/// CPU time (utime + stime) of each thread of a process, with the thread's
/// name (`comm`, at most 15 bytes; tokio's runtime names, `audio-clock`,
/// ...). A thread that ended is no longer listed: its time counts in the
/// process's [`Usage::cpu`] only.
pub fn thread_cpu(process: Process) -> anyhow::Result<Vec<(String, Duration)>> {
    let dir = format!("{}/task", process.dir());
    let mut threads = Vec::new();
    for entry in std::fs::read_dir(&dir).with_context(|| format!("cannot list {dir}"))? {
        // A thread may end between the listing and the read: skip it.
        let Ok(stat) = std::fs::read_to_string(entry?.path().join("stat")) else {
            continue;
        };
        let name = stat
            .split_once('(')
            .and_then(|(_, rest)| rest.rsplit_once(')'))
            .map_or("", |(name, _)| name);
        if let Some(cpu) = cpu_time(&stat) {
            threads.push((name.to_owned(), cpu));
        }
    }
    Ok(threads)
}

/// utime + stime (fields 14 and 15 of /proc/PID/stat, in clock ticks).
/// The command name (field 2) may hold spaces, so fields are counted after
/// its closing parenthesis, where field 3 starts.
fn cpu_time(stat: &str) -> Option<Duration> {
    let (_, after_name) = stat.rsplit_once(')')?;
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks = |field: usize| fields.get(field - 3)?.parse::<u64>().ok();
    let total = ticks(14)? + ticks(15)?;
    Some(Duration::from_secs_f64(total as f64 / clock_ticks() as f64))
}

/// `VmRSS:     1234 kB` and the like.
fn status_kib(status: &str, key: &str) -> Option<u64> {
    let line = status.lines().find(|line| line.starts_with(key))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Clock ticks per second (`getconf CLK_TCK`), asked once; 100, Linux's
/// value on every common architecture, if getconf is missing.
pub fn clock_ticks() -> u64 {
    static TICKS: OnceLock<u64> = OnceLock::new();
    *TICKS.get_or_init(|| {
        std::process::Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|out| String::from_utf8(out.stdout).ok())
            .and_then(|text| text.trim().parse().ok())
            .filter(|&ticks| ticks > 0)
            .unwrap_or(100)
    })
}

/// The kernel's TCP counters that tell a full accept queue (this network
/// namespace, all processes): system-wide, but during a storm only the
/// storm's connections move them.
#[derive(Debug, Clone, Copy, Default)]
pub struct TcpCounters {
    /// Connections refused because a listener's accept queue was full
    /// (`TcpExt: ListenOverflows`): the SYN or the handshake's last ACK is
    /// dropped and the client retransmits after 1 s, 3 s, 7 s, ...
    pub listen_overflows: u64,
    /// SYNs sent again (`TcpExt: TCPSynRetrans`).
    pub syn_retransmits: u64,
}

impl TcpCounters {
    /// The counters now; zeros if /proc/net/netstat cannot be read.
    pub fn now() -> Self {
        let text = std::fs::read_to_string("/proc/net/netstat").unwrap_or_default();
        let counter = |name: &str| tcp_ext(&text, name).unwrap_or(0);
        Self {
            listen_overflows: counter("ListenOverflows"),
            syn_retransmits: counter("TCPSynRetrans"),
        }
    }

    pub fn since(self, earlier: Self) -> Self {
        Self {
            listen_overflows: self
                .listen_overflows
                .saturating_sub(earlier.listen_overflows),
            syn_retransmits: self.syn_retransmits.saturating_sub(earlier.syn_retransmits),
        }
    }
}

/// /proc/net/netstat holds a `TcpExt:` line of names, then one of values.
fn tcp_ext(netstat: &str, name: &str) -> Option<u64> {
    let mut lines = netstat.lines().filter(|line| line.starts_with("TcpExt:"));
    let (names, values) = (lines.next()?, lines.next()?);
    let index = names.split_whitespace().position(|field| field == name)?;
    values.split_whitespace().nth(index)?.parse().ok()
}
