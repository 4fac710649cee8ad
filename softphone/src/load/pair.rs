//! One caller/callee pair making calls back to back until the window ends
//! (for a phone; an app does the same through its API, see
//! [`Party`]):
//!
//! ```text
//! caller: off-hook + the callee's digits ──► callee: ringer on        (setup)
//! callee: off-hook                       ──► both: media started     (answer)
//!                                            the call held for [`Pace::hold`]
//! caller: on-hook                        ──► callee: "Call ended", busy tone (release)
//! callee: on-hook                        ──► both: idle screen again (cycle ends)
//! ```
//!
//! A pair of a phone and an app takes turns: app → phone, then phone →
//! app.
//!
//! Every step waits on the phones' models with a deadline; a step that does
//! not happen in time is an anomaly: both phones hang up, wait to be idle
//! again and go on with the next call (the pair gives up only if they do
//! not get back to idle either). With a call rate, each call first takes
//! a ticket from [`Pace::tickets`], which a ticker fills at that rate.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;

use super::party::{Kind, Party};
use super::stats::Tally;

/// How a pair paces its calls.
#[derive(Debug, Clone, Default)]
pub struct Pace {
    /// How long a call stays connected (zero: hung up at once).
    pub hold: Duration,
    /// One permit per call to place; `None`: back to back.
    pub tickets: Option<Arc<Semaphore>>,
    /// Counts for a live progress line.
    pub progress: Arc<CallCounts>,
}

/// Calls completed and given up so far, over all pairs.
#[derive(Debug, Default)]
pub struct CallCounts {
    pub completed: AtomicUsize,
    pub failed: AtomicUsize,
}

/// One completed call, as the pair saw it.
#[derive(Debug, Clone, Copy)]
pub struct CallTiming {
    /// Caller off-hook + digits sent → the callee's ringer on.
    pub setup: Duration,
    /// Callee off-hook sent → media started on both phones.
    pub answer: Duration,
    /// Caller on-hook sent → the callee shows "Call ended" with busy tone.
    pub release: Duration,
    /// Caller off-hook → both phones idle again.
    pub cycle: Duration,
    /// When both were idle again.
    pub done: Instant,
    /// Who called whom.
    pub kind: (Kind, Kind),
}

/// What one pair did.
#[derive(Debug)]
pub struct PairOutcome {
    pub calls: Vec<CallTiming>,
    /// Calls given up, by the step that did not happen.
    pub stuck: Tally,
    /// The phones did not get back to idle after an anomaly: the pair
    /// stopped early.
    pub gave_up: bool,
    pub caller: Party,
    pub callee: Party,
}

/// Makes calls from `caller` to `callee` as long as `end` has not passed;
/// the call in progress at `end` is completed.
pub async fn run(
    mut caller: Party,
    mut callee: Party,
    end: Instant,
    patience: Duration,
    pace: Pace,
) -> PairOutcome {
    let (mut calls, mut stuck, mut gave_up) = (Vec::new(), Tally::default(), false);
    while Instant::now() < end {
        if let Some(tickets) = &pace.tickets {
            let ticket = tokio::time::timeout_at(end.into(), tickets.acquire()).await;
            match ticket {
                Ok(Ok(permit)) => permit.forget(),
                _ => break,
            }
        }
        // A phone and an app take turns calling each other.
        let turn = caller.kind() != callee.kind() && calls.len() % 2 == 1;
        let (from, to) = if turn {
            (&mut callee, &mut caller)
        } else {
            (&mut caller, &mut callee)
        };
        match call(from, to, patience, pace.hold).await {
            Ok(timing) => {
                calls.push(timing);
                pace.progress.completed.fetch_add(1, Ordering::Relaxed);
            }
            Err(step) => {
                pace.progress.failed.fetch_add(1, Ordering::Relaxed);
                stuck.add(step.to_string());
                if !hang_up(&mut caller, &mut callee, patience).await {
                    gave_up = true;
                    break;
                }
            }
        }
    }
    PairOutcome {
        calls,
        stuck,
        gave_up,
        caller,
        callee,
    }
}

/// The step of a call that did not happen in time (the tally's words).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
enum Stuck {
    /// The callee did not ring.
    #[error("setup: no ringer at the callee")]
    NoRinger,
    /// No media at the callee once it answered.
    #[error("answer: no media at the callee")]
    NoMediaAtCallee,
    /// No media at the caller once the callee answered.
    #[error("answer: no media at the caller")]
    NoMediaAtCaller,
    /// The callee phone did not show the caller hang up.
    #[error("release: no \"Call ended\" with busy tone at the callee")]
    NoCallEnded,
    /// The callee app's line did not end when the caller hung up.
    #[error("release: the callee app's line not ended")]
    AppLineNotEnded,
    /// The callee did not get back to idle.
    #[error("release: the callee not idle after on-hook")]
    CalleeNotIdle,
    /// The caller did not get back to idle.
    #[error("release: the caller not idle after on-hook")]
    CallerNotIdle,
}

/// One call; the step that did not happen within `patience` if any.
async fn call(
    caller: &mut Party,
    callee: &mut Party,
    patience: Duration,
    hold: Duration,
) -> Result<CallTiming, Stuck> {
    let begin = Instant::now();
    callee.mark();
    let digits = callee.number().to_owned();
    caller.dial(&digits);
    let ringing = callee
        .until_ringing(begin + patience)
        .await
        .ok_or(Stuck::NoRinger)?;

    let answered = Instant::now();
    caller.mark();
    callee.answer();
    callee
        .until_media(answered + patience)
        .await
        .ok_or(Stuck::NoMediaAtCallee)?;
    let media = caller
        .until_media(answered + patience)
        .await
        .ok_or(Stuck::NoMediaAtCaller)?;
    if !hold.is_zero() {
        // The call's length is the load's parameter, not a wait for an event.
        tokio::time::sleep(hold).await;
    }

    let hung_up = Instant::now();
    callee.mark();
    caller.hang_up();
    let ended = callee
        .until_ended_shown(hung_up + patience)
        .await
        .ok_or(match callee.kind() {
            Kind::Phone => Stuck::NoCallEnded,
            Kind::App => Stuck::AppLineNotEnded,
        })?;

    callee.put_down();
    let back = ended + patience;
    callee.until_idle(back).await.ok_or(Stuck::CalleeNotIdle)?;
    let done = caller.until_idle(back).await.ok_or(Stuck::CallerNotIdle)?;
    Ok(CallTiming {
        setup: ringing - begin,
        answer: media - answered,
        release: ended - hung_up,
        cycle: done - begin,
        done,
        kind: (caller.kind(), callee.kind()),
    })
}

/// After an anomaly: both parties end what is going on; whether both are
/// idle again in time.
async fn hang_up(caller: &mut Party, callee: &mut Party, patience: Duration) -> bool {
    for party in [&mut *caller, &mut *callee] {
        party.abandon();
    }
    let deadline = Instant::now() + patience;
    caller.until_idle(deadline).await.is_some() && callee.until_idle(deadline).await.is_some()
}
