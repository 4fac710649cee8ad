//! Runs a scenario's steps in order, each within its timeout, against the
//! parties it starts; stops at the first step that fails and reports the
//! rest as skipped.

use std::collections::HashMap;
use std::time::Instant;

use super::expect::{self, Verdict, check, expected};
use super::model::{Action, Scenario, Step};
use super::party::{PrepareError, Prepared, Running, StartError, prepare};
use super::report::{ScenarioReport, StepOutcome, StepReport};
use crate::hfa::Hook;
use crate::portal::agent::AgentCommand;
use crate::portal::client::CallRequest;
use crate::portal::selection::ServerFailure;
use crate::portal::{Network, Status};

/// The HFA function keys the steps press, as our gateway and the guide's
/// systems label them.
const HOLD: &str = "Hold";
const RETRIEVE: &str = "Retrieve";
const TRANSFER: &str = "Transfer";
const FORWARD: &str = "Forward";
const RELEASE: &str = "Release";

/// Why a step failed: what was expected and what was seen.
#[derive(Debug, thiserror::Error)]
pub enum StepFailure {
    /// A step for a party not registered yet.
    #[error("party {0:?} is not running: a register step must come first")]
    NotRunning(String),
    /// A register step for a running party.
    #[error("party {0:?} is already running")]
    AlreadyRunning(String),
    /// A register step for a party the file does not have.
    #[error("no party is named {0:?}")]
    UnknownParty(String),
    /// The party's settings, on its second start.
    #[error(transparent)]
    Prepare(#[from] PrepareError),
    /// The party could not start.
    #[error(transparent)]
    Start(#[from] StartError),
    /// A waiting step's deadline passed, or its party showed otherwise.
    #[error("expected {expected} within {within}; saw {seen}")]
    NotSeen {
        expected: String,
        within: humantime::FormattedDuration,
        seen: NotSeen,
    },
    /// An action step could not be carried out.
    #[error("could not {action}: {error}")]
    Action {
        action: &'static str,
        error: ActionError,
    },
}

/// What a party showed instead of what a step waited for.
#[derive(Debug, thiserror::Error)]
pub enum NotSeen {
    /// What the party showed last.
    #[error("{0}")]
    Saw(String),
    /// What the party showed last before it stopped.
    #[error("{0}; then the party stopped")]
    SawThenStopped(String),
}

/// Why an action step could not be carried out.
#[derive(Debug, thiserror::Error)]
pub enum ActionError {
    /// A phone's action for an app.
    #[error("{0} is not for an app")]
    NotForApp(&'static str),
    /// A phone's action for a party that is not a phone.
    #[error("not an HFA phone")]
    NotHfa,
    /// Its function key did not appear.
    #[error(transparent)]
    NoKey(#[from] NotSeen),
}

/// Checks every party's settings (passwords read, addresses parsed):
/// `Err` names the party and field.
pub fn prepare_all(scenario: &Scenario) -> Result<HashMap<String, Prepared>, PrepareError> {
    scenario
        .parties
        .iter()
        .map(|party| Ok((party.name().to_owned(), prepare(party)?)))
        .collect()
}

/// Runs `scenario`; `on_step` sees each step's report as it ends.
pub async fn run(
    scenario: &Scenario,
    prepared: HashMap<String, Prepared>,
    mut on_step: impl FnMut(&StepReport),
) -> ScenarioReport {
    let started = Instant::now();
    let mut runner = Runner {
        scenario,
        prepared,
        running: HashMap::new(),
    };
    let mut steps = Vec::new();
    let mut failed: Option<usize> = None;
    for step in &scenario.steps {
        let report = match failed {
            Some(number) => StepReport::skipped(step, format!("not run: step {number} failed")),
            None => {
                let begun = Instant::now();
                let mut lines = Vec::new();
                let outcome = match runner.step(step, &mut lines).await {
                    Ok(detail) => StepOutcome::Passed(detail),
                    Err(failure) => {
                        failed = Some(step.number);
                        StepOutcome::Failed(failure)
                    }
                };
                StepReport::ended(step, outcome, begun.elapsed(), lines)
            }
        };
        on_step(&report);
        steps.push(report);
    }
    for (_, party) in runner.running.drain() {
        party.stop().await;
    }
    ScenarioReport {
        name: scenario.name.clone(),
        description: scenario.description.clone(),
        steps,
        elapsed: started.elapsed(),
    }
}

struct Runner<'a> {
    scenario: &'a Scenario,
    /// Parties not started yet.
    prepared: HashMap<String, Prepared>,
    running: HashMap<String, Running>,
}

impl Runner<'_> {
    /// Runs one step: `Ok` with what happened, `Err` with what was expected
    /// and what was seen.
    async fn step(&mut self, step: &Step, lines: &mut Vec<String>) -> Result<String, StepFailure> {
        let deadline = tokio::time::Instant::now() + step.timeout;
        let name = step.action.party().to_owned();
        if let Action::Register { .. } = &step.action {
            self.start(&name).await?;
        }
        let Some(party) = self.running.get_mut(&name) else {
            return Err(StepFailure::NotRunning(name));
        };
        let waited = |seen| StepFailure::NotSeen {
            expected: expected(&step.action),
            within: humantime::format_duration(step.timeout),
            seen,
        };
        match &step.action {
            Action::Register { refused, .. } => wait(party, deadline, lines, |party, _| {
                registration(party, refused.as_deref())
            })
            .await
            .map_err(waited),
            Action::ExpectDisplay { .. }
            | Action::ExpectCall { .. }
            | Action::ExpectTone { .. }
            | Action::ExpectStatus { .. }
            | Action::WaitFor { .. }
            | Action::Quality { .. } => wait(party, deadline, lines, |party, line| {
                check(&step.action, party, line)
            })
            .await
            .map_err(waited),
            Action::Stop { .. } => {
                if let Some(party) = self.running.remove(&name) {
                    party.stop().await;
                }
                Ok("stopped".to_owned())
            }
            action => {
                act(party, action, deadline, lines)
                    .await
                    .map_err(|error| StepFailure::Action {
                        action: action.name(),
                        error,
                    })
            }
        }
    }

    /// Starts party `name` (again, after a stop).
    async fn start(&mut self, name: &str) -> Result<(), StepFailure> {
        if self.running.contains_key(name) {
            return Err(StepFailure::AlreadyRunning(name.to_owned()));
        }
        let prepared = match self.prepared.remove(name) {
            Some(prepared) => prepared,
            None => {
                let party = self
                    .scenario
                    .parties
                    .iter()
                    .find(|party| party.name() == name)
                    .ok_or_else(|| StepFailure::UnknownParty(name.to_owned()))?;
                prepare(party)?
            }
        };
        let running = Running::start(prepared).await?;
        self.running.insert(name.to_owned(), running);
        Ok(())
    }
}

/// Takes `party`'s events until `verdict` holds, or the deadline; `Err`
/// with what was seen last.
async fn wait(
    party: &mut Running,
    deadline: tokio::time::Instant,
    lines: &mut Vec<String>,
    verdict: impl Fn(&Running, Option<&str>) -> Verdict,
) -> Result<String, NotSeen> {
    let mut line: Option<String> = None;
    loop {
        match verdict(party, line.as_deref()) {
            Verdict::Holds => return Ok(line.unwrap_or_else(|| expect::seen(party))),
            Verdict::Missed(seen) => return Err(NotSeen::Saw(seen)),
            Verdict::NotYet(seen) => match tokio::time::timeout_at(deadline, party.next()).await {
                Ok(Some(next)) => {
                    lines.push(next.clone());
                    line = Some(next);
                }
                Ok(None) => return Err(NotSeen::SawThenStopped(seen)),
                Err(_) => return Err(NotSeen::Saw(seen)),
            },
        }
    }
}

/// Whether a registration (or the expected refusal) came.
fn registration(party: &Running, refused: Option<&str>) -> Verdict {
    let refusal =
        match party {
            Running::Hfa(run) if run.registered => None,
            Running::Hfa(run) => match run.declined {
                Some(cause) => Some(cause.describe().to_owned()),
                None => return Verdict::NotYet(expect::seen(party)),
            },
            Running::Portal(run) => match &run.status {
                Some(Status::Registered { .. }) => None,
                Some(
                    status @ (Status::Unavailable(_) | Status::LoggedOut(_) | Status::Failed(_)),
                ) if refused_for_good(status) => Some(status.to_string()),
                _ => return Verdict::NotYet(expect::seen(party)),
            },
        };
    match (refusal, refused) {
        (None, None) => Verdict::Holds,
        (None, Some(_)) => Verdict::Missed(format!("registered ({})", expect::seen(party))),
        (Some(words), Some(text)) if words.contains(text) => Verdict::Holds,
        (Some(words), _) => Verdict::Missed(format!("refused: {words}")),
    }
}

/// A portal status that is a refusal (no answer from every server is
/// retried, so not yet one).
fn refused_for_good(status: &Status) -> bool {
    match status {
        Status::Failed(failures) => failures
            .iter()
            .any(|(_, _, failure)| matches!(failure, ServerFailure::Refused(_))),
        _ => true,
    }
}

/// Carries out an action step.
async fn act(
    party: &mut Running,
    action: &Action,
    deadline: tokio::time::Instant,
    lines: &mut Vec<String>,
) -> Result<String, ActionError> {
    match party {
        Running::Hfa(_) => act_hfa(party, action, deadline, lines).await,
        Running::Portal(run) => {
            let command = match action {
                Action::Dial { number, .. } => {
                    AgentCommand::Call(CallRequest::Dial(number.clone()))
                }
                Action::Answer { .. } => AgentCommand::Call(CallRequest::Answer),
                Action::Hold { .. } => AgentCommand::Call(CallRequest::Hold),
                Action::Retrieve { .. } => AgentCommand::Call(CallRequest::Retrieve),
                Action::HangUp { .. } => AgentCommand::Call(CallRequest::Hangup),
                Action::Dtmf { digits, .. } => {
                    AgentCommand::Call(CallRequest::Dtmf(digits.clone()))
                }
                Action::Network { network, .. } => AgentCommand::SetNetwork {
                    network: *network,
                    bind: match network {
                        Network::CompanyWifi => run.company_bind,
                        Network::RemoteWifi | Network::Mobile => run.home_bind,
                    },
                },
                Action::RemoteWifiVoip { on, .. } => {
                    run.flags.remote_wifi = *on;
                    AgentCommand::SetFlags(run.flags)
                }
                other => return Err(ActionError::NotForApp(other.name())),
            };
            run.send(command);
            Ok("sent".to_owned())
        }
    }
}

/// An HFA phone's action: the hook, the dial pad, function keys found by
/// their labels (waiting for the gateway to label them), DTMF in media.
async fn act_hfa(
    party: &mut Running,
    action: &Action,
    deadline: tokio::time::Instant,
    lines: &mut Vec<String>,
) -> Result<String, ActionError> {
    let key = match action {
        Action::Hold { .. } => Some(HOLD),
        Action::Retrieve { .. } => Some(RETRIEVE),
        Action::Transfer { .. } => Some(TRANSFER),
        Action::Forward { .. } => Some(FORWARD),
        Action::PressKey { label, .. } => Some(label.as_str()),
        Action::HangUp { .. } if hook(party) == Some(Hook::OnHook) => Some(RELEASE),
        _ => None,
    };
    let fpk = match key {
        Some(label) => Some(labelled(party, label, deadline, lines).await?),
        None => None,
    };
    let Running::Hfa(run) = party else {
        return Err(ActionError::NotHfa);
    };
    if let Some(fpk) = fpk {
        run.press_key(fpk);
    }
    match action {
        Action::Dial { number, .. } => {
            if run.model.hook() == Hook::OnHook {
                run.off_hook();
            }
            run.keys(&format!("{number}#"));
            Ok(format!("dialled {number}"))
        }
        Action::Answer { .. } => {
            run.off_hook();
            Ok("off-hook".to_owned())
        }
        Action::HangUp { .. } if fpk.is_none() => {
            run.on_hook();
            Ok("on-hook".to_owned())
        }
        Action::Forward { to: Some(to), .. } => {
            run.keys(&format!("{to}#"));
            Ok(format!("pressed {FORWARD}, entered {to}"))
        }
        Action::Dtmf { digits, .. } => {
            run.dtmf(digits);
            Ok(format!("sent {digits} in the media"))
        }
        _ => Ok(format!("pressed {}", key.unwrap_or_default())),
    }
}

fn hook(party: &Running) -> Option<Hook> {
    match party {
        Running::Hfa(run) => Some(run.model.hook()),
        Running::Portal(_) => None,
    }
}

/// The function key labelled `label`, once the gateway has labelled it.
async fn labelled(
    party: &mut Running,
    label: &str,
    deadline: tokio::time::Instant,
    lines: &mut Vec<String>,
) -> Result<u8, NotSeen> {
    let find = |party: &Running| match party {
        Running::Hfa(run) => run.key_labelled(label),
        Running::Portal(_) => None,
    };
    wait(party, deadline, lines, |party, _| match find(party) {
        Some(_) => Verdict::Holds,
        None => Verdict::NotYet(format!("no function key labelled {label:?}")),
    })
    .await?;
    find(party).ok_or_else(|| NotSeen::Saw(format!("no function key labelled {label:?}")))
}
