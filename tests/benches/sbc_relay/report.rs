//! The markdown of the SBC relay benchmark: a column per run (calls ×
//! path), then the verdict against the goals (zero loss, added p99 < 1 ms,
//! calls per core against rtpengine, CPU per packet against the floor).

use crate::common::report::{self as common_report, Table, thousands};
use crate::{Path, Run};
use std::fmt::Write as _;

/// Latency percentiles of one run, sorted once.
struct Latency(Vec<u32>);

impl Latency {
    fn of(run: &Run) -> Self {
        let mut samples = run.outcome.latencies_ns.clone();
        samples.sort_unstable();
        Self(samples)
    }

    /// Nearest-rank percentile, nanoseconds.
    fn percentile(&self, p: f64) -> Option<f64> {
        let rank = ((p / 100.0) * self.0.len() as f64).ceil() as usize;
        self.0
            .get(rank.clamp(1, self.0.len().max(1)) - 1)
            .map(|&ns| f64::from(ns))
    }
}

fn ms(ns: Option<f64>) -> String {
    ns.map_or_else(|| "–".to_owned(), |ns| format!("{:.3}", ns / 1e6))
}

/// `proxy - baseline` of a percentile, ms.
fn added(run: &Latency, base: &Latency, p: f64) -> Option<f64> {
    Some(run.percentile(p)? - base.percentile(p)?)
}

fn name(path: Path) -> &'static str {
    match path {
        Path::Baseline => "baseline",
        Path::Proxy => "our proxy",
        Path::Floor => "floor",
        Path::Rtpengine => "rtpengine",
    }
}

/// Calls per core: calls over the relay's share of a core.
fn calls_per_core(run: &Run) -> Option<f64> {
    let cpu = run.relay_cpu?.as_secs_f64();
    let share = cpu / run.outcome.wall.as_secs_f64().max(1e-9);
    (share > 0.0).then(|| run.calls as f64 / share)
}

/// Relay CPU per relayed packet, µs.
fn cpu_per_packet(run: &Run) -> Option<f64> {
    let cpu = run.relay_cpu?;
    (run.outcome.received > 0).then(|| cpu.as_secs_f64() * 1e6 / run.outcome.received as f64)
}

/// The aim: the proxy's CPU per packet within this factor of the
/// floor's.
const FLOOR_AIM: f64 = 1.15;

fn zero_loss(run: &Run) -> bool {
    run.outcome.lost() == 0
}

pub fn markdown(runs: &[Run], command: &str, workers: usize, rtpengine: Option<&str>) -> String {
    let mut text = common_report::preamble_in_process(command);
    let _ = writeln!(
        text,
        "proxy: `Sbc::start_with_workers(.., {workers})` in the bench process, one channel \
         per call; rtpengine: {}\n",
        rtpengine.map_or_else(
            || "not run".to_owned(),
            |v| format!("{v}, `--table=-1` (userspace), default threads")
        )
    );
    let latencies: Vec<Latency> = runs.iter().map(Latency::of).collect();
    // The baseline of the same call count.
    let base_of = |run: &Run| {
        runs.iter()
            .zip(&latencies)
            .find(|(other, _)| other.path == Path::Baseline && other.calls == run.calls)
            .map(|(_, latency)| latency)
    };
    let indexed: Vec<(usize, &Run)> = runs.iter().enumerate().collect();
    let mut table = Table::new(&indexed, "calls → / path ↓", |(_, run)| {
        format!("{} calls, {}", thousands(run.calls), name(run.path))
    });
    table.add("packets sent (measured, both ways)", |(_, run)| {
        thousands(run.outcome.sent as usize)
    });
    table.add("relayed packets/s", |(_, run)| {
        common_report::rate(run.outcome.received as usize, run.outcome.wall)
    });
    table.add("lost packets (streams with loss)", |(_, run)| {
        format!(
            "{} ({})",
            thousands(run.outcome.lost() as usize),
            run.outcome.lossy_streams
        )
    });
    table.add("one-way latency p50 / p99 / p99.9 / max, ms", |(i, _)| {
        let l = &latencies[*i];
        format!(
            "{} / {} / {} / {}",
            ms(l.percentile(50.0)),
            ms(l.percentile(99.0)),
            ms(l.percentile(99.9)),
            ms(l.percentile(100.0))
        )
    });
    table.add("added latency p50 / p99 / p99.9, ms", |(i, run)| {
        if run.path == Path::Baseline {
            return "–".to_owned();
        }
        let l = &latencies[*i];
        base_of(run).map_or_else(
            || "–".to_owned(),
            |base| {
                format!(
                    "{} / {} / {}",
                    ms(added(l, base, 50.0)),
                    ms(added(l, base, 99.0)),
                    ms(added(l, base, 99.9))
                )
            },
        )
    });
    table.add("relay CPU (share of a core)", |(_, run)| {
        run.relay_cpu.map_or_else(
            || "–".to_owned(),
            |cpu| {
                format!(
                    "{} ({})",
                    common_report::cpu(cpu),
                    common_report::core_share(cpu, run.outcome.wall)
                )
            },
        )
    });
    table.add("relay CPU per packet", |(_, run)| {
        cpu_per_packet(run).map_or_else(|| "–".to_owned(), |us| format!("{us:.2} µs"))
    });
    table.add("calls per core", |(_, run)| {
        calls_per_core(run).map_or_else(|| "–".to_owned(), |c| thousands(c.round() as usize))
    });
    table.add("generator CPU (share of a core)", |(_, run)| {
        format!(
            "{} ({})",
            common_report::cpu(run.generator_cpu),
            common_report::core_share(run.generator_cpu, run.outcome.wall)
        )
    });
    table.add("generator's largest lag behind schedule", |(_, run)| {
        format!("{:.2} ms", run.outcome.max_send_lag.as_secs_f64() * 1e3)
    });
    text.push_str(&table.render());
    let _ = writeln!(text, "\n{}\n", common_report::units_note());
    text.push_str(&verdict(runs, &latencies, &base_of));
    text.push_str(&against_floor(runs));
    text
}

/// Per proxy run: its CPU per packet over that of the floor run after it
/// with the same calls (a repeated call count pairs each with its own),
/// against the aim.
fn against_floor(runs: &[Run]) -> String {
    let mut text = String::new();
    for (index, run) in runs.iter().enumerate() {
        if run.path != Path::Proxy {
            continue;
        }
        let floor = runs
            .iter()
            .skip(index + 1)
            .find(|other| other.path == Path::Floor && other.calls == run.calls);
        let (Some(ours), Some(floor)) = (cpu_per_packet(run), floor.and_then(cpu_per_packet))
        else {
            continue;
        };
        let ratio = ours / floor;
        let _ = writeln!(
            text,
            "- {} calls: CPU per packet, our proxy / floor: {ours:.2} / {floor:.2} µs = {ratio:.2} \
             ({} the {FLOOR_AIM:.2}× aim)",
            thousands(run.calls),
            if ratio <= FLOOR_AIM {
                "within"
            } else {
                "above"
            }
        );
    }
    text
}

/// The largest zero-loss run of each relay, its calls per core and the ratio.
fn verdict<'a>(
    runs: &[Run],
    latencies: &[Latency],
    base_of: &dyn Fn(&Run) -> Option<&'a Latency>,
) -> String {
    let mut text = String::new();
    // The goal: zero loss and added p99 under 1 ms.
    let meets = |run: &Run, latency: &Latency| {
        zero_loss(run)
            && base_of(run)
                .and_then(|base| added(latency, base, 99.0))
                .is_some_and(|p99| p99 < 1e6)
    };
    let best = |path: Path| {
        runs.iter()
            .zip(latencies)
            .filter(|(run, latency)| run.path == path && meets(run, latency))
            .max_by_key(|(run, _)| run.calls)
    };
    let mut per_core = Vec::new();
    for path in [Path::Proxy, Path::Rtpengine] {
        let Some((run, latency)) = best(path) else {
            if runs.iter().any(|run| run.path == path) {
                let _ = writeln!(
                    text,
                    "- {}: no run with zero loss and added p99 under 1 ms",
                    name(path)
                );
            }
            continue;
        };
        let p99 = base_of(run).and_then(|base| added(latency, base, 99.0));
        let cores = calls_per_core(run);
        per_core.push(cores);
        let _ = writeln!(
            text,
            "- {}: largest load with zero loss and added p99 under 1 ms: {} calls \
             (added p99 {} ms), {} calls per core there",
            name(path),
            thousands(run.calls),
            ms(p99),
            cores.map_or_else(|| "–".to_owned(), |c| thousands(c.round() as usize)),
        );
    }
    if let [Some(ours), Some(theirs)] = per_core.as_slice() {
        let _ = writeln!(
            text,
            "- calls per core, our proxy / rtpengine: {:.2}",
            ours / theirs
        );
    }
    text
}
