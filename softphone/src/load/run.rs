//! One load run: phones started at the registration rate, each waiting for
//! its idle screen; the registered ones paired up and calling until the
//! duration ends; every phone stopped and its media figures collected.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use super::LoadArgs;
use super::pair::{self, CallCounts, CallTiming, Pace};
use super::phone::Phone;
use super::report::{LoadReport, Registrations};
use super::stats::{Latencies, Tally};
use crate::hfa::{GatewayAddress, HfaAccount};

/// Why the load could not start.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error(transparent)]
    Accounts(#[from] super::accounts::AccountsError),
    #[error("--gateway {value:?}: {error}")]
    Gateway {
        value: String,
        error: crate::hfa::AccountError,
    },
    #[error("account {number:?}: {error}")]
    Account {
        number: String,
        error: crate::hfa::AccountError,
    },
    #[error("no accounts: give --numbers with --passwords, or --accounts")]
    NoAccounts,
    #[error("--{option} {value}: expected a finite rate >= 0 per second")]
    Rate { option: &'static str, value: f64 },
    #[error(
        "{phones} phones need {needed} open files, the limit is {limit}: raise the hard limit \
         (e.g. `ulimit -Hn {needed}` as root, or in /etc/security/limits.conf)"
    )]
    FileLimit {
        phones: usize,
        needed: u64,
        limit: u64,
    },
    #[error("cannot raise the open-file limit: {0}")]
    RaiseLimit(std::io::Error),
}

/// Counts for the progress line, shared with the phones' tasks.
#[derive(Debug, Default)]
struct Progress {
    registered: AtomicUsize,
    not_registered: AtomicUsize,
    calls: Arc<CallCounts>,
}

/// Runs the load `args` describe; prints a progress line on stderr every
/// second.
pub async fn run(args: &LoadArgs) -> Result<LoadReport, LoadError> {
    let accounts = hfa_accounts(args)?;
    for (option, value) in [
        ("register-rate", args.register_rate),
        ("call-rate", args.call_rate),
    ] {
        if !value.is_finite() || value < 0.0 {
            return Err(LoadError::Rate { option, value });
        }
    }
    raise_file_limit(accounts.len(), !args.no_media)?;
    let progress = Arc::new(Progress::default());
    let begin = Instant::now();
    let end = begin + args.duration;
    let printer = tokio::spawn(print_progress(Arc::clone(&progress), accounts.len(), begin));

    let (phones, registrations) = register(args, accounts, &progress, end).await;
    let mut ready = Vec::new();
    let mut idle = Vec::new();
    for (phone, ok) in phones {
        if ok {
            ready.push(phone)
        } else {
            idle.push(phone)
        }
    }
    if ready.len() % 2 == 1 {
        idle.extend(ready.pop());
    }
    let tickets = (args.call_rate > 0.0 && !args.no_calls).then(|| Arc::new(Semaphore::new(0)));
    let ticker = tickets
        .clone()
        .map(|tickets| tokio::spawn(issue_tickets(tickets, args.call_rate, end)));
    let pace = Pace {
        hold: args.hold,
        tickets,
        progress: Arc::clone(&progress.calls),
    };
    let calls_begin = Instant::now();
    let mut pairs = JoinSet::new();
    if args.no_calls {
        // The phones keep their registrations alive until the end.
        tokio::time::sleep_until(end.into()).await;
        idle.append(&mut ready);
    }
    let mut phones = ready.into_iter();
    while let (Some(caller), Some(callee)) = (phones.next(), phones.next()) {
        pairs.spawn(pair::run(caller, callee, end, args.patience, pace.clone()));
    }
    let pair_count = pairs.len();
    let (mut timings, mut failures, mut lost) =
        (Vec::<CallTiming>::new(), Tally::default(), Tally::default());
    let mut stopping = JoinSet::new();
    while let Some(result) = pairs.join_next().await {
        match result {
            Ok(outcome) => {
                timings.extend(&outcome.calls);
                failures.merge(&outcome.stuck);
                for phone in [outcome.caller, outcome.callee] {
                    lost.merge(&phone.lost);
                    stopping.spawn(phone.stop());
                }
            }
            Err(panic) => failures.add(format!("pair task failed: {panic}")),
        }
    }
    let calls_end = Instant::now();
    for mut phone in idle {
        phone.catch_up();
        lost.merge(&phone.lost);
        stopping.spawn(phone.stop());
    }
    let mut streams = Vec::new();
    while let Some(result) = stopping.join_next().await {
        streams.extend(result.unwrap_or_default());
    }
    if let Some(ticker) = ticker {
        ticker.abort();
    }
    printer.abort();
    eprintln!();
    Ok(LoadReport::new(
        args,
        registrations,
        pair_count,
        calls_end - calls_begin,
        &timings,
        failures,
        lost,
        &streams,
    ))
}

/// Files beyond the phones' sockets (runtime, stdio, the JSON report).
const SPARE_FILES: u64 = 256;

/// One socket per phone, three with media (TCP, RTP, RTCP): raises the
/// soft open-file limit as far as needed, up to the hard one.
fn raise_file_limit(phones: usize, media: bool) -> Result<(), LoadError> {
    let per_phone = if media { 3 } else { 1 };
    let needed = phones as u64 * per_phone + SPARE_FILES;
    let limit = rlimit::increase_nofile_limit(needed).map_err(LoadError::RaiseLimit)?;
    if limit < needed {
        return Err(LoadError::FileLimit {
            phones,
            needed,
            limit,
        });
    }
    Ok(())
}

/// The accounts as the softphone's HFA accounts, each with its source
/// address in turn.
fn hfa_accounts(args: &LoadArgs) -> Result<Vec<HfaAccount>, LoadError> {
    let gateway = GatewayAddress::parse(&args.gateway).map_err(|error| LoadError::Gateway {
        value: args.gateway.clone(),
        error,
    })?;
    let accounts = args.accounts()?;
    if accounts.is_empty() {
        return Err(LoadError::NoAccounts);
    }
    let sources = args.sources()?;
    accounts
        .into_iter()
        .enumerate()
        .map(|(index, account)| {
            let mut hfa = HfaAccount::new(gateway.clone(), &account.number, account.password)
                .map_err(|error| LoadError::Account {
                    number: account.number.clone(),
                    error,
                })?;
            if !sources.is_empty() {
                hfa.bind_address = Some(sources[index % sources.len()]);
            }
            Ok(hfa)
        })
        .collect()
}

/// Starts the phones at the registration rate and waits for each to be
/// registered and idle (at most `patience` after its start, and not after
/// `end`); every phone, with whether it is ready.
async fn register(
    args: &LoadArgs,
    accounts: Vec<HfaAccount>,
    progress: &Arc<Progress>,
    end: Instant,
) -> (Vec<(Phone, bool)>, Registrations) {
    let begin = Instant::now();
    let mut waiting = Vec::with_capacity(accounts.len());
    let mut failures = Tally::default();
    for (index, account) in accounts.into_iter().enumerate() {
        if args.register_rate > 0.0 {
            let due = begin + Duration::from_secs_f64(index as f64 / args.register_rate);
            tokio::time::sleep_until(due.min(end).into()).await;
        }
        let number = account.number.to_string();
        let phone = if args.no_media {
            Ok(Phone::start(account, None))
        } else {
            Phone::start_with_media(account, None).await
        };
        let mut phone = match phone {
            Ok(phone) => phone,
            Err(error) => {
                failures.add(format!("cannot bind the RTP sockets: {error}"));
                progress.not_registered.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(number, "cannot bind the RTP sockets: {error}");
                continue;
            }
        };
        let progress = Arc::clone(progress);
        let deadline = (Instant::now() + args.patience).min(end.max(Instant::now()));
        waiting.push(tokio::spawn(async move {
            let started = Instant::now();
            let ready = phone.until_ready(deadline).await;
            let counter = match ready {
                Ok(()) => &progress.registered,
                Err(_) => &progress.not_registered,
            };
            counter.fetch_add(1, Ordering::Relaxed);
            let done = Instant::now();
            (phone, ready.map(|()| (done - started, done)))
        }));
    }
    let (mut phones, mut latencies, mut last) = (Vec::new(), Vec::new(), begin);
    for task in waiting {
        let Ok((phone, ready)) = task.await else {
            failures.add("phone task failed");
            continue;
        };
        match ready {
            Ok((latency, done)) => {
                latencies.push(latency);
                last = last.max(done);
                phones.push((phone, true));
            }
            Err(why) => {
                failures.add(why);
                phones.push((phone, false));
            }
        }
    }
    let registrations = Registrations {
        wall: last - begin,
        latencies: Latencies::new(latencies),
        failures,
    };
    (phones, registrations)
}

/// One call ticket every 1/`rate` s until `end`.
async fn issue_tickets(tickets: Arc<Semaphore>, rate: f64, end: Instant) {
    let mut interval = tokio::time::interval(Duration::from_secs_f64(1.0 / rate));
    while Instant::now() < end {
        interval.tick().await;
        tickets.add_permits(1);
    }
}

/// Once a second on stderr, on one line: registrations and calls so far.
async fn print_progress(progress: Arc<Progress>, phones: usize, begin: Instant) {
    let mut interval = tokio::time::interval(Duration::from_secs(1));
    interval.tick().await;
    loop {
        interval.tick().await;
        eprint!(
            "\r{:>4} s  registered {}/{phones} ({} failed)  calls {} completed, {} failed   ",
            begin.elapsed().as_secs(),
            progress.registered.load(Ordering::Relaxed),
            progress.not_registered.load(Ordering::Relaxed),
            progress.calls.completed.load(Ordering::Relaxed),
            progress.calls.failed.load(Ordering::Relaxed),
        );
    }
}
