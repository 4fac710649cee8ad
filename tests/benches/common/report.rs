//! Markdown for BENCHMARKS.md: the preamble (command, gateway, machine,
//! date), a table with a column per run, and the formats of its cells.

use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use super::procfs;
use super::stats::Latencies;

/// Command, gateway binary and commit, machine, date and load, one per line.
pub fn preamble(command: &str, gateway: &Path) -> String {
    let mut text = String::new();
    let _ = writeln!(text, "command: `{command}`  ");
    let _ = writeln!(text, "gateway: `{}`  ", gateway.display());
    let _ = writeln!(text, "gateway commit: {}  ", commit());
    let _ = writeln!(text, "machine: {}  ", machine());
    let _ = writeln!(text, "date: {}  ", today());
    let _ = writeln!(
        text,
        "load average at the end (1, 5, 15 min; the machine may be shared): {}\n",
        load_average()
    );
    text
}

/// Like [`preamble`], for a bench that runs the gateway in its own process
/// (the `gateway` crate of this checkout).
pub fn preamble_in_process(command: &str) -> String {
    let mut text = String::new();
    let _ = writeln!(text, "command: `{command}`  ");
    let _ = writeln!(text, "gateway: in-process (the gateway crate)  ");
    let _ = writeln!(text, "commit: {}  ", commit());
    let _ = writeln!(text, "machine: {}  ", machine());
    let _ = writeln!(text, "date: {}  ", today());
    let _ = writeln!(
        text,
        "load average at the end (1, 5, 15 min; the machine may be shared): {}\n",
        load_average()
    );
    text
}

/// How CPU and memory are measured, for under the table.
pub fn units_note() -> String {
    format!(
        "CPU times are utime + stime from /proc/PID/stat (CLK_TCK = {}); \
         RSS is VmRSS / VmHWM from /proc/PID/status; 1 MiB = 1,048,576 bytes.",
        procfs::clock_ticks()
    )
}

/// A markdown table with a column per run of type `R`.
pub struct Table<'a, R> {
    pub runs: &'a [R],
    header: String,
    rows: Vec<(String, Vec<String>)>,
}

impl<'a, R> Table<'a, R> {
    /// `corner` heads the label column; `column` heads each run's column.
    pub fn new(runs: &'a [R], corner: &str, column: impl Fn(&R) -> String) -> Self {
        let mut header = format!("| {corner} |");
        for run in runs {
            let _ = write!(header, " {} |", column(run));
        }
        header.push_str("\n|---|");
        header.push_str(&"---:|".repeat(runs.len()));
        header.push('\n');
        Self {
            runs,
            header,
            rows: Vec::new(),
        }
    }

    pub fn add(&mut self, label: &str, cell: impl Fn(&R) -> String) {
        let cells = self.runs.iter().map(cell).collect();
        self.rows.push((label.to_owned(), cells));
    }

    pub fn render(&self) -> String {
        let mut text = self.header.clone();
        for (label, cells) in &self.rows {
            let _ = writeln!(text, "| {label} | {} |", cells.join(" | "));
        }
        text
    }
}

/// `p50 / p99 / max ms`: whole milliseconds from 10 ms, finer below.
pub fn percentiles(latencies: &Latencies) -> String {
    let ms = |value: Option<Duration>| {
        value.map_or_else(
            || "–".to_owned(),
            |d| {
                let ms = d.as_secs_f64() * 1e3;
                match ms {
                    ..1.0 => format!("{ms:.2}"),
                    ..10.0 => format!("{ms:.1}"),
                    _ => format!("{ms:.0}"),
                }
            },
        )
    };
    format!(
        "{} / {} / {} ms",
        ms(latencies.percentile(50.0)),
        ms(latencies.percentile(99.0)),
        ms(latencies.max())
    )
}

/// Wall times, to the millisecond.
pub fn seconds(duration: Duration) -> String {
    format!("{:.3} s", duration.as_secs_f64())
}

/// CPU times: /proc counts clock ticks (10 ms at CLK_TCK = 100).
pub fn cpu(duration: Duration) -> String {
    format!("{:.2} s", duration.as_secs_f64())
}

/// `count` per second of `wall`, rounded, with thousands separators.
pub fn rate(count: usize, wall: Duration) -> String {
    thousands(per_second(count, wall).round() as usize)
}

pub fn per_second(count: usize, wall: Duration) -> f64 {
    count as f64 / wall.as_secs_f64().max(1e-9)
}

/// `used` as a share of one core over `wall`.
pub fn core_share(used: Duration, wall: Duration) -> String {
    let share = 100.0 * used.as_secs_f64() / wall.as_secs_f64().max(1e-9);
    format!("{share:.1} %")
}

pub fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

/// 10000 → `10,000`.
pub fn thousands(value: usize) -> String {
    let digits = value.to_string();
    let mut text = String::new();
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            text.push(',');
        }
        text.push(digit);
    }
    text
}

/// `git rev-parse --short HEAD` of the workspace, with a note when the
/// gateway's sources (gateway/, shared/) have uncommitted changes.
fn commit() -> String {
    let git = |args: &[&str]| {
        std::process::Command::new("git")
            .args(args)
            .output()
            .ok()
            .filter(|out| out.status.success())
            .and_then(|out| String::from_utf8(out.stdout).ok())
    };
    let Some(head) = git(&["rev-parse", "--short", "HEAD"]) else {
        return "unknown (not a git checkout)".to_owned();
    };
    let root = git(&["rev-parse", "--show-toplevel"]).unwrap_or_default();
    let root = root.trim();
    let (gateway, shared) = (format!("{root}/gateway"), format!("{root}/shared"));
    let dirty = git(&["status", "--porcelain", "--", &gateway, &shared])
        .is_some_and(|status| !status.trim().is_empty());
    let note = if dirty {
        " (with uncommitted changes in gateway/ or shared/)"
    } else {
        ""
    };
    format!("{}{note}", head.trim())
}

/// Cores, CPU model (/proc/cpuinfo), RAM (/proc/meminfo), kernel.
fn machine() -> String {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = field(&cpuinfo, "model name").unwrap_or("unknown CPU");
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let ram_kib: f64 = field(&meminfo, "MemTotal")
        .and_then(|value| value.split_whitespace().next()?.parse().ok())
        .unwrap_or(0.0);
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    format!(
        "nproc {cores}, {model}, {:.1} GiB RAM, Linux {}",
        ram_kib / (1024.0 * 1024.0),
        kernel.trim()
    )
}

/// The value of the first `key : value` line.
fn field<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    text.lines()
        .find(|line| line.starts_with(key))
        .and_then(|line| line.split_once(':'))
        .map(|(_, value)| value.trim())
}

/// The first three fields of /proc/loadavg.
fn load_average() -> String {
    let text = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let fields: Vec<&str> = text.split_whitespace().take(3).collect();
    fields.join(" ")
}

/// UTC date, `YYYY-MM-DD`.
fn today() -> String {
    std::process::Command::new("date")
        .args(["-u", "+%Y-%m-%d"])
        .output()
        .ok()
        .and_then(|out| String::from_utf8(out.stdout).ok())
        .map_or_else(|| "unknown".to_owned(), |date| date.trim().to_owned())
}
