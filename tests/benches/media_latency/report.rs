//! The result as markdown: the machine, then the mouth-to-ear table (a
//! column per path) with its budget, then the CPU table (a column per
//! codec and N), ready for BENCHMARKS.md.

use std::fmt::Write as _;
use std::time::Duration;

use crate::common::report::{Table, preamble_in_process, thousands, units_note};
use crate::cpu::{CpuRun, GROUPS, Window};
use crate::latency::{FRAME, PathRun, StackFigures};
use crate::spread::Spread;

/// What the latency part measured: per path (column), one run per repeat.
pub struct Latency {
    pub paths: Vec<Vec<PathRun>>,
}

pub fn markdown(command: &str, latency: Option<&Latency>, cpu: &[CpuRun]) -> String {
    let mut text = preamble_in_process(command);
    if let Some(latency) = latency {
        let _ = writeln!(text, "{}", latency_table(latency));
        let _ = writeln!(text, "{}", budget_table(latency));
    }
    if !cpu.is_empty() {
        let _ = writeln!(text, "{}", cpu_table(cpu));
        let _ = writeln!(text, "{}", units_note());
    }
    text
}

/// All clicks of a path's runs.
fn all_delays(runs: &[PathRun]) -> Spread {
    Spread::new(runs.iter().flat_map(|r| r.delays.iter().copied()).collect())
}

/// The median over runs of a figure of each run.
fn median_of(runs: &[PathRun], figure: impl Fn(&PathRun) -> Option<f64>) -> Option<f64> {
    Spread::new(runs.iter().filter_map(figure).collect()).median()
}

/// A figure of each run, comma-separated.
fn each(runs: &[PathRun], decimals: usize, figure: impl Fn(&PathRun) -> Option<f64>) -> String {
    let values: Vec<String> = runs
        .iter()
        .map(|run| figure(run).map_or_else(|| "–".to_owned(), |v| format!("{v:.decimals$}")))
        .collect();
    values.join(", ")
}

fn label(runs: &[PathRun]) -> String {
    runs.first()
        .map_or_else(String::new, |run| run.label.clone())
}

/// The stack's figures of every run, or `–` for the direct paths.
fn stack_cell(runs: &[PathRun], cell: impl Fn(&[&StackFigures]) -> String) -> String {
    let figures: Vec<&StackFigures> = runs.iter().filter_map(|r| r.stack.as_ref()).collect();
    if figures.is_empty() {
        "–".to_owned()
    } else {
        cell(&figures)
    }
}

fn latency_table(latency: &Latency) -> String {
    let paths = &latency.paths;
    let baseline = paths.first().and_then(|runs| all_delays(runs).median());
    let mut rows = Table::new(paths, "path (A plays clicks, B records)", |runs| {
        label(runs)
    });
    rows.add("calls × clicks heard / sent (other sounds)", |runs| {
        let heard: usize = runs.iter().map(|r| r.delays.len()).sum();
        let sent: usize = runs.iter().map(|r| r.clicks_sent).sum();
        let extra: usize = runs.iter().map(|r| r.extra_sounds).sum();
        format!("{} × {heard} / {sent} ({extra})", runs.len())
    });
    rows.add("**mouth to ear**, all clicks, min / p50 / max", |runs| {
        format!("**{}**", all_delays(runs).show(1))
    });
    rows.add("each call's p50, ms", |runs| {
        each(runs, 1, |r| r.spread().median())
    });
    rows.add("**added over the baseline** (p50 − p50)", |runs| {
        match (all_delays(runs).median(), baseline) {
            (Some(value), Some(base)) => format!(
                "**{:+.1} ms** ({:.2}×)",
                value - base,
                value / base.max(1e-9)
            ),
            _ => "–".to_owned(),
        }
    });
    rows.add(
        "device clocks' phase, (B's origin − A's origin) mod 20 ms, each call",
        |runs| each(runs, 1, |r| Some(r.phase_ms())),
    );
    rows.add(
        "whole frames waited beyond capture frame, codec and phase, each call",
        |runs| each(runs, 2, PathRun::frames_waited),
    );
    rows.add(
        "clock threads started after `start` returned (A and B, most off)",
        |runs| {
            let most = runs
                .iter()
                .flat_map(|r| [r.late_start_ms.0, r.late_start_ms.1])
                .fold(
                    0.0_f64,
                    |most, v| if v.abs() > most.abs() { v } else { most },
                );
            format!("{most:+.1} ms")
        },
    );
    rows.add(
        "ticks seen after their deadline (clock wake-up + watcher), latest",
        |runs| {
            let latest = runs
                .iter()
                .flat_map(|r| [r.seen_late_ms.0, r.seen_late_ms.1])
                .fold(0.0_f64, f64::max);
            format!("{latest:.1} ms")
        },
    );
    rows.add("back end restarts", |runs| {
        runs.iter().map(|r| r.restarts).sum::<usize>().to_string()
    });
    rows.add("codec (MediaReport::Started)", |runs| {
        stack_cell(runs, |s| {
            s.first().map_or_else(String::new, |f| f.codec.clone())
        })
    });
    rows.add(
        "B's jitter buffer: playout delay over the fastest path (`playout_delay_ms`), its reports, min / p50 / max",
        |runs| stack_cell(runs, |s| merged(s, |f| &f.playout_delay).show(1)),
    );
    rows.add(
        "B's jitter buffer: target delay (`target_delay_ms`)",
        |runs| stack_cell(runs, |s| merged(s, |f| &f.target_delay).show(1)),
    );
    rows.add(
        "B's own mouth-to-ear estimate for its MOS (`mouth_to_ear_ms`)",
        |runs| stack_cell(runs, |s| merged(s, |f| &f.estimate).show(1)),
    );
    rows.add(
        "B at the end, all calls: received / lost / late / concealed / stretched / dropped",
        |runs| {
            stack_cell(runs, |s| {
                let sum = |value: fn(&StackFigures) -> u64| s.iter().map(|f| value(f)).sum::<u64>();
                format!(
                    "{} / {} / {} / {} / {} / {}",
                    sum(|f| f.last.received),
                    sum(|f| f.last.lost),
                    sum(|f| f.last.late),
                    sum(|f| f.last.concealed),
                    sum(|f| f.last.stretched),
                    sum(|f| f.last.dropped)
                )
            })
        },
    );
    rows.render()
}

/// The samples of one spread of every run's figures, together.
fn merged(figures: &[&StackFigures], spread: impl Fn(&StackFigures) -> &Spread) -> Spread {
    Spread::new(
        figures
            .iter()
            .flat_map(|f| spread(f).values().to_vec())
            .collect(),
    )
}

/// The delay, part by part (medians over the calls), against the measured
/// median; the driver's poll and device waits are what remains.
fn budget_table(latency: &Latency) -> String {
    let frame_ms = FRAME.as_secs_f64() * 1e3;
    let paths = &latency.paths;
    let mut rows = Table::new(paths, "budget, ms (medians over the calls)", |runs| {
        label(runs)
    });
    let codec = |runs: &[PathRun]| runs.first().map_or(0.0, PathRun::codec_ms);
    let jitter = |runs: &[PathRun]| {
        median_of(runs, |r| {
            r.stack.as_ref().and_then(|s| s.playout_delay.median())
        })
    };
    let measured = |runs: &[PathRun]| all_delays(runs).median();
    let known = |runs: &[PathRun]| frame_ms + codec(runs) + jitter(runs).unwrap_or(0.0);
    rows.add(
        "capture frame (a sample waits for the end of its frame)",
        |_| format!("{frame_ms:.0}"),
    );
    rows.add("codec algorithmic delay", |runs| {
        format!("{:.1}", codec(runs))
    });
    rows.add(
        "jitter buffer: B plays a frame this long after its fastest arrival (`playout_delay_ms`; least target `CLEAN_PATH_MIN_DELAY`)",
        |runs| jitter(runs).map_or_else(|| "–".to_owned(), |j| format!("{j:.1}")),
    );
    rows.add(
        "the rest: A's device push → A's send, B's playout → B's device pull (`pacing.rs`), packetisation, loopback",
        |runs| {
            measured(runs).map_or_else(|| "–".to_owned(), |m| format!("{:.1}", m - known(runs)))
        },
    );
    rows.add("**measured mouth to ear**, p50", |runs| {
        measured(runs).map_or_else(|| "–".to_owned(), |m| format!("**{m:.1}**"))
    });
    rows.render()
}

fn cpu_table(runs: &[CpuRun]) -> String {
    let mut rows = Table::new(runs, "calls (2 × N phones in this process)", |r| {
        format!("{} × {}", r.offered, thousands(r.calls))
    });
    rows.add("calls with media on both phones", |r| {
        format!("{} of {}", r.calls_up, r.calls)
    });
    rows.add("codec the gateway chose (phones' Started reports)", |r| {
        r.negotiated.to_string()
    });
    rows.add(
        "process CPU, 2 × N phones idle (registered, no call)",
        |r| share(r.idle.process, r.idle.period),
    );
    rows.add("process CPU, N calls", |r| {
        share(r.busy.process, r.busy.period)
    });
    rows.add("**CPU per active call** ((calls − idle) ÷ N)", |r| {
        format!("**{}**", per_call(r, |w| w.process))
    });
    for (prefix, label) in GROUPS {
        rows.add(&format!("of which {label}, per call"), move |r| {
            per_call(r, |w| w.groups.get(prefix).copied().unwrap_or_default())
        });
    }
    rows.add("packets received / sent by the peers", |r| {
        let m = &r.media;
        format!(
            "{} / {} ({:.2} %)",
            thousands(m.received as usize),
            thousands(m.sent as usize),
            100.0 * m.received as f64 / (m.sent as f64).max(1.0)
        )
    });
    rows.add("lost / late / concealed frames (all phones)", |r| {
        let m = &r.media;
        format!("{} / {} / {}", m.lost, m.late, m.concealed)
    });
    rows.add(
        "playout delay at the end: largest; phones above 100 ms",
        |r| {
            format!(
                "{:.1} ms; {}",
                r.media.max_playout_delay_ms, r.media.over_100_ms
            )
        },
    );
    rows.add("window (idle / calls)", |r| {
        format!(
            "{:.1} s / {:.1} s",
            r.idle.period.as_secs_f64(),
            r.busy.period.as_secs_f64()
        )
    });
    rows.render()
}

/// `used` in `period` as % of one core, with the CPU seconds.
fn share(used: Duration, period: Duration) -> String {
    format!(
        "{:.2} % ({:.2} s)",
        100.0 * used.as_secs_f64() / period.as_secs_f64().max(1e-9),
        used.as_secs_f64()
    )
}

/// (busy share − idle share) ÷ N, % of one core.
fn per_call(run: &CpuRun, cpu: impl Fn(&Window) -> Duration) -> String {
    let rate = |w: &Window| cpu(w).as_secs_f64() / w.period.as_secs_f64().max(1e-9);
    let per_call = 100.0 * (rate(&run.busy) - rate(&run.idle)) / run.calls.max(1) as f64;
    format!("{per_call:.3} %")
}
