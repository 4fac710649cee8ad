//! `softphone portal demo-switch`: the guide's network changes walked
//! through one by one (4.2), each status printed with its time, and
//! optionally a call carried from the company WiFi to a remote WiFi to
//! show it survive the move (the SBC re-anchors its media).

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use shared::portal::{CallState, CallView};
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::agent::{AgentCommand, AgentEvent, AgentTimers, PortalAgent};
use super::client::CallRequest;
use super::lines::{describe, millis};
use super::selection::Status;
use super::settings::{Network, PortalSettings, VoipFlags};
use crate::media::MediaOptions;
use crate::media::call::MediaReport;

/// Where `demo-switch` binds on each network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DemoBinds {
    /// In the company WiFi.
    pub company: Option<IpAddr>,
    /// In a remote WiFi and on mobile data.
    pub home: Option<IpAddr>,
}

/// What one demo step does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DemoAction {
    /// Nothing to send: the agent starts in the company WiFi; wait for
    /// the status to settle.
    Start,
    /// Send this and wait for the status to settle.
    Change(AgentCommand),
    /// Dial this number and wait until the call is connected and media
    /// comes in.
    Dial(String),
    /// Send this network change while the call is up, and show that the
    /// call survives it.
    MoveWithCall(AgentCommand),
    /// Hang up and wait for the call to end.
    HangUp,
}

/// One step of the demo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoStep {
    pub label: String,
    pub action: DemoAction,
}

/// The guide's walk (4.2). Without a call: company WiFi, remote WiFi with
/// "Use VoIP in remote WiFi networks" off, then on, mobile data, company
/// WiFi again. With a call to `call`: the flag is on from the start, the
/// call is made in the company WiFi and carried to the remote WiFi, hung
/// up there; then the flag off, mobile data, company WiFi again.
pub fn demo_steps(binds: DemoBinds, call: Option<&str>) -> Vec<DemoStep> {
    let step = |label: &str, action| DemoStep {
        label: label.to_owned(),
        action,
    };
    let remote_wifi = AgentCommand::SetNetwork {
        network: Network::RemoteWifi,
        bind: binds.home,
    };
    let flag = |remote_wifi| {
        AgentCommand::SetFlags(VoipFlags {
            voip: true,
            remote_wifi,
        })
    };
    let mut steps = match call {
        None => vec![
            step("start in the company WiFi", DemoAction::Start),
            step(
                "move to a remote WiFi (\"Use VoIP in remote WiFi networks\" off)",
                DemoAction::Change(remote_wifi),
            ),
            step(
                "switch \"Use VoIP in remote WiFi networks\" on",
                DemoAction::Change(flag(true)),
            ),
        ],
        Some(number) => vec![
            step(
                "start in the company WiFi (\"Use VoIP in remote WiFi networks\" on)",
                DemoAction::Start,
            ),
            step(
                &format!("call {number}"),
                DemoAction::Dial(number.to_owned()),
            ),
            step(
                "move to a remote WiFi with the call up",
                DemoAction::MoveWithCall(remote_wifi),
            ),
            step("hang up", DemoAction::HangUp),
            step(
                "switch \"Use VoIP in remote WiFi networks\" off",
                DemoAction::Change(flag(false)),
            ),
        ],
    };
    steps.push(step(
        "move to mobile data",
        DemoAction::Change(AgentCommand::SetNetwork {
            network: Network::Mobile,
            bind: binds.home,
        }),
    ));
    steps.push(step(
        "back in the company WiFi",
        DemoAction::Change(AgentCommand::SetNetwork {
            network: Network::CompanyWifi,
            bind: binds.company,
        }),
    ));
    steps
}

/// Added to the selection's timeouts for a demo step's patience.
const STEP_SLACK: Duration = Duration::from_secs(5);

/// How long a dialled call may take to connect with media (someone may
/// have to pick up a phone).
const CALL_PATIENCE: Duration = Duration::from_secs(60);

/// How long, after the move, the two quality reports that show the
/// media going on may take (they come every two seconds).
const SURVIVAL_PATIENCE: Duration = Duration::from_secs(10);

/// Whether the status is where a step ends.
fn settled(status: &Status) -> bool {
    !matches!(status, Status::Registering { .. })
}

/// What one demo step ended with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoResult {
    pub label: String,
    /// The settled status (or the call's state) and how long it took, or
    /// `None` if it did not settle in time.
    pub outcome: Option<(String, Duration)>,
}

/// How the call came through the move to the remote WiFi: packets
/// received, as the quality reports count them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallSurvival {
    /// By the last report before the move.
    pub before: u64,
    /// By the first report after the re-registration: counted once the
    /// device was on the new network.
    pub at_move: u64,
    /// By the next report, a couple of seconds later; more than
    /// `at_move`: media still comes in.
    pub after: u64,
    /// Where the call's media went after the move, as the gateway said.
    pub media_to: Option<SocketAddr>,
}

/// What the demo showed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoReport {
    pub steps: Vec<DemoResult>,
    /// With a call: its figures across the move.
    pub call: Option<CallSurvival>,
}

/// Why the demo did not show what it walks through.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    /// The app could not start.
    #[error("cannot open the media sockets: {0}")]
    MediaSockets(std::io::Error),
    /// The call asked for did not connect.
    #[error("the call did not connect: {0}")]
    NotConnected(DialFailure),
    /// The call did not come through the move.
    #[error("the call did not survive the move: {0}")]
    NotSurvived(MoveFailure),
    /// A status did not settle within the step's patience.
    #[error("a step did not settle in time")]
    NotSettled,
}

/// Why the demo's call did not connect with media.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DialFailure {
    /// Not connected with media by the deadline.
    #[error("not connected with media within {}", millis(*.0))]
    NoMedia(Duration),
    /// Ended before it connected, with the gateway's reason if it gave one.
    #[error("{}", .0.as_deref().unwrap_or("the call ended before it connected"))]
    Ended(Option<String>),
    /// The gateway refused the dial request, for this reason.
    #[error("{0}")]
    Refused(String),
}

/// Why the demo's call did not come through the move.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoveFailure {
    /// The status after the move did not settle.
    #[error("the status did not settle in time")]
    NotSettled,
    /// The call had ended before the move.
    #[error("no call was up")]
    NoCall,
    /// The app did not register on the new network.
    #[error("not registered on the new network")]
    NotRegistered,
    /// The call ended after the move, with the gateway's reason if any.
    #[error("the call ended ({})", .0.as_deref().unwrap_or("no reason given"))]
    Ended(Option<String>),
    /// No quality report after the move, by the deadline.
    #[error("no media report within {} of the move", millis(*.0))]
    NoReport(Duration),
    /// The call's media stopped.
    #[error("its media stopped")]
    MediaStopped,
    /// The packets received, the same before and after.
    #[error("no packets received after the move (still {0})")]
    NoPacketsAfter(u64),
}

/// Runs the demo: every event printed (status changes with their time),
/// then a summary; `Err` if a step did not settle in time or the call did
/// not connect or survive the move.
pub async fn demo(
    settings: PortalSettings,
    media: MediaOptions,
    binds: DemoBinds,
    call: Option<String>,
    timers: AgentTimers,
) -> Result<DemoReport, DemoError> {
    // Long enough for a LAN timeout, a WAN attempt and some slack.
    let step_patience = timers.selection.lan_timeout + timers.selection.wan_timeout + STEP_SLACK;
    let mut settings = settings;
    settings.network = Network::CompanyWifi;
    settings.bind = binds.company;
    settings.flags = VoipFlags {
        voip: true,
        remote_wifi: call.is_some(),
    };
    let (agent, events) = PortalAgent::spawn(settings, media, timers)
        .await
        .map_err(DemoError::MediaSockets)?;
    let mut run = DemoRun {
        agent,
        events,
        call: None,
        received: None,
    };
    let steps = demo_steps(binds, call.as_deref());
    let total = steps.len();
    let mut results = Vec::new();
    let mut survival = None;
    for (index, step) in steps.into_iter().enumerate() {
        println!("step {}/{total}: {}", index + 1, step.label);
        let outcome = match step.action {
            DemoAction::Start => run.settle(step_patience).await,
            DemoAction::Change(command) => {
                run.agent.send(command);
                run.settle(step_patience).await
            }
            DemoAction::Dial(number) => match run.dial(&number).await {
                Ok(outcome) => Some(outcome),
                Err(why) => {
                    println!("call failed: {why}");
                    survival = Some(Err(DemoError::NotConnected(why)));
                    None
                }
            },
            DemoAction::MoveWithCall(command) => {
                let (outcome, survived) = run.move_with_call(command, step_patience).await;
                match &survived {
                    Ok(figures) => println!(
                        "call survived the move: received {} packets before it, {} once \
                         re-registered, {} a report later (+{}), media to {}, no ended call",
                        figures.before,
                        figures.at_move,
                        figures.after,
                        figures.after - figures.at_move,
                        figures
                            .media_to
                            .map_or_else(|| "-".to_owned(), |to| to.to_string())
                    ),
                    Err(why) => println!("call did not survive the move: {why}"),
                }
                // A call that never connected keeps that reason.
                survival.get_or_insert(survived.map_err(DemoError::NotSurvived));
                outcome
            }
            DemoAction::HangUp => run.hang_up(step_patience).await,
        };
        results.push(DemoResult {
            label: step.label,
            outcome,
        });
    }
    run.agent.stop().await;
    println!("summary:");
    for result in &results {
        match &result.outcome {
            Some((status, took)) => println!("  {}: {status} ({})", result.label, millis(*took)),
            None => println!("  {}: did not settle in time", result.label),
        }
    }
    let call = survival.transpose()?;
    if results.iter().any(|result| result.outcome.is_none()) {
        return Err(DemoError::NotSettled);
    }
    Ok(DemoReport {
        steps: results,
        call,
    })
}

/// The running demo: the agent, and what its events said of the call.
struct DemoRun {
    agent: PortalAgent,
    events: mpsc::UnboundedReceiver<AgentEvent>,
    /// The last call view.
    call: Option<CallView>,
    /// Packets received by the last quality report.
    received: Option<u64>,
}

impl DemoRun {
    /// The next event before `deadline`, printed and noted; `None` at the
    /// deadline or once the agent is gone.
    async fn next(&mut self, deadline: Instant) -> Option<AgentEvent> {
        let event = tokio::time::timeout_at(deadline, self.events.recv())
            .await
            .ok()??;
        println!("{}", describe(&event));
        match &event {
            AgentEvent::Call(view) => {
                let was = self.media_to();
                self.call = Some(view.clone());
                // The call line names no address: show where the gateway
                // moved the media to.
                if let (Some(was), Some(now)) = (was, self.media_to())
                    && was != now
                {
                    println!("media: re-anchored to {now} (was {was})");
                }
            }
            AgentEvent::Media(MediaReport::Quality(stats)) => self.received = Some(stats.received),
            _ => {}
        }
        Some(event)
    }

    /// Where the connected call's media goes.
    fn media_to(&self) -> Option<SocketAddr> {
        self.call
            .as_ref()
            .filter(|view| view.state == CallState::Connected)
            .and_then(|view| view.media)
            .map(|media| media.rtp)
    }

    /// Whether the call is over (or there is none).
    fn call_over(&self) -> bool {
        self.call
            .as_ref()
            .is_none_or(|view| matches!(view.state, CallState::Ended | CallState::Idle))
    }

    /// Prints events until the status settles; its text and time.
    async fn settle(&mut self, patience: Duration) -> Option<(String, Duration)> {
        let deadline = Instant::now() + patience;
        loop {
            if let AgentEvent::Status(change) = self.next(deadline).await?
                && settled(&change.status)
            {
                return Some((change.status.to_string(), change.elapsed));
            }
        }
    }

    /// Dials `number`; once connected with media coming in (a quality
    /// report with packets received), the call line and the time.
    async fn dial(&mut self, number: &str) -> Result<(String, Duration), DialFailure> {
        let start = Instant::now();
        let deadline = start + CALL_PATIENCE;
        self.agent
            .send(AgentCommand::Call(CallRequest::Dial(number.to_owned())));
        // The stream may still show the line as it was before the call.
        let mut started = false;
        let mut connected = None;
        loop {
            let Some(event) = self.next(deadline).await else {
                return Err(DialFailure::NoMedia(CALL_PATIENCE));
            };
            match &event {
                AgentEvent::Call(view) => match view.state {
                    CallState::Idle if !started => {}
                    CallState::Idle | CallState::Ended => {
                        return Err(DialFailure::Ended(view.reason.clone()));
                    }
                    CallState::Connected => {
                        started = true;
                        connected.get_or_insert_with(|| {
                            (
                                format!("connected {}", view.peer.as_deref().unwrap_or(number)),
                                start.elapsed(),
                            )
                        });
                    }
                    CallState::Dialing
                    | CallState::Calling
                    | CallState::Ringing
                    | CallState::Held => started = true,
                },
                AgentEvent::RequestFailed {
                    request: CallRequest::Dial(_),
                    reason,
                } => return Err(DialFailure::Refused(reason.clone())),
                AgentEvent::Media(MediaReport::Quality(stats)) if stats.received > 0 => {
                    if let Some(connected) = connected.take() {
                        return Ok(connected);
                    }
                }
                _ => {}
            }
        }
    }

    /// Sends the network change with the call up: the settled status and
    /// its time, and whether the call came through (no ended call, media
    /// still received once re-registered).
    async fn move_with_call(
        &mut self,
        command: AgentCommand,
        patience: Duration,
    ) -> (
        Option<(String, Duration)>,
        Result<CallSurvival, MoveFailure>,
    ) {
        let before = self.received.unwrap_or_default();
        let call_up = !self.call_over();
        self.agent.send(command);
        let deadline = Instant::now() + patience;
        let mut outcome = None;
        let mut registered = false;
        while outcome.is_none() {
            let Some(event) = self.next(deadline).await else {
                return (None, Err(MoveFailure::NotSettled));
            };
            if let AgentEvent::Status(change) = &event
                && settled(&change.status)
            {
                registered = matches!(change.status, Status::Registered { .. });
                outcome = Some((change.status.to_string(), change.elapsed));
            }
        }
        if !call_up {
            return (outcome, Err(MoveFailure::NoCall));
        }
        if !registered {
            return (outcome, Err(MoveFailure::NotRegistered));
        }
        // Two quality reports after the re-registration: the packets
        // counted between them came in on the new network.
        let deadline = Instant::now() + SURVIVAL_PATIENCE;
        let mut at_move = None;
        let survived = loop {
            if self.call_over() {
                let reason = self.call.as_ref().and_then(|view| view.reason.clone());
                break Err(MoveFailure::Ended(reason));
            }
            let Some(event) = self.next(deadline).await else {
                break Err(MoveFailure::NoReport(SURVIVAL_PATIENCE));
            };
            match event {
                AgentEvent::Media(MediaReport::Stopped(_)) => {
                    break Err(MoveFailure::MediaStopped);
                }
                AgentEvent::Media(MediaReport::Quality(stats)) => match at_move {
                    None => at_move = Some(stats.received),
                    Some(at_move) if stats.received > at_move => {
                        break Ok(CallSurvival {
                            before,
                            at_move,
                            after: stats.received,
                            media_to: self.media_to(),
                        });
                    }
                    Some(at_move) => {
                        break Err(MoveFailure::NoPacketsAfter(at_move));
                    }
                },
                _ => {}
            }
        };
        (outcome, survived)
    }

    /// Hangs up the call, if one is up; the call's end and its time.
    async fn hang_up(&mut self, patience: Duration) -> Option<(String, Duration)> {
        if self.call_over() {
            return Some(("no call to hang up".to_owned(), Duration::ZERO));
        }
        let start = Instant::now();
        self.agent.send(AgentCommand::Call(CallRequest::Hangup));
        while !self.call_over() {
            self.next(start + patience).await?;
        }
        Some(("call ended".to_owned(), start.elapsed()))
    }
}

#[cfg(test)]
mod tests;
