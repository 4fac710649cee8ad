//! The event loops of the headless `portal register|call|answer`
//! commands: a running [`PortalAgent`], every event printed as one line
//! ([`super::lines`]), the call's decisions taken by [`PortalCallFlow`].
//! `demo-switch` is in [`super::demo`].

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;

use tokio::time::Instant;

use super::agent::{AgentCommand, AgentEvent, AgentTimers, PortalAgent};
use super::call_flow::{PortalCallFlow, Step};
use super::lines::describe;
use super::selection::{ServerFailure, Status};
use super::settings::PortalSettings;
use super::trust::{Fingerprint, KnownGateways, Trust, TrustError};
use crate::feedback::CallLog;
use crate::hfa::call_flow::{Outcome, Plan};
use crate::hfa::session::Interrupt;
use crate::media::MediaOptions;

/// How a session ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PortalEnd {
    /// Interrupted while registered or registering (`portal register`).
    Interrupted,
    /// The call flow finished.
    Call(Outcome),
    /// Not registered: refused, or VoIP unavailable; the status text.
    Refused(String),
    /// The agent stopped by itself, or could not start.
    AgentGone,
}

/// Registers (and, with a plan, places or answers a call), printing every
/// event, until the plan is done, Ctrl-C, or a refusal.
pub async fn run(settings: PortalSettings, plan: Option<Plan>, media: MediaOptions) -> PortalEnd {
    let mut interrupt = Interrupt::listen();
    let mut calls = settings.call_log.as_ref().map(CallLog::recorder);
    let mut record = |event: &AgentEvent| {
        if let (Some(calls), AgentEvent::Media(report)) = (calls.as_mut(), event) {
            calls.report(report);
        }
    };
    let store = match &settings.trust {
        Trust::Tofu { store, .. } => Some(store.clone()),
        _ => None,
    };
    let (agent, mut events) =
        match PortalAgent::spawn(settings, media, AgentTimers::default()).await {
            Ok(started) => started,
            Err(error) => {
                eprintln!("softphone: cannot open the media sockets: {error}");
                return PortalEnd::AgentGone;
            }
        };
    let mut flow = plan.map(PortalCallFlow::new);
    // After the user accepted a certificate, the failure it caused is
    // not a refusal: a retry follows.
    let mut retrying_after_trust = false;
    let end = loop {
        let deadline = flow
            .as_ref()
            .and_then(PortalCallFlow::poll_timeout)
            .map(Instant::from_std);
        tokio::select! {
            event = events.recv() => {
                let Some(event) = event else { break PortalEnd::AgentGone };
                record(&event);
                println!("{}", describe(&event));
                if let AgentEvent::CertificateUnknown { server, fingerprint } = &event {
                    match trust_prompt(store.clone(), server, *fingerprint).await {
                        Ok(()) => {
                            retrying_after_trust = true;
                            agent.send(AgentCommand::Retry);
                        }
                        Err(refusal) => break PortalEnd::Refused(refusal.to_string()),
                    }
                }
                if let AgentEvent::Status(change) = &event
                    && matches!(change.status, Status::Failed(_))
                    && std::mem::take(&mut retrying_after_trust)
                {
                    continue;
                }
                match (&mut flow, &event) {
                    (Some(flow), _) => flow.handle_event(std::time::Instant::now(), &event),
                    (None, AgentEvent::Status(change)) if refused(&change.status) => {
                        break PortalEnd::Refused(change.status.to_string());
                    }
                    (None, _) => {}
                }
            }
            () = sleep_until(deadline) => {
                if let Some(flow) = &mut flow {
                    flow.handle_timeout(std::time::Instant::now());
                }
            }
            () = interrupt.recv() => {
                println!("interrupted");
                match &mut flow {
                    Some(flow) => flow.interrupted(),
                    None => break PortalEnd::Interrupted,
                }
            }
        }
        if let Some(end) = flow.as_mut().and_then(|flow| perform(&agent, flow)) {
            break end;
        }
    };
    agent.stop().await;
    // The last lines: media stopped, a finished recording.
    while let Some(event) = events.recv().await {
        record(&event);
        println!("{}", describe(&event));
    }
    end
}

/// Whether a status ends `portal register`: a server refused.
fn refused(status: &Status) -> bool {
    matches!(status, Status::Failed(failures)
        if failures.iter().any(|(_, _, failure)| matches!(failure, ServerFailure::Refused(_))))
}

fn perform(agent: &PortalAgent, flow: &mut PortalCallFlow) -> Option<PortalEnd> {
    while let Some(step) = flow.poll_step() {
        match step {
            Step::Send(command) => agent.send(command),
            Step::Finish(outcome) => return Some(PortalEnd::Call(outcome)),
            Step::Refused(status) => return Some(PortalEnd::Refused(status)),
        }
    }
    None
}

/// Why the command line goes on without trusting a gateway's certificate.
#[derive(Debug, thiserror::Error)]
enum NotTrusted {
    /// Not accepted on a terminal, or no terminal to ask on.
    #[error(
        "the certificate of {server} (SHA-256 {fingerprint}) is not trusted yet; compare it with \
         the one the administrator gave you, then run again with --accept-fingerprint {fingerprint}"
    )]
    NotAccepted {
        server: String,
        fingerprint: Fingerprint,
    },
    /// Accepted, but the known-gateways store could not keep it.
    #[error(transparent)]
    Store(#[from] TrustError),
}

/// Asks the user on a terminal whether to trust `fingerprint` for
/// `server`, and remembers it if so; without a terminal, says how to
/// accept it.
async fn trust_prompt(
    store: Option<PathBuf>,
    server: &str,
    fingerprint: Fingerprint,
) -> Result<(), NotTrusted> {
    let not_accepted = || NotTrusted::NotAccepted {
        server: server.to_owned(),
        fingerprint,
    };
    let Some(store) = store else {
        return Err(not_accepted());
    };
    if !std::io::stdin().is_terminal() {
        return Err(not_accepted());
    }
    let question = format!(
        "The certificate of {server} is not known yet.\nSHA-256 fingerprint: {fingerprint}\n\
         Compare it with the one the administrator gave you. Trust it? [y/N] "
    );
    let answer = tokio::task::spawn_blocking(move || {
        let mut stderr = std::io::stderr();
        let _ = stderr.write_all(question.as_bytes());
        let _ = stderr.flush();
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line).map(|_| line)
    })
    .await;
    match answer {
        Ok(Ok(line)) if matches!(line.trim(), "y" | "Y" | "yes") => {
            Ok(KnownGateways::new(store).remember(server, fingerprint)?)
        }
        _ => Err(not_accepted()),
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests;
