//! The load's final report: registrations, calls, failures by cause in
//! words, RTP loss and jitter; as text and as JSON.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use serde::Serialize;
use shared::media::StreamStats;

use super::LoadArgs;
use super::pair::CallTiming;
use super::party::Kind;
use super::stats::{Latencies, Tally};

/// How the phones (or the apps) registered.
#[derive(Debug, Default)]
pub struct Registrations {
    /// From the first phone's start to the last Register Response.
    pub wall: Duration,
    /// Per phone: its start to its Register Response.
    pub latencies: Latencies,
    /// Per phone: its start to its complete idle screen.
    pub ready: Latencies,
    pub failures: Tally,
}

/// The calls' window: from the first call to the load's end (the calls in
/// progress then complete after it).
#[derive(Debug, Clone, Copy)]
pub struct CallWindow {
    /// Calls done by the end.
    pub completed: usize,
    pub length: Duration,
}

/// Percentiles of a latency, ms; `None` without samples.
#[derive(Debug, Clone, Serialize)]
pub struct Percentiles {
    pub samples: usize,
    pub p50_ms: Option<f64>,
    pub p90_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    pub max_ms: Option<f64>,
}

impl Percentiles {
    fn of(latencies: &Latencies) -> Self {
        let ms = |d: Option<Duration>| d.map(|d| d.as_secs_f64() * 1000.0);
        Self {
            samples: latencies.len(),
            p50_ms: ms(latencies.percentile(50.0)),
            p90_ms: ms(latencies.percentile(90.0)),
            p99_ms: ms(latencies.percentile(99.0)),
            max_ms: ms(latencies.max()),
        }
    }
}

/// The registrations of one kind of party (`phones` counts apps in the
/// apps' report).
#[derive(Debug, Clone, Serialize)]
pub struct RegistrationReport {
    pub phones: usize,
    pub registered: usize,
    /// Registered phones over the time from the first start to the last
    /// Register Response.
    pub per_second: f64,
    /// Start → Register Response.
    pub latency: Percentiles,
    /// Start → complete idle screen (display and keys sent after the
    /// registration).
    pub ready_latency: Percentiles,
    pub failures: BTreeMap<String, usize>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CallReport {
    pub pairs: usize,
    /// Every call completed, the ones in progress at the end included.
    pub completed: usize,
    /// Calls done by the end over the time from the first call to the end.
    pub per_second: f64,
    /// Caller off-hook + digits → the callee's ringer on.
    pub setup: Percentiles,
    /// Callee off-hook → media on both phones.
    pub answer: Percentiles,
    /// Completed calls and their setup latency by who called whom
    /// (`"phone → phone"`, `"app → phone"`, `"phone → app"`).
    pub by_kind: BTreeMap<String, KindCalls>,
    pub failures: BTreeMap<String, usize>,
}

/// The calls of one kind (e.g. app → phone).
#[derive(Debug, Clone, Serialize)]
pub struct KindCalls {
    pub completed: usize,
    pub setup: Percentiles,
    pub answer: Percentiles,
}

#[derive(Debug, Clone, Serialize)]
pub struct RtpReport {
    /// Media streams that ended (one per phone per call).
    pub streams: usize,
    pub packets_sent: u64,
    pub packets_received: u64,
    pub packets_lost: u64,
    /// Lost over expected, 0 to 1.
    pub loss_fraction: f64,
    pub jitter_ms_mean: f64,
    pub jitter_ms_max: f64,
}

/// Everything a load run measured.
#[derive(Debug, Clone, Serialize)]
pub struct LoadReport {
    pub gateway: String,
    pub duration_s: f64,
    /// The HFA phones' registrations.
    pub registrations: RegistrationReport,
    /// The myPortal to go apps' (login and VoIP registration), when the
    /// load had apps.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub apps: Option<RegistrationReport>,
    pub calls: CallReport,
    /// Connections lost while registered, by reason (the phones reconnect).
    pub connection_losses: BTreeMap<String, usize>,
    pub rtp: RtpReport,
}

impl LoadReport {
    #[expect(
        clippy::too_many_arguments,
        reason = "one call site, each a distinct part"
    )]
    pub fn new(
        args: &LoadArgs,
        mut registrations: BTreeMap<Kind, Registrations>,
        pairs: usize,
        window: CallWindow,
        calls: &[CallTiming],
        call_failures: Tally,
        connection_losses: Tally,
        streams: &[StreamStats],
    ) -> Self {
        let of = |calls: &[&CallTiming], field: fn(&CallTiming) -> Duration| {
            Percentiles::of(&Latencies::new(calls.iter().map(|c| field(c)).collect()))
        };
        let all: Vec<&CallTiming> = calls.iter().collect();
        let mut by_kind: BTreeMap<String, Vec<&CallTiming>> = BTreeMap::new();
        for call in calls {
            let (from, to) = call.kind;
            let name = format!("{} → {}", from.name(), to.name());
            by_kind.entry(name).or_default().push(call);
        }
        let phones = registrations.remove(&Kind::Phone).unwrap_or_default();
        Self {
            gateway: args.gateway.clone(),
            duration_s: args.duration.as_secs_f64(),
            registrations: RegistrationReport::of(&phones),
            apps: registrations
                .remove(&Kind::App)
                .map(|apps| RegistrationReport::of(&apps)),
            calls: CallReport {
                pairs,
                completed: calls.len(),
                per_second: rate(window.completed, window.length),
                setup: of(&all, |call| call.setup),
                answer: of(&all, |call| call.answer),
                by_kind: by_kind
                    .into_iter()
                    .map(|(name, calls)| {
                        let kind = KindCalls {
                            completed: calls.len(),
                            setup: of(&calls, |call| call.setup),
                            answer: of(&calls, |call| call.answer),
                        };
                        (name, kind)
                    })
                    .collect(),
                failures: call_failures.counts().clone(),
            },
            connection_losses: connection_losses.counts().clone(),
            rtp: RtpReport::of(streams),
        }
    }

    /// Failures of registrations and calls together.
    pub fn failures(&self) -> usize {
        let registrations: usize = self.registrations.failures.values().sum();
        let apps: usize = self
            .apps
            .iter()
            .flat_map(|apps| apps.failures.values())
            .sum();
        let calls: usize = self.calls.failures.values().sum();
        registrations + apps + calls
    }
}

/// `count` over `wall` per second (0 for no time).
fn rate(count: usize, wall: Duration) -> f64 {
    if wall.is_zero() {
        0.0
    } else {
        count as f64 / wall.as_secs_f64()
    }
}

impl RegistrationReport {
    fn of(registrations: &Registrations) -> Self {
        let registered = registrations.latencies.len();
        Self {
            phones: registered + registrations.failures.total(),
            registered,
            per_second: rate(registered, registrations.wall),
            latency: Percentiles::of(&registrations.latencies),
            ready_latency: Percentiles::of(&registrations.ready),
            failures: registrations.failures.counts().clone(),
        }
    }
}

impl RtpReport {
    fn of(streams: &[StreamStats]) -> Self {
        let sum = |field: fn(&StreamStats) -> u64| streams.iter().map(field).sum::<u64>();
        let (received, lost) = (sum(|s| s.received), sum(|s| s.lost));
        let expected = received + lost;
        let jitters = streams.iter().map(|s| s.jitter_ms);
        Self {
            streams: streams.len(),
            packets_sent: sum(|s| s.sent),
            packets_received: received,
            packets_lost: lost,
            loss_fraction: if expected == 0 {
                0.0
            } else {
                lost as f64 / expected as f64
            },
            jitter_ms_mean: if streams.is_empty() {
                0.0
            } else {
                jitters.clone().sum::<f64>() / streams.len() as f64
            },
            jitter_ms_max: jitters.fold(0.0, f64::max),
        }
    }
}

impl fmt::Display for LoadReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let r = &self.registrations;
        writeln!(
            f,
            "load against {} for {:.0} s",
            self.gateway, self.duration_s
        )?;
        writeln!(
            f,
            "registrations: {}/{} phones, {:.1}/s",
            r.registered, r.phones, r.per_second
        )?;
        writeln!(f, "{}", Row("registration latency", &r.latency))?;
        writeln!(f, "{}", Row("idle screen latency", &r.ready_latency))?;
        failures(f, "registration failures", &r.failures)?;
        if let Some(a) = &self.apps {
            writeln!(
                f,
                "app registrations: {}/{} apps, {:.1}/s",
                a.registered, a.phones, a.per_second
            )?;
            writeln!(f, "{}", Row("app login + VoIP reg.", &a.latency))?;
            writeln!(f, "{}", Row("app event stream open", &a.ready_latency))?;
            failures(f, "app registration failures", &a.failures)?;
        }
        let c = &self.calls;
        writeln!(
            f,
            "calls: {} completed by {} pairs, {:.1}/s",
            c.completed, c.pairs, c.per_second
        )?;
        writeln!(f, "{}", Row("call setup latency", &c.setup))?;
        writeln!(f, "{}", Row("answer latency", &c.answer))?;
        if self.apps.is_some() {
            for (kind, calls) in &c.by_kind {
                writeln!(f, "  {kind}: {} completed", calls.completed)?;
                writeln!(f, "  {}", Row("setup latency", &calls.setup))?;
            }
        }
        failures(f, "call failures", &c.failures)?;
        failures(f, "connection losses", &self.connection_losses)?;
        let m = &self.rtp;
        writeln!(
            f,
            "rtp: {} streams, {} packets sent, {} received, {} lost ({:.3} %), jitter mean {:.2} ms, max {:.2} ms",
            m.streams,
            m.packets_sent,
            m.packets_received,
            m.packets_lost,
            m.loss_fraction * 100.0,
            m.jitter_ms_mean,
            m.jitter_ms_max
        )
    }
}

/// One latency line: `name  p50 … p90 … p99 … max … ms (n samples)`.
struct Row<'a>(&'static str, &'a Percentiles);

impl fmt::Display for Row<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Row(name, p) = self;
        let ms = |v: Option<f64>| v.map_or("-".to_owned(), |v| format!("{v:.1}"));
        write!(
            f,
            "  {name:<22} p50 {} p90 {} p99 {} max {} ms ({} samples)",
            ms(p.p50_ms),
            ms(p.p90_ms),
            ms(p.p99_ms),
            ms(p.max_ms),
            p.samples
        )
    }
}

fn failures(
    f: &mut fmt::Formatter<'_>,
    name: &str,
    counts: &BTreeMap<String, usize>,
) -> fmt::Result {
    let total: usize = counts.values().sum();
    writeln!(f, "{name}: {total}")?;
    for (cause, count) in counts {
        writeln!(f, "  {count}× {cause}")?;
    }
    Ok(())
}
