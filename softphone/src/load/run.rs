//! One load run: phones, then apps, started at the registration rate, each
//! waiting until it is ready (a phone's idle screen, an app's event
//! stream); the ready ones paired up (each app with a phone first) and
//! calling until the duration ends; every party stopped and its media
//! figures collected.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use super::LoadArgs;
use super::app::App;
use super::apps;
use super::pair::{self, CallCounts, CallTiming, Pace};
use super::party::{Kind, Party};
use super::phone::Phone;
use super::report::{CallWindow, LoadReport, Registrations};
use super::stats::{Latencies, Tally};
use crate::hfa::{GatewayAddress, HfaAccount};
use crate::portal::settings::{PortalSettings, SettingsError};
use crate::portal::trust::TrustError;

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
    #[error("--portal {value:?}: expected the gateway's myPortal to go HTTPS address, HOST:PORT")]
    Portal { value: String },
    #[error("app {number:?}: {error}")]
    App {
        number: String,
        error: SettingsError,
    },
    #[error("the apps' certificate trust: {0}")]
    Trust(TrustError),
    #[error("no accounts: give --numbers with --passwords, or --accounts")]
    NoAccounts,
    #[error("--{option} {value}: expected a finite rate >= 0 per second")]
    Rate { option: &'static str, value: f64 },
    #[error(
        "{parties} phones and apps need {needed} open files, the limit is {limit}: raise the hard \
         limit (e.g. `ulimit -Hn {needed}` as root, or in /etc/security/limits.conf)"
    )]
    FileLimit {
        parties: usize,
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
    let app_accounts = args.app_accounts()?;
    let sources = args.sources()?;
    let app_settings = apps::settings(args, app_accounts, &sources, accounts.len())?;
    for (option, value) in [
        ("register-rate", args.register_rate),
        ("call-rate", args.call_rate),
    ] {
        if !value.is_finite() || value < 0.0 {
            return Err(LoadError::Rate { option, value });
        }
    }
    raise_file_limit(accounts.len(), app_settings.len(), !args.no_media)?;
    let progress = Arc::new(Progress::default());
    let begin = Instant::now();
    let end = begin + args.duration;
    let total = accounts.len() + app_settings.len();
    let printer = tokio::spawn(print_progress(Arc::clone(&progress), total, begin));

    let starts = accounts
        .into_iter()
        .map(Start::Phone)
        .chain(app_settings.into_iter().map(Start::App));
    let (parties, registrations) = register(args, starts, &progress, end).await;
    let (mut idle, pairs_to_run) = pair_up(parties);
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
        // The parties keep their registrations alive until the end.
        tokio::time::sleep_until(end.into()).await;
        idle.extend(pairs_to_run.into_iter().flat_map(|(a, b)| [a, b]));
    } else {
        for (caller, callee) in pairs_to_run {
            pairs.spawn(pair::run(caller, callee, end, args.patience, pace.clone()));
        }
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
                for party in [outcome.caller, outcome.callee] {
                    lost.merge(party.lost());
                    stopping.spawn(party.stop());
                }
            }
            Err(panic) => failures.add(format!("pair task failed: {panic}")),
        }
    }
    // Calls per second as the call benchmark counts them: those done by
    // the end, over the window from the first call to the end.
    let window = CallWindow {
        completed: timings.iter().filter(|call| call.done <= end).count(),
        length: end.saturating_duration_since(calls_begin),
    };
    for mut party in idle {
        party.catch_up();
        lost.merge(party.lost());
        stopping.spawn(party.stop());
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
        window,
        &timings,
        failures,
        lost,
        &streams,
    ))
}

/// Files beyond the phones' sockets (runtime, stdio, the JSON report).
const SPARE_FILES: u64 = 256;

/// Sockets per app: its API connections (requests and the event stream),
/// RTP and RTCP (an app always binds them).
const FILES_PER_APP: u64 = 4;

/// One socket per phone, three with media (TCP, RTP, RTCP), and
/// [`FILES_PER_APP`] per app: raises the soft open-file limit as far as
/// needed, up to the hard one.
fn raise_file_limit(phones: usize, apps: usize, media: bool) -> Result<(), LoadError> {
    let per_phone = if media { 3 } else { 1 };
    let needed = phones as u64 * per_phone + apps as u64 * FILES_PER_APP + SPARE_FILES;
    let limit = rlimit::increase_nofile_limit(needed).map_err(LoadError::RaiseLimit)?;
    if limit < needed {
        return Err(LoadError::FileLimit {
            parties: phones + apps,
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

/// A party to start.
enum Start {
    Phone(HfaAccount),
    App(PortalSettings),
}

/// Starts the parties at the registration rate and waits for each to be
/// ready (at most `patience` after its start, and not after `end`); every
/// party, with whether it is ready; the registrations by kind.
///
/// Timed as the storm benchmark times ([`super::fleet`]): each party from
/// just before its client starts to its registration's answer (a phone's
/// Register Response, an app's VoIP registration), the rate over the time
/// from the kind's first start to its last registration; readiness that
/// follows (the phone's idle screen, the app's event stream) is timed
/// apart.
async fn register(
    args: &LoadArgs,
    starts: impl Iterator<Item = Start>,
    progress: &Arc<Progress>,
    end: Instant,
) -> (Vec<(Party, bool)>, BTreeMap<Kind, Registrations>) {
    let begin = Instant::now();
    let mut waiting = Vec::new();
    let mut tallies: BTreeMap<Kind, Tally> = BTreeMap::new();
    let mut first_start: BTreeMap<Kind, Instant> = BTreeMap::new();
    for (index, start) in starts.enumerate() {
        if args.register_rate > 0.0 {
            let due = begin + Duration::from_secs_f64(index as f64 / args.register_rate);
            tokio::time::sleep_until(due.min(end).into()).await;
        }
        let started = Instant::now();
        let (kind, party) = match start {
            Start::Phone(account) if args.no_media => {
                (Kind::Phone, Ok(Party::Phone(Phone::start(account, None))))
            }
            Start::Phone(account) => (
                Kind::Phone,
                Phone::start_with_media(account, None)
                    .await
                    .map(Party::Phone),
            ),
            Start::App(settings) => (Kind::App, App::start(settings).await.map(Party::App)),
        };
        first_start.entry(kind).or_insert(started);
        let party = match party {
            Ok(party) => party,
            Err(error) => {
                let why = format!("cannot bind the RTP sockets: {error}");
                tracing::warn!("{} {why}", kind.name());
                tallies.entry(kind).or_default().add(why);
                progress.not_registered.fetch_add(1, Ordering::Relaxed);
                continue;
            }
        };
        let progress = Arc::clone(progress);
        let deadline = (started + args.patience).min(end.max(started));
        waiting.push(tokio::spawn(async move {
            let mut party = party;
            let ready = match &mut party {
                Party::Phone(phone) => phone.until_ready(deadline).await,
                Party::App(app) => app.until_ready(deadline).await,
            };
            let counter = match ready {
                Ok(_) => &progress.registered,
                Err(_) => &progress.not_registered,
            };
            counter.fetch_add(1, Ordering::Relaxed);
            let at_ready = Instant::now();
            let timed = ready.map(|registered| Times {
                registered: registered - started,
                ready: at_ready - started,
                registered_at: registered,
            });
            (party, timed)
        }));
    }
    let mut parties = Vec::new();
    let mut times: BTreeMap<Kind, Vec<Times>> = BTreeMap::new();
    for task in waiting {
        let Ok((party, timed)) = task.await else {
            tallies.entry(Kind::Phone).or_default().add("task failed");
            continue;
        };
        match timed {
            Ok(timed) => {
                times.entry(party.kind()).or_default().push(timed);
                parties.push((party, true));
            }
            Err(why) => {
                tallies
                    .entry(party.kind())
                    .or_default()
                    .add(why.to_string());
                parties.push((party, false));
            }
        }
    }
    let registrations = first_start
        .into_iter()
        .map(|(kind, first)| {
            let times = times.remove(&kind).unwrap_or_default();
            let last = times.iter().map(|t| t.registered_at).max().unwrap_or(first);
            let registrations = Registrations {
                wall: last - first,
                latencies: Latencies::new(times.iter().map(|t| t.registered).collect()),
                ready: Latencies::new(times.iter().map(|t| t.ready).collect()),
                failures: tallies.remove(&kind).unwrap_or_default(),
            };
            (kind, registrations)
        })
        .collect();
    (parties, registrations)
}

/// One party's registration, from just before its client started.
struct Times {
    /// To its registration's answer.
    registered: Duration,
    /// To being ready for calls.
    ready: Duration,
    registered_at: Instant,
}

/// The parties that are not ready, and the pairs of ready ones: each app
/// with a phone, then phone with phone, then app with app.
fn pair_up(parties: Vec<(Party, bool)>) -> (Vec<Party>, Vec<(Party, Party)>) {
    let (mut phones, mut apps, mut idle) = (Vec::new(), Vec::new(), Vec::new());
    for (party, ready) in parties {
        match (ready, party.kind()) {
            (false, _) => idle.push(party),
            (true, Kind::Phone) => phones.push(party),
            (true, Kind::App) => apps.push(party),
        }
    }
    let mut pairs = Vec::new();
    let mixed = phones.len().min(apps.len());
    let mut phones = phones.into_iter();
    let mut apps = apps.into_iter();
    for (phone, app) in phones.by_ref().zip(apps.by_ref()).take(mixed) {
        pairs.push((app, phone));
    }
    for mut rest in [phones, apps] {
        while let Some(caller) = rest.next() {
            match rest.next() {
                Some(callee) => pairs.push((caller, callee)),
                None => idle.push(caller),
            }
        }
    }
    (idle, pairs)
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
