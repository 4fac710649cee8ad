//! The result as markdown: the machine, then one table with a column per N,
//! ready for BENCHMARKS.md.

use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use crate::procfs::{self, TcpCounters};
use crate::run::{EchoRun, Run};
use crate::stats::Latencies;

/// The whole section: command, machine, date, table.
pub fn markdown(runs: &[Run], command: &str, gateway: &Path) -> String {
    let mut text = String::new();
    let _ = writeln!(text, "command: `{command}`  ");
    let _ = writeln!(text, "gateway: `{}`  ", gateway.display());
    let _ = writeln!(text, "machine: {}  ", machine());
    let _ = writeln!(text, "date: {}  ", today());
    let _ = writeln!(
        text,
        "load average at the end (1, 5, 15 min; the machine may be shared): {}\n",
        load_average()
    );
    text.push_str(&table(runs));
    let _ = writeln!(
        text,
        "\nCPU times are utime + stime from /proc/PID/stat (CLK_TCK = {}); \
         RSS is VmRSS / VmHWM from /proc/PID/status; 1 MiB = 1,048,576 bytes.",
        procfs::clock_ticks()
    );
    text
}

fn table(runs: &[Run]) -> String {
    let mut rows = Rows::new(runs);
    hfa_rows(&mut rows);
    let baselines = runs.first().map_or(0, |run| run.echo.len());
    for index in 0..baselines {
        baseline_rows(&mut rows, index);
    }
    gateway_rows(&mut rows);
    rows.render()
}

/// The registration storm, as the phones saw it.
fn hfa_rows(rows: &mut Rows<'_>) {
    rows.add("phones registered", |r| {
        let storm = &r.hfa.storm;
        format!(
            "{} of {}",
            thousands(storm.registered),
            thousands(storm.phones)
        )
    });
    rows.add("**storm wall time** (start → last Registered)", |r| {
        format!("**{}**", seconds(r.hfa.storm.wall))
    });
    rows.add("**registrations / s**", |r| {
        format!("**{}**", rate(r.hfa.storm.registered, r.hfa.storm.wall))
    });
    rows.add("latency start → Registered, p50 / p99 / max", |r| {
        percentiles(&r.hfa.storm.latencies)
    });
    rows.add("declines / connection losses in the storm", |r| {
        format!("{} / {}", r.hfa.storm.declined, r.hfa.storm.lost)
    });
    rows.add(
        "listen-queue overflows / SYN retransmits in the storm",
        |r| tcp(r.hfa.storm_tcp),
    );
}

/// Baseline `index`: plain connect + echo, and the HFA storm's ratio to it.
fn baseline_rows(rows: &mut Rows<'_>, index: usize) {
    let Some(backlog) = rows
        .runs
        .first()
        .and_then(|r| r.echo.get(index))
        .map(|e| e.backlog)
    else {
        return;
    };
    let name = format!("baseline, backlog {backlog}");
    rows.add(
        &format!("{name}: connect + 14-byte echo, wall time"),
        move |r| on_echo(r, index, |e| seconds(e.outcome.wall)),
    );
    rows.add(&format!("{name}: connections / s"), move |r| {
        on_echo(r, index, |e| rate(e.outcome.completed, e.outcome.wall))
    });
    rows.add(&format!("{name}: latency p50 / p99 / max"), move |r| {
        on_echo(r, index, |e| percentiles(&e.outcome.latencies))
    });
    rows.add(&format!("{name}: round trips done / failures"), move |r| {
        on_echo(r, index, |e| {
            let (done, all) = (e.outcome.completed, e.outcome.connections);
            format!(
                "{} of {} / {}",
                thousands(done),
                thousands(all),
                e.outcome.failed
            )
        })
    });
    rows.add(
        &format!("{name}: listen-queue overflows / SYN retransmits"),
        move |r| on_echo(r, index, |e| tcp(e.tcp)),
    );
    rows.add(&format!("{name}: echo server peak RSS / CPU"), move |r| {
        on_echo(r, index, |e| {
            format!("{} / {}", mib(e.server_peak_rss_kib), cpu(e.server_cpu))
        })
    });
    rows.add(&format!("**HFA storm ÷ {name}** (wall time)"), move |r| {
        on_echo(r, index, |e| {
            let ratio = r.hfa.storm.wall.as_secs_f64() / e.outcome.wall.as_secs_f64().max(1e-9);
            format!("**{ratio:.1}×**")
        })
    });
}

/// The gateway process: start-up, memory, CPU, and the keepalive period.
fn gateway_rows(rows: &mut Rows<'_>) {
    rows.add(
        "gateway start-up with N clients (spawn → listening)",
        |r| seconds(r.hfa.startup),
    );
    rows.add("gateway RSS after start-up", |r| mib(r.hfa.idle.rss_kib));
    rows.add("**gateway peak RSS** after the storm", |r| {
        format!("**{}**", mib(r.hfa.after_storm.peak_rss_kib))
    });
    rows.add("gateway peak RSS after the keepalives", |r| {
        mib(r.hfa.after_alive.peak_rss_kib)
    });
    rows.add("**gateway CPU** in the storm", |r| {
        let used = r.hfa.after_storm.cpu.saturating_sub(r.hfa.idle.cpu);
        format!("**{}**", cpu(used))
    });
    rows.add("load generator (phones) CPU in the storm", |r| {
        cpu(r.hfa.generator_storm_cpu)
    });
    rows.add("gateway CPU in the keepalive period (% of one core)", |r| {
        let used = r.hfa.after_alive.cpu.saturating_sub(r.hfa.after_storm.cpu);
        let period = r.hfa.alive_period;
        let share = 100.0 * used.as_secs_f64() / period.as_secs_f64().max(1e-9);
        format!("{} in {} s ({share:.2} %)", cpu(used), period.as_secs())
    });
    rows.add(
        "connection losses / declines / re-registrations in it",
        |r| {
            let alive = &r.hfa.alive;
            let again = alive.reregistered;
            format!("{} / {} / {again}", alive.lost, alive.declined)
        },
    );
    rows.add("gateway log lines (RUST_LOG=warn)", |r| {
        r.hfa.log_lines.to_string()
    });
}

/// A table with a column per run.
struct Rows<'a> {
    runs: &'a [Run],
    rows: Vec<(String, Vec<String>)>,
}

impl<'a> Rows<'a> {
    fn new(runs: &'a [Run]) -> Self {
        Self {
            runs,
            rows: Vec::new(),
        }
    }

    fn add(&mut self, label: &str, cell: impl Fn(&Run) -> String) {
        let cells = self.runs.iter().map(cell).collect();
        self.rows.push((label.to_owned(), cells));
    }

    fn render(&self) -> String {
        let mut text = String::from("| N phones |");
        for run in self.runs {
            let _ = write!(text, " {} |", thousands(run.phones));
        }
        text.push_str("\n|---|");
        text.push_str(&"---:|".repeat(self.runs.len()));
        text.push('\n');
        for (label, cells) in &self.rows {
            let _ = writeln!(text, "| {label} | {} |", cells.join(" | "));
        }
        text
    }
}

/// `cell` of baseline `index` of run `r`; empty if it has none.
fn on_echo(r: &Run, index: usize, cell: impl Fn(&EchoRun) -> String) -> String {
    r.echo.get(index).map_or_else(String::new, cell)
}

fn tcp(counters: TcpCounters) -> String {
    format!(
        "{} / {}",
        counters.listen_overflows, counters.syn_retransmits
    )
}

fn percentiles(latencies: &Latencies) -> String {
    let ms = |value: Option<Duration>| {
        value.map_or_else(
            || "–".to_owned(),
            |d| format!("{:.0}", d.as_secs_f64() * 1e3),
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
fn seconds(duration: Duration) -> String {
    format!("{:.3} s", duration.as_secs_f64())
}

/// CPU times: /proc counts clock ticks (10 ms at CLK_TCK = 100).
fn cpu(duration: Duration) -> String {
    format!("{:.2} s", duration.as_secs_f64())
}

fn rate(count: usize, wall: Duration) -> String {
    let per_second = count as f64 / wall.as_secs_f64().max(1e-9);
    thousands(per_second.round() as usize)
}

fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

/// 10000 → `10,000`.
fn thousands(value: usize) -> String {
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
