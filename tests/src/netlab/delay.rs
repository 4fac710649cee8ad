//! The impaired internet: a consumer of a router's NFQUEUE that holds each
//! packet leaving the router's WAN port for a delay plus jitter and drops a
//! share of them, on a seeded generator (the kernel here has no `netem`).
//! Packets whose extra delays differ by more than their spacing leave out
//! of order, as over a real jittery path.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::LabError;
use super::netns::enter;
use super::nfqueue::{Queue, QueueError, Verdict};
use crate::impair::Impairment;

/// The queue number every lab router uses (queues are per namespace).
pub const QUEUE: u16 = 0;

/// How often a waiting delayer looks at its stop flag.
const STOP_CHECK: Duration = Duration::from_millis(50);

/// What a delayer did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DelayStats {
    /// Packets let through after their delay.
    pub passed: u64,
    /// Packets dropped.
    pub dropped: u64,
}

impl DelayStats {
    /// The share of packets dropped.
    pub fn loss(&self) -> f64 {
        let total = self.passed + self.dropped;
        if total == 0 {
            0.0
        } else {
            self.dropped as f64 / total as f64
        }
    }
}

/// Serves `queue` until `stop` is set; then lets every held packet go.
pub fn serve(
    queue: &mut Queue,
    impairment: Impairment,
    stop: &AtomicBool,
) -> Result<DelayStats, QueueError> {
    let mut rng = StdRng::seed_from_u64(impairment.seed);
    let mut held: BinaryHeap<Reverse<(Instant, u32)>> = BinaryHeap::new();
    let mut stats = DelayStats::default();
    while !stop.load(Ordering::Relaxed) {
        let now = Instant::now();
        while let Some(&Reverse((due, id))) = held.peek() {
            if due > now {
                break;
            }
            held.pop();
            queue.verdict(id, Verdict::Accept)?;
            stats.passed += 1;
        }
        let wait = held
            .peek()
            .map_or(STOP_CHECK, |Reverse((due, _))| {
                due.saturating_duration_since(now)
            })
            .min(STOP_CHECK);
        // Round up: a wait of 0.4 ms must not become a busy poll of 0 ms.
        let wait = Duration::from_millis(wait.as_micros().div_ceil(1000) as u64);
        for id in queue.receive(wait)? {
            // Both draws happen for every packet, as in the in-process
            // relay (`impair.rs`): the n-th packet's fate depends on the
            // seed alone.
            let lost = rng.random_bool(impairment.loss);
            let extra = impairment.jitter.mul_f64(rng.random::<f64>());
            if lost {
                queue.verdict(id, Verdict::Drop)?;
                stats.dropped += 1;
            } else {
                held.push(Reverse((Instant::now() + impairment.delay + extra, id)));
            }
        }
    }
    for Reverse((_, id)) in held.drain() {
        queue.verdict(id, Verdict::Accept)?;
        stats.passed += 1;
    }
    Ok(stats)
}

/// A delayer on a thread of this process inside a router's namespace.
pub struct Delayer {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<Result<DelayStats, QueueError>>>,
}

impl Delayer {
    /// Binds [`QUEUE`] in `ns` and starts serving it; returns once bound.
    pub fn start(ns: &str, impairment: Impairment) -> Result<Self, LabError> {
        let stop = Arc::new(AtomicBool::new(false));
        let (bound_tx, bound_rx) = std::sync::mpsc::channel();
        let name = ns.to_owned();
        let flag = stop.clone();
        let thread = std::thread::Builder::new()
            .name(format!("delayer {ns}"))
            .spawn(move || {
                let queue = enter(&name).and_then(|()| {
                    Queue::bind(QUEUE).map_err(|error| LabError::Delayer {
                        ns: name.clone(),
                        reason: error.to_string(),
                    })
                });
                match queue {
                    Ok(mut queue) => {
                        let _ = bound_tx.send(Ok(()));
                        serve(&mut queue, impairment, &flag)
                    }
                    Err(error) => {
                        let _ = bound_tx.send(Err(error));
                        Ok(DelayStats::default())
                    }
                }
            })
            .map_err(|error| LabError::Delayer {
                ns: ns.to_owned(),
                reason: error.to_string(),
            })?;
        match bound_rx.recv() {
            Ok(Ok(())) => Ok(Self {
                stop,
                thread: Some(thread),
            }),
            Ok(Err(error)) => Err(error),
            Err(_) => Err(LabError::Delayer {
                ns: ns.to_owned(),
                reason: "its thread ended before binding the queue".into(),
            }),
        }
    }

    /// Stops serving; what it did.
    pub fn stop(mut self) -> Result<DelayStats, LabError> {
        self.finish()
    }

    fn finish(&mut self) -> Result<DelayStats, LabError> {
        self.stop.store(true, Ordering::Relaxed);
        let Some(thread) = self.thread.take() else {
            return Ok(DelayStats::default());
        };
        match thread.join() {
            Ok(result) => result.map_err(|error| LabError::Delayer {
                ns: String::new(),
                reason: error.to_string(),
            }),
            Err(_) => Err(LabError::Delayer {
                ns: String::new(),
                reason: "its thread panicked".into(),
            }),
        }
    }
}

impl Drop for Delayer {
    fn drop(&mut self) {
        let _ = self.finish();
    }
}
