//! The decisions of the headless `portal call` and `portal answer`
//! commands, without I/O: fed with the agent's events and the time, it
//! says which command to send and when the command is done. The plan and
//! outcome are the HFA commands' own ([`Plan`], [`Outcome`]).
//!
//! The gateway's call view says everything: `connected` is connected,
//! `ended` carries the reason ("Busy", "Not allowed").

use std::collections::VecDeque;
use std::time::Instant;

use shared::portal::{CallState, CallView};

use super::agent::{AgentCommand, AgentEvent};
use super::client::CallRequest;
use super::selection::{ServerFailure, Status};
use crate::hfa::call_flow::{Outcome, Plan};

/// What the driver does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    Send(AgentCommand),
    /// Stop the agent and exit with this outcome.
    Finish(Outcome),
    /// The registration was refused: exit as refused, with the status text.
    Refused(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Waiting for the registration (call) or a ringing call (answer).
    Idle,
    /// Dialled or answered; waiting for `connected`.
    /// Dialled or answering; `started` once the line showed the call (the
    /// event stream's first events still show the line as it was before,
    /// e.g. `idle`).
    Connecting {
        started: bool,
    },
    /// Hang up at `hangup_at`, if set.
    Connected {
        hangup_at: Option<Instant>,
    },
    /// Hung up as planned; waiting for the line to clear.
    HangingUp,
    Done,
}

/// One headless call's decisions. Sans-IO like every engine here: inputs
/// in (`handle_event`, `handle_timeout`, `interrupted`), steps out through
/// [`PortalCallFlow::poll_step`].
#[derive(Debug)]
pub struct PortalCallFlow {
    plan: Plan,
    phase: Phase,
    steps: VecDeque<Step>,
}

impl PortalCallFlow {
    pub fn new(plan: Plan) -> Self {
        Self {
            plan,
            phase: Phase::Idle,
            steps: VecDeque::new(),
        }
    }

    /// The next thing the driver is to do, in order.
    pub fn poll_step(&mut self) -> Option<Step> {
        self.steps.pop_front()
    }

    /// When [`PortalCallFlow::handle_timeout`] is due.
    pub fn poll_timeout(&self) -> Option<Instant> {
        match self.phase {
            Phase::Connected { hangup_at } => hangup_at,
            _ => None,
        }
    }

    /// The planned hang-up.
    pub fn handle_timeout(&mut self, now: Instant) {
        let step = match self.phase {
            Phase::Connected {
                hangup_at: Some(at),
            } if now >= at => {
                self.phase = Phase::HangingUp;
                Some(Step::Send(AgentCommand::Call(CallRequest::Hangup)))
            }
            _ => None,
        };
        self.steps.extend(step);
    }

    /// Interrupted (Ctrl-C): connected counts as done, anything else failed.
    pub fn interrupted(&mut self) {
        let outcome = match self.phase {
            Phase::Connected { .. } | Phase::HangingUp => Outcome::Connected,
            _ => Outcome::Failed("interrupted before the call connected".to_owned()),
        };
        let step = self.finish(outcome);
        self.steps.extend(step);
    }

    /// Feeds one agent event.
    pub fn handle_event(&mut self, now: Instant, event: &AgentEvent) {
        let step = self.decide(now, event);
        self.steps.extend(step);
    }

    fn decide(&mut self, now: Instant, event: &AgentEvent) -> Option<Step> {
        if self.phase == Phase::Done {
            return None;
        }
        match event {
            AgentEvent::Status(change) => self.on_status(&change.status),
            AgentEvent::Call(view) => self.on_call(now, view),
            AgentEvent::RequestFailed { request, reason } => match (self.phase, request) {
                (
                    Phase::Idle | Phase::Connecting { .. },
                    CallRequest::Dial(_) | CallRequest::Answer,
                ) => self.finish(Outcome::Failed(reason.clone())),
                _ => None,
            },
            _ => None,
        }
    }

    fn on_status(&mut self, status: &Status) -> Option<Step> {
        match (status, self.phase, &self.plan) {
            (Status::Registered { .. }, Phase::Idle, Plan::Call { number, .. }) => {
                self.phase = Phase::Connecting { started: false };
                Some(Step::Send(AgentCommand::Call(CallRequest::Dial(
                    number.clone(),
                ))))
            }
            (Status::Unavailable(_), Phase::Idle, _) => {
                self.phase = Phase::Done;
                Some(Step::Refused(status.to_string()))
            }
            (Status::Failed(failures), Phase::Idle, _)
                if failures
                    .iter()
                    .any(|(_, _, failure)| matches!(failure, ServerFailure::Refused(_))) =>
            {
                self.phase = Phase::Done;
                Some(Step::Refused(status.to_string()))
            }
            _ => None,
        }
    }

    fn on_call(&mut self, now: Instant, view: &CallView) -> Option<Step> {
        match (view.state, self.phase) {
            (CallState::Ringing, Phase::Idle) if matches!(self.plan, Plan::Answer { .. }) => {
                self.phase = Phase::Connecting { started: false };
                Some(Step::Send(AgentCommand::Call(CallRequest::Answer)))
            }
            (
                CallState::Dialing | CallState::Calling | CallState::Ringing | CallState::Held,
                Phase::Connecting { .. },
            ) => {
                self.phase = Phase::Connecting { started: true };
                None
            }
            // The line as it was before the call (the stream just opened).
            (CallState::Idle, Phase::Connecting { started: false }) => None,
            (CallState::Connected, Phase::Connecting { .. }) => {
                let after = match &self.plan {
                    Plan::Call { hangup_after, .. } => Some(*hangup_after),
                    Plan::Answer { hangup_after } => *hangup_after,
                };
                self.phase = Phase::Connected {
                    hangup_at: after.map(|after| now + after),
                };
                None
            }
            (CallState::Ended | CallState::Idle, Phase::Connecting { .. }) => {
                let reason = view
                    .reason
                    .clone()
                    .unwrap_or_else(|| "the call ended before it connected".to_owned());
                self.finish(Outcome::Failed(reason))
            }
            (CallState::Ended | CallState::Idle, Phase::HangingUp) => {
                self.finish(Outcome::Connected)
            }
            (CallState::Ended | CallState::Idle, Phase::Connected { hangup_at }) => {
                match (hangup_at, &self.plan) {
                    // Answering without a planned hang-up: the other side ends it.
                    (None, Plan::Answer { .. }) => self.finish(Outcome::Connected),
                    _ => self.finish(Outcome::Failed(format!(
                        "the other side ended the call early ({})",
                        view.reason.as_deref().unwrap_or("no reason given")
                    ))),
                }
            }
            _ => None,
        }
    }

    fn finish(&mut self, outcome: Outcome) -> Option<Step> {
        self.phase = Phase::Done;
        Some(Step::Finish(outcome))
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::portal::selection::{Route, StatusChange, Unavailable};
    use crate::portal::settings::ServerAddress;

    fn status(status: Status) -> AgentEvent {
        AgentEvent::Status(StatusChange {
            status,
            elapsed: Duration::ZERO,
        })
    }

    fn registered() -> AgentEvent {
        status(Status::Registered {
            route: Route::Wan,
            server: ServerAddress::parse("company.example.com").expect("server"),
        })
    }

    fn call(state: CallState, reason: Option<&str>) -> AgentEvent {
        AgentEvent::Call(CallView {
            state,
            peer: Some("201 Anna".into()),
            reason: reason.map(str::to_owned),
            media: None,
        })
    }

    /// Feeds one input to the flow and takes the steps it queued.
    fn after(flow: &mut PortalCallFlow, input: impl FnOnce(&mut PortalCallFlow)) -> Vec<Step> {
        input(flow);
        std::iter::from_fn(|| flow.poll_step()).collect()
    }

    fn send(request: CallRequest) -> Vec<Step> {
        vec![Step::Send(AgentCommand::Call(request))]
    }

    #[test]
    fn a_call_dials_once_registered_and_hangs_up_as_planned() {
        let plan = Plan::call("201", Duration::from_secs(5)).expect("plan");
        let mut flow = PortalCallFlow::new(plan);
        let now = Instant::now();
        assert_eq!(
            after(&mut flow, |flow| flow.handle_event(now, &registered())),
            send(CallRequest::Dial("201".into()))
        );
        assert!(
            after(&mut flow, |flow| flow.handle_event(now, &registered())).is_empty(),
            "dials once"
        );
        assert!(
            after(&mut flow, |flow| flow
                .handle_event(now, &call(CallState::Idle, None)))
            .is_empty(),
            "the line before the call, as a newly opened stream shows it"
        );
        assert!(
            after(&mut flow, |flow| flow
                .handle_event(now, &call(CallState::Calling, None)))
            .is_empty()
        );
        assert!(
            after(&mut flow, |flow| flow
                .handle_event(now, &call(CallState::Connected, None)))
            .is_empty()
        );
        assert_eq!(flow.poll_timeout(), Some(now + Duration::from_secs(5)));
        assert!(
            after(&mut flow, |flow| flow
                .handle_timeout(now + Duration::from_secs(4)))
            .is_empty()
        );
        assert_eq!(
            after(&mut flow, |flow| flow
                .handle_timeout(now + Duration::from_secs(5))),
            send(CallRequest::Hangup)
        );
        assert_eq!(
            after(&mut flow, |flow| flow
                .handle_event(now, &call(CallState::Idle, None))),
            vec![Step::Finish(Outcome::Connected)]
        );
    }

    #[test]
    fn a_busy_call_and_an_early_end_fail_with_the_reason() {
        let plan = Plan::call("202", Duration::from_secs(5)).expect("plan");
        let mut busy = PortalCallFlow::new(plan.clone());
        after(&mut busy, |flow| {
            flow.handle_event(Instant::now(), &registered())
        });
        assert_eq!(
            after(&mut busy, |flow| flow.handle_event(
                Instant::now(),
                &call(CallState::Ended, Some("Busy"))
            )),
            vec![Step::Finish(Outcome::Failed("Busy".into()))]
        );
        let mut vanished = PortalCallFlow::new(plan.clone());
        after(&mut vanished, |flow| {
            flow.handle_event(Instant::now(), &registered())
        });
        after(&mut vanished, |flow| {
            flow.handle_event(Instant::now(), &call(CallState::Calling, None))
        });
        assert_eq!(
            after(&mut vanished, |flow| flow
                .handle_event(Instant::now(), &call(CallState::Idle, None))),
            vec![Step::Finish(Outcome::Failed(
                "the call ended before it connected".into()
            ))],
            "idle once the call had started"
        );
        let mut early = PortalCallFlow::new(plan);
        after(&mut early, |flow| {
            flow.handle_event(Instant::now(), &registered())
        });
        after(&mut early, |flow| {
            flow.handle_event(Instant::now(), &call(CallState::Connected, None))
        });
        let steps = after(&mut early, |flow| {
            flow.handle_event(Instant::now(), &call(CallState::Ended, Some("Hung up")))
        });
        assert_eq!(
            steps,
            vec![Step::Finish(Outcome::Failed(
                "the other side ended the call early (Hung up)".into()
            ))]
        );
    }

    #[test]
    fn answer_answers_the_ringing_call_and_waits_for_the_other_side() {
        let mut flow = PortalCallFlow::new(Plan::Answer { hangup_after: None });
        let now = Instant::now();
        assert!(
            after(&mut flow, |flow| flow.handle_event(now, &registered())).is_empty(),
            "no dialling"
        );
        assert_eq!(
            after(&mut flow, |flow| flow
                .handle_event(now, &call(CallState::Ringing, None))),
            send(CallRequest::Answer)
        );
        after(&mut flow, |flow| {
            flow.handle_event(now, &call(CallState::Connected, None))
        });
        assert_eq!(flow.poll_timeout(), None);
        assert_eq!(
            after(&mut flow, |flow| flow
                .handle_event(now, &call(CallState::Ended, Some("Hung up")))),
            vec![Step::Finish(Outcome::Connected)]
        );
    }

    #[test]
    fn no_voip_or_a_refusal_before_registering_is_refused() {
        let plan = Plan::call("201", Duration::from_secs(5)).expect("plan");
        let mut mobile = PortalCallFlow::new(plan.clone());
        assert_eq!(
            after(&mut mobile, |flow| flow.handle_event(
                Instant::now(),
                &status(Status::Unavailable(Unavailable::MobileData))
            )),
            vec![Step::Refused(
                "Not registered: VoIP is not available on mobile data".into()
            )]
        );
        let mut silent = PortalCallFlow::new(plan);
        let no_answer = Status::Failed(vec![(
            Route::Wan,
            ServerAddress::parse("company.example.com").expect("server"),
            ServerFailure::NoAnswer,
        )]);
        assert!(
            after(&mut silent, |flow| flow
                .handle_event(Instant::now(), &status(no_answer)))
            .is_empty(),
            "no answer is retried"
        );
    }
}
