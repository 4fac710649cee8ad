//! One run for P pairs: a gateway child with 2 × P HFA clients; first the
//! baseline (the phones on raw connections, pinging), then the call phase
//! (the phones as softphone clients, calling), each a timed window with the
//! gateway's and this process's CPU sampled from /proc at its start and end.
//!
//! The baseline goes first: every call leaves stale deadlines in call
//! control (inter-digit, no answer) that fire up to 30 s later and would
//! be billed to a baseline run after it.

use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::bail;
use tokio::runtime::Runtime;
use tokio::task::{JoinError, JoinSet};

use crate::args::Args;
use crate::baseline::{self, PingOutcome};
use crate::common::gateway::GatewayChild;
use crate::common::office::{self, Phone as Configured};
use crate::common::procfs::{self, Process, Usage};
use crate::common::stats::{Latencies, Tally};
use softphone::load::pair::{self, CallTiming, Pace, PairOutcome};
use softphone::load::party::Party;
use softphone::load::phone::Phone;

/// Everything measured for one P.
#[derive(Debug)]
pub struct Run {
    pub pairs: usize,
    /// Gateway spawn to its `listening:` line.
    pub startup: Duration,
    pub baseline: BaselineRun,
    pub calls: CallsRun,
    /// Gateway RSS with the 2 × P softphones registered and idle.
    pub rss_registered_kib: u64,
    /// Gateway peak RSS at the end of the run.
    pub peak_rss_kib: u64,
    /// Lines the gateway logged (RUST_LOG=warn).
    pub log_lines: usize,
}

/// CPU used in a timed window.
#[derive(Debug, Clone, Copy)]
pub struct Window {
    pub period: Duration,
    pub gateway_cpu: Duration,
    pub generator_cpu: Duration,
}

#[derive(Debug)]
pub struct BaselineRun {
    pub phones: usize,
    pub registration_failures: Tally,
    pub window: Window,
    /// Round trips completed within the window.
    pub round_trips: usize,
    pub latencies: Latencies,
    pub failures: Tally,
}

#[derive(Debug)]
pub struct CallsRun {
    /// Pairs whose phones both registered (and so made calls).
    pub pairs_running: usize,
    pub registration_failures: Tally,
    pub window: Window,
    /// Calls completed within the window.
    pub completed: usize,
    /// Calls completed, including those that ended after the window.
    pub completed_all: usize,
    pub setup: Latencies,
    pub answer: Latencies,
    pub release: Latencies,
    pub cycle: Latencies,
    /// Calls given up, by step.
    pub stuck: Tally,
    pub pairs_given_up: usize,
    pub connection_losses: Tally,
    /// Messages phones → gateway and gateway → phones in the whole phase.
    pub sent: u64,
    pub received: u64,
}

pub fn run(runtime: &Runtime, binary: &Path, pairs: usize, args: &Args) -> anyhow::Result<Run> {
    let phones = office::phones(2 * pairs);
    let gateway = GatewayChild::start(binary, &phones, "hfa_calls")?;
    let address = gateway.hfa_address()?;
    eprintln!(
        "{pairs} pairs: baseline, {} s of Alive round trips",
        args.baseline_secs
    );
    let baseline = runtime.block_on(baseline_phase(address, &phones, &gateway, args))?;
    eprintln!("{pairs} pairs: {} s of calls", args.secs);
    let (calls, registered) = runtime.block_on(calls_phase(address, &phones, &gateway, args))?;
    let end = gateway.usage()?;
    let startup = gateway.startup();
    let log_lines = gateway.stop()?;
    Ok(Run {
        pairs,
        startup,
        baseline,
        calls,
        rss_registered_kib: registered.rss_kib,
        peak_rss_kib: end.peak_rss_kib,
        log_lines,
    })
}

async fn baseline_phase(
    address: SocketAddr,
    phones: &[Configured],
    gateway: &GatewayChild,
    args: &Args,
) -> anyhow::Result<BaselineRun> {
    let patience = args.patience();
    let registering = phones.iter().cloned().map(|phone| {
        tokio::spawn(async move { baseline::register(address, &phone, patience).await })
    });
    let mut raw = Vec::new();
    let mut registration_failures = Tally::default();
    for result in in_order(registering.collect()).await {
        match result {
            Ok(Ok(phone)) => raw.push(phone),
            Ok(Err(why)) => registration_failures.add(why),
            Err(panic) => registration_failures.add(format!("task failed: {panic}")),
        }
    }
    if raw.is_empty() {
        bail!("no baseline phone registered: {registration_failures}");
    }
    let (window, end, results) = timed(gateway, args.baseline_period(), |end, tasks| {
        for phone in raw {
            tasks.spawn(baseline::ping(phone, end, patience));
        }
    })
    .await?;
    let (mut in_window, mut latencies, mut failures) = (0, Vec::new(), Tally::default());
    for result in results {
        let outcome: PingOutcome = match result {
            Ok(outcome) => outcome,
            Err(panic) => {
                failures.add(format!("task failed: {panic}"));
                continue;
            }
        };
        in_window += outcome
            .round_trips
            .iter()
            .filter(|(at, _)| *at <= end)
            .count();
        latencies.extend(outcome.round_trips.iter().map(|(_, rtt)| *rtt));
        if let Some(why) = outcome.failure {
            failures.add(why);
        }
    }
    // The raw connections closed as their tasks ended.
    Ok(BaselineRun {
        phones: phones.len(),
        registration_failures,
        window,
        round_trips: in_window,
        latencies: Latencies::new(latencies),
        failures,
    })
}

/// The call phase; also the gateway's usage with every phone registered
/// and idle, before the first call.
async fn calls_phase(
    address: SocketAddr,
    phones: &[Configured],
    gateway: &GatewayChild,
    args: &Args,
) -> anyhow::Result<(CallsRun, Usage)> {
    let patience = args.patience();
    let ready_by = Instant::now() + patience;
    let mut starting = Vec::with_capacity(phones.len());
    for phone in phones {
        let mut phone = Phone::start(phone.account(address)?, Some(phone.idle_label()));
        starting.push(tokio::spawn(async move {
            let ready = phone.until_ready(ready_by).await;
            (phone, ready)
        }));
    }
    let mut started = Vec::with_capacity(phones.len());
    for result in in_order(starting).await {
        started.push(result?);
    }
    let registered = gateway.usage()?;
    let mut registration_failures = Tally::default();
    let mut pairs = Vec::new();
    let mut unpaired = Vec::new();
    let mut phones = started.into_iter();
    while let (Some((caller, caller_ok)), Some((callee, callee_ok))) =
        (phones.next(), phones.next())
    {
        for ready in [&caller_ok, &callee_ok] {
            if let Err(why) = ready {
                registration_failures.add(why.to_string());
            }
        }
        if caller_ok.is_ok() && callee_ok.is_ok() {
            pairs.push((caller, callee));
        } else {
            unpaired.extend([caller, callee]);
        }
    }
    if pairs.is_empty() {
        bail!("no pair registered: {registration_failures}");
    }
    let pairs_running = pairs.len();
    for (caller, callee) in &mut pairs {
        for phone in [caller, callee] {
            (phone.sent, phone.received) = (0, 0);
        }
    }
    let (window, end, results) = timed(gateway, args.calls_period(), |end, tasks| {
        for (caller, callee) in pairs {
            let (caller, callee) = (Party::Phone(caller), Party::Phone(callee));
            tasks.spawn(pair::run(caller, callee, end, patience, Pace::default()));
        }
    })
    .await?;
    let mut run = CallsRun {
        pairs_running,
        registration_failures,
        window,
        completed: 0,
        completed_all: 0,
        setup: Latencies::default(),
        answer: Latencies::default(),
        release: Latencies::default(),
        cycle: Latencies::default(),
        stuck: Tally::default(),
        pairs_given_up: 0,
        connection_losses: Tally::default(),
        sent: 0,
        received: 0,
    };
    let mut timings: Vec<CallTiming> = Vec::new();
    let mut stopping = JoinSet::new();
    for result in results {
        let outcome: PairOutcome = match result {
            Ok(outcome) => outcome,
            Err(panic) => {
                run.stuck.add(format!("pair task failed: {panic}"));
                continue;
            }
        };
        timings.extend(&outcome.calls);
        run.stuck.merge(&outcome.stuck);
        run.pairs_given_up += usize::from(outcome.gave_up);
        for party in [outcome.caller, outcome.callee] {
            let Party::Phone(phone) = party else {
                continue;
            };
            run.sent += phone.sent;
            run.received += phone.received;
            run.connection_losses.merge(&phone.lost);
            stopping.spawn(phone.stop());
        }
    }
    for phone in unpaired {
        stopping.spawn(phone.stop());
    }
    while stopping.join_next().await.is_some() {}
    run.completed = timings.iter().filter(|call| call.done <= end).count();
    run.completed_all = timings.len();
    let of =
        |field: fn(&CallTiming) -> Duration| Latencies::new(timings.iter().map(field).collect());
    run.setup = of(|call| call.setup);
    run.answer = of(|call| call.answer);
    run.release = of(|call| call.release);
    run.cycle = of(|call| call.cycle);
    Ok((run, registered))
}

/// Runs the tasks `spawn` starts for a window of `period` from now, and
/// samples the gateway's and this process's CPU at the window's start and
/// end; returns the window, its end, and every task's result.
async fn timed<T: Send + 'static>(
    gateway: &GatewayChild,
    period: Duration,
    spawn: impl FnOnce(Instant, &mut JoinSet<T>),
) -> anyhow::Result<(Window, Instant, Vec<Result<T, JoinError>>)> {
    let (gateway_before, generator_before) = (gateway.usage()?, procfs::usage(Process::Current)?);
    let end = Instant::now() + period;
    let mut tasks = JoinSet::new();
    spawn(end, &mut tasks);
    tokio::time::sleep_until(end.into()).await;
    let (gateway_after, generator_after) = (gateway.usage()?, procfs::usage(Process::Current)?);
    let mut results = Vec::with_capacity(tasks.len());
    while let Some(result) = tasks.join_next().await {
        results.push(result);
    }
    let window = Window {
        period,
        gateway_cpu: gateway_after.cpu.saturating_sub(gateway_before.cpu),
        generator_cpu: generator_after.cpu.saturating_sub(generator_before.cpu),
    };
    Ok((window, end, results))
}

/// The results of tasks already running, in the order given.
async fn in_order<T>(tasks: Vec<tokio::task::JoinHandle<T>>) -> Vec<Result<T, JoinError>> {
    let mut results = Vec::with_capacity(tasks.len());
    for task in tasks {
        results.push(task.await);
    }
    results
}
