//! The result as markdown: the machine, then one table with a column per N,
//! ready for BENCHMARKS.md.

use std::path::Path;

use crate::common::procfs::TcpCounters;
use crate::common::report::{
    Table, cpu, mib, percentiles, preamble, rate, seconds, thousands, units_note,
};
use crate::run::{EchoRun, Run};

/// The whole section: command, machine, date, table.
pub fn markdown(runs: &[Run], command: &str, gateway: &Path) -> String {
    format!(
        "{}{}\n{}",
        preamble(command, gateway),
        table(runs),
        units_note()
    )
}

fn table(runs: &[Run]) -> String {
    let mut rows = Table::new(runs, "N phones", |run| thousands(run.phones));
    hfa_rows(&mut rows);
    let baselines = runs.first().map_or(0, |run| run.echo.len());
    for index in 0..baselines {
        baseline_rows(&mut rows, index);
    }
    gateway_rows(&mut rows);
    rows.render()
}

/// The registration storm, as the phones saw it.
fn hfa_rows(rows: &mut Table<'_, Run>) {
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
fn baseline_rows(rows: &mut Table<'_, Run>, index: usize) {
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
fn gateway_rows(rows: &mut Table<'_, Run>) {
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
