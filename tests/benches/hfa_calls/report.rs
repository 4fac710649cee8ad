//! The result as markdown: the machine, then one table with a column per P,
//! ready for BENCHMARKS.md.

use std::path::Path;
use std::time::Duration;

use crate::common::report::{
    Table, core_share, cpu, mib, per_second, percentiles, preamble, rate, seconds, thousands,
    units_note,
};
use crate::run::{Run, Window};

/// The whole section: command, machine, date, table.
pub fn markdown(runs: &[Run], command: &str, gateway: &Path) -> String {
    let mut rows = Table::new(runs, "P pairs (2 × P phones)", |run| thousands(run.pairs));
    call_rows(&mut rows);
    baseline_rows(&mut rows);
    ratio_rows(&mut rows);
    gateway_rows(&mut rows);
    format!(
        "{}{}\n{}",
        preamble(command, gateway),
        rows.render(),
        units_note()
    )
}

fn call_rows(rows: &mut Table<'_, Run>) {
    rows.add("pairs making calls", |r| {
        format!(
            "{} of {}",
            thousands(r.calls.pairs_running),
            thousands(r.pairs)
        )
    });
    rows.add("**calls completed** in the window", |r| {
        let window = r.calls.window.period.as_secs();
        format!("**{}** in {window} s", thousands(r.calls.completed))
    });
    rows.add("**calls / s**", |r| {
        format!("**{}**", rate(r.calls.completed, r.calls.window.period))
    });
    rows.add(
        "**setup latency** (caller off-hook + digits → callee ringer), p50 / p99 / max",
        |r| format!("**{}**", percentiles(&r.calls.setup)),
    );
    rows.add(
        "answer latency (callee off-hook → media on both), p50 / p99 / max",
        |r| percentiles(&r.calls.answer),
    );
    rows.add(
        "release latency (caller on-hook → callee \"Call ended\" + busy tone), p50 / p99 / max",
        |r| percentiles(&r.calls.release),
    );
    rows.add(
        "whole call (caller off-hook → both idle again), p50 / p99 / max",
        |r| percentiles(&r.calls.cycle),
    );
    rows.add(
        "anomalies (a step not done within the patience) / pairs given up",
        |r| format!("{} / {}", r.calls.stuck, r.calls.pairs_given_up),
    );
    rows.add("connection losses / registration failures", |r| {
        format!(
            "{} / {}",
            r.calls.connection_losses, r.calls.registration_failures
        )
    });
    rows.add(
        "HFA messages per call: phones → gateway / gateway → phones",
        |r| {
            let calls = r.calls.completed_all.max(1) as f64;
            format!(
                "{:.1} / {:.1}",
                r.calls.sent as f64 / calls,
                r.calls.received as f64 / calls
            )
        },
    );
    rows.add("**gateway CPU per 1,000 calls**", |r| {
        format!("**{}**", per_thousand(r.calls.window, r.calls.completed))
    });
    rows.add("gateway CPU in the call window (% of one core)", |r| {
        window_cpu(r.calls.window, r.calls.window.gateway_cpu)
    });
    rows.add(
        "load generator (phones) CPU in the call window (% of one core)",
        |r| window_cpu(r.calls.window, r.calls.window.generator_cpu),
    );
}

fn baseline_rows(rows: &mut Table<'_, Run>) {
    rows.add("baseline: phones pinging", |r| {
        let b = &r.baseline;
        let pinging = b.phones - b.registration_failures.total();
        format!("{} of {}", thousands(pinging), thousands(b.phones))
    });
    rows.add("**baseline: Alive round trips / s**", |r| {
        let b = &r.baseline;
        format!("**{}**", rate(b.round_trips, b.window.period))
    });
    rows.add("baseline: round-trip time p50 / p99 / max", |r| {
        percentiles(&r.baseline.latencies)
    });
    rows.add("baseline: failures / registration failures", |r| {
        let b = &r.baseline;
        format!("{} / {}", b.failures, b.registration_failures)
    });
    rows.add("baseline: gateway CPU per 1,000 round trips", |r| {
        per_thousand(r.baseline.window, r.baseline.round_trips)
    });
    rows.add("baseline: gateway CPU in the window (% of one core)", |r| {
        window_cpu(r.baseline.window, r.baseline.window.gateway_cpu)
    });
    rows.add(
        "baseline: load generator CPU in the window (% of one core)",
        |r| window_cpu(r.baseline.window, r.baseline.window.generator_cpu),
    );
}

/// What a call costs in round trips of the baseline.
fn ratio_rows(rows: &mut Table<'_, Run>) {
    rows.add(
        "**round trips per call, by throughput** (round trips/s ÷ calls/s)",
        |r| {
            let trips = per_second(r.baseline.round_trips, r.baseline.window.period);
            let calls = per_second(r.calls.completed, r.calls.window.period);
            format!("**{:.1}**", trips / calls.max(1e-9))
        },
    );
    rows.add(
        "**round trips per call, by gateway CPU** (CPU per call ÷ CPU per round trip)",
        |r| {
            let call = cpu_per(r.calls.window, r.calls.completed);
            let trip = cpu_per(r.baseline.window, r.baseline.round_trips);
            format!("**{:.1}**", call / trip.max(1e-12))
        },
    );
    rows.add(
        "gateway CPU per HFA message in + out: calls / baseline",
        |r| {
            let calls = &r.calls;
            let per_call = (calls.sent + calls.received) as f64 / calls.completed_all.max(1) as f64;
            let call = cpu_per(calls.window, calls.completed) / per_call.max(1e-9);
            let trip = cpu_per(r.baseline.window, r.baseline.round_trips) / 2.0;
            format!("{:.1} / {:.1} µs", call * 1e6, trip * 1e6)
        },
    );
}

fn gateway_rows(rows: &mut Table<'_, Run>) {
    rows.add("gateway start-up (spawn → listening)", |r| {
        seconds(r.startup)
    });
    rows.add("gateway RSS, all phones registered and idle", |r| {
        mib(r.rss_registered_kib)
    });
    rows.add("**gateway peak RSS**", |r| {
        format!("**{}**", mib(r.peak_rss_kib))
    });
    rows.add("gateway log lines (RUST_LOG=warn)", |r| {
        r.log_lines.to_string()
    });
}

/// Gateway CPU seconds per `count` events in `window`, per second.
fn cpu_per(window: Window, count: usize) -> f64 {
    window.gateway_cpu.as_secs_f64() / count.max(1) as f64
}

/// Gateway CPU per 1,000 of `count` events in `window`.
fn per_thousand(window: Window, count: usize) -> String {
    let seconds = cpu_per(window, count) * 1000.0;
    if seconds < 0.1 {
        format!("{:.1} ms", seconds * 1e3)
    } else {
        format!("{seconds:.3} s")
    }
}

/// `used` in `window`, and as a share of one core.
fn window_cpu(window: Window, used: Duration) -> String {
    format!(
        "{} in {} s ({})",
        cpu(used),
        window.period.as_secs(),
        core_share(used, window.period)
    )
}
