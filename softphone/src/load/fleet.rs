//! The registration storm: N phones, each the softphone's own driver
//! ([`HfaClient`]: one tokio task around the sans-IO `PhoneEngine`),
//! started at once on this process's runtime, then kept registered with
//! the default timers (Alive Request every 15 s).
//!
//! A small watcher task per phone turns its events into timestamped
//! observations on one channel, which the caller reads.

use std::time::{Duration, Instant};

use shared::hfa_engine::phone::{PhoneEvent, PhoneState, PhoneTimers};
use tokio::sync::mpsc;
use tokio::task::JoinSet;

use super::stats::{Latencies, Tally};
use crate::hfa::{HfaAccount, HfaClient};

/// The registration storm, as the phones saw it.
#[derive(Debug)]
pub struct StormOutcome {
    pub phones: usize,
    /// Phones registered at least once.
    pub registered: usize,
    /// From the first phone's start to the last phone's first Registered.
    pub wall: Duration,
    /// Per phone, its start to its first Registered.
    pub latencies: Latencies,
    pub declined: Tally,
    pub lost: Tally,
}

/// The keepalive period after the storm.
#[derive(Debug, Default)]
pub struct AliveOutcome {
    pub lost: Tally,
    pub declined: Tally,
    /// Registrations after a lost connection.
    pub reregistered: usize,
}

/// The running phones.
#[derive(Debug)]
pub struct Fleet {
    clients: Vec<HfaClient>,
    started: Vec<Instant>,
    storm_start: Instant,
    observations: mpsc::UnboundedReceiver<Observation>,
}

#[derive(Debug)]
struct Observation {
    phone: usize,
    at: Instant,
    seen: Seen,
}

#[derive(Debug)]
enum Seen {
    Registered,
    Declined(String),
    Lost(String),
}

impl Fleet {
    /// Starts one client per account, all at once. Call it on the tokio
    /// runtime.
    pub fn start(accounts: Vec<HfaAccount>) -> Self {
        let (sink, observations) = mpsc::unbounded_channel();
        let mut clients = Vec::with_capacity(accounts.len());
        let mut started = Vec::with_capacity(accounts.len());
        let storm_start = Instant::now();
        for (phone, account) in accounts.into_iter().enumerate() {
            started.push(Instant::now());
            let (client, events) = HfaClient::spawn(account, PhoneTimers::default());
            tokio::spawn(watch(phone, events, sink.clone()));
            clients.push(client);
        }
        Self {
            clients,
            started,
            storm_start,
            observations,
        }
    }

    /// Waits until every phone has registered (or been declined), at most
    /// `patience` from the start.
    pub async fn until_registered(&mut self, patience: Duration) -> StormOutcome {
        let phones = self.clients.len();
        let mut latency: Vec<Option<Duration>> = vec![None; phones];
        let (mut registered, mut declined, mut lost) = (0, Tally::default(), Tally::default());
        let mut last = self.storm_start;
        let deadline = self.storm_start + patience;
        while registered + declined.total() < phones {
            let Some(observation) = self.next_before(deadline).await else {
                break;
            };
            let phone = observation.phone;
            match observation.seen {
                Seen::Registered => {
                    if let Some(slot) = latency.get_mut(phone).filter(|slot| slot.is_none()) {
                        *slot = Some(observation.at - self.started[phone]);
                        registered += 1;
                        last = last.max(observation.at);
                    }
                }
                Seen::Declined(cause) => declined.add(cause),
                Seen::Lost(why) => lost.add(why),
            }
        }
        StormOutcome {
            phones,
            registered,
            wall: last - self.storm_start,
            latencies: Latencies::new(latency.into_iter().flatten().collect()),
            declined,
            lost,
        }
    }

    /// Lets the phones keep alive for `period`, counting what goes wrong.
    pub async fn keep_alive(&mut self, period: Duration) -> AliveOutcome {
        let mut outcome = AliveOutcome::default();
        let end = Instant::now() + period;
        while let Some(observation) = self.next_before(end).await {
            match observation.seen {
                Seen::Registered => outcome.reregistered += 1,
                Seen::Declined(cause) => outcome.declined.add(cause),
                Seen::Lost(why) => outcome.lost.add(why),
            }
        }
        // All watchers gone before the end would mean all phones stopped.
        tokio::time::sleep_until(end.into()).await;
        outcome
    }

    /// Stops every phone (each closes its connection) and waits for them.
    pub async fn stop(self) {
        let mut stopping = JoinSet::new();
        for client in self.clients {
            stopping.spawn(client.stop());
        }
        while stopping.join_next().await.is_some() {}
    }

    async fn next_before(&mut self, deadline: Instant) -> Option<Observation> {
        tokio::time::timeout_at(deadline.into(), self.observations.recv())
            .await
            .ok()
            .flatten()
    }
}

/// Forwards what the bench counts of one phone's events, with the time.
async fn watch(
    phone: usize,
    mut events: mpsc::UnboundedReceiver<PhoneEvent>,
    sink: mpsc::UnboundedSender<Observation>,
) {
    while let Some(event) = events.recv().await {
        let seen = match event {
            PhoneEvent::Registered { .. } => Seen::Registered,
            PhoneEvent::StateChanged(PhoneState::Declined { cause }) => {
                Seen::Declined(cause.describe().to_owned())
            }
            PhoneEvent::ConnectionLost(loss) => Seen::Lost(loss.to_string()),
            _ => continue,
        };
        let at = Instant::now();
        if sink.send(Observation { phone, at, seen }).is_err() {
            return;
        }
    }
}
