//! One caller/callee pair making calls back to back until the window ends:
//!
//! ```text
//! caller: off-hook + the callee's digits ──► callee: ringer on        (setup)
//! callee: off-hook                       ──► both: media started     (answer)
//! caller: on-hook                        ──► callee: "Call ended", busy tone (release)
//! callee: on-hook                        ──► both: idle screen again (cycle ends)
//! ```
//!
//! Every step waits on the phones' models with a deadline; a step that does
//! not happen in time is an anomaly: both phones hang up, wait to be idle
//! again and go on with the next call (the pair gives up only if they do
//! not get back to idle either).

use std::time::{Duration, Instant};

use softphone::hfa::Hook;

use crate::common::stats::Tally;
use crate::phone::{Phone, call_ended};

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
    pub caller: Phone,
    pub callee: Phone,
}

/// Makes calls from `caller` to `callee` as long as `end` has not passed;
/// the call in progress at `end` is completed.
pub async fn run(
    mut caller: Phone,
    mut callee: Phone,
    end: Instant,
    patience: Duration,
) -> PairOutcome {
    let (mut calls, mut stuck, mut gave_up) = (Vec::new(), Tally::default(), false);
    while Instant::now() < end {
        match call(&mut caller, &mut callee, patience).await {
            Ok(timing) => calls.push(timing),
            Err(step) => {
                stuck.add(step);
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

/// One call; the step that did not happen within `patience` if any.
async fn call(
    caller: &mut Phone,
    callee: &mut Phone,
    patience: Duration,
) -> Result<CallTiming, &'static str> {
    let begin = Instant::now();
    caller.press("h");
    let digits = callee.number.clone();
    caller.press(&digits);
    let ringing = callee
        .until(begin + patience, |m| m.ringer())
        .await
        .ok_or("setup: no ringer at the callee")?;

    let answered = Instant::now();
    callee.press("h");
    let has_media = |m: &softphone::hfa::PhoneModel| m.media().is_some();
    callee
        .until(answered + patience, has_media)
        .await
        .ok_or("answer: no media at the callee")?;
    let media = caller
        .until(answered + patience, has_media)
        .await
        .ok_or("answer: no media at the caller")?;

    let hung_up = Instant::now();
    caller.press("u");
    let ended = callee
        .until(hung_up + patience, call_ended)
        .await
        .ok_or("release: no \"Call ended\" with busy tone at the callee")?;

    callee.press("u");
    let back = ended + patience;
    callee
        .until_idle(back)
        .await
        .ok_or("release: the callee not idle after on-hook")?;
    let done = caller
        .until_idle(back)
        .await
        .ok_or("release: the caller not idle after on-hook")?;
    Ok(CallTiming {
        setup: ringing - begin,
        answer: media - answered,
        release: ended - hung_up,
        cycle: done - begin,
        done,
    })
}

/// After an anomaly: both phones on-hook; whether both are idle again in
/// time.
async fn hang_up(caller: &mut Phone, callee: &mut Phone, patience: Duration) -> bool {
    for phone in [&mut *caller, &mut *callee] {
        if phone.model.hook() == Hook::OffHook {
            phone.press("u");
        }
    }
    let deadline = Instant::now() + patience;
    caller.until_idle(deadline).await.is_some() && callee.until_idle(deadline).await.is_some()
}
