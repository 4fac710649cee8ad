//! The event loops of the headless commands: a running [`HfaClient`], its
//! events printed one line each, and (for calls) the [`CallFlow`] deciding
//! what to send and when to stop. The decisions live in `call_flow`, so this
//! module only moves events, messages and timers.

use shared::hfa::DeclineCause;
use shared::hfa_engine::phone::{PhoneEvent, PhoneState, PhoneTimers};
use tokio::time::Instant;

use super::call_flow::{Action, CallFlow, Outcome, Plan};
use super::client::{now, sleep_until};
use super::{HfaAccount, HfaClient};
use crate::feedback::CallLog;
use crate::media::MediaOptions;
use crate::media::call::MediaReport;

/// How a session ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionEnd {
    /// Interrupted while registering or registered (`hfa register`).
    Interrupted,
    /// The call flow finished.
    Call(Outcome),
    /// The gateway refused the registration.
    Declined(DeclineCause),
    /// The client stopped by itself (its task ended).
    ClientGone,
}

/// Registers and keeps the registration until Ctrl-C or a decline,
/// printing every registration event.
pub async fn register(account: HfaAccount, timers: PhoneTimers) -> SessionEnd {
    let mut interrupt = Interrupt::listen();
    let (client, mut events) = HfaClient::spawn(account, timers);
    let end = loop {
        tokio::select! {
            event = events.recv() => match event {
                Some(event) => {
                    print_event(&event);
                    if let Some(cause) = declined(&event) {
                        break SessionEnd::Declined(cause);
                    }
                }
                None => break SessionEnd::ClientGone,
            },
            () = interrupt.recv() => {
                println!("interrupted: closing the connection");
                break SessionEnd::Interrupted;
            }
        }
    };
    client.stop().await;
    end
}

/// Registers, then places or answers a call as `plan` says, printing every
/// registration event and every change of the phone model.
pub async fn call(
    account: HfaAccount,
    timers: PhoneTimers,
    plan: Plan,
    media: MediaOptions,
) -> SessionEnd {
    let mut interrupt = Interrupt::listen();
    let mut calls = account.call_log.as_ref().map(CallLog::recorder);
    let mut report = |report: MediaReport| {
        if let Some(calls) = calls.as_mut() {
            calls.report(&report);
        }
        println!("{report}");
    };
    let (client, mut events, mut media) =
        match HfaClient::spawn_with_media(account, timers, media).await {
            Ok(started) => started,
            Err(error) => {
                eprintln!("softphone: cannot open the media sockets: {error}");
                return SessionEnd::ClientGone;
            }
        };
    let mut flow = CallFlow::new(plan);
    let end = loop {
        let deadline = flow.poll_timeout().map(Instant::from_std);
        tokio::select! {
            event = events.recv() => match event {
                Some(event) => {
                    if let Err(cause) = on_event(&mut flow, &event) {
                        break SessionEnd::Declined(cause);
                    }
                }
                None => break SessionEnd::ClientGone,
            },
            () = sleep_until(deadline) => flow.handle_timeout(now()),
            Some(media_report) = media.reports.recv() => report(media_report),
            () = interrupt.recv() => {
                println!("interrupted");
                flow.interrupted();
            }
        }
        if let Some(outcome) = perform(&client, &mut flow) {
            break SessionEnd::Call(outcome);
        }
    };
    client.stop().await;
    // The last figures (and a finished recording) come as the media stops.
    while let Ok(Some(media_report)) =
        tokio::time::timeout(MEDIA_STOP_PATIENCE, media.reports.recv()).await
    {
        report(media_report);
    }
    end
}

/// How long the media of an ending call may take to stop and report.
const MEDIA_STOP_PATIENCE: std::time::Duration = std::time::Duration::from_secs(3);

/// Feeds one client event to the flow; `Err` on a decline, which ends the
/// session.
fn on_event(flow: &mut CallFlow, event: &PhoneEvent) -> Result<(), DeclineCause> {
    if let PhoneEvent::Received(message) = event {
        flow.received(now(), message);
        return Ok(());
    }
    print_event(event);
    if let Some(cause) = declined(event) {
        return Err(cause);
    }
    match event {
        PhoneEvent::Registered { .. } => flow.registered(),
        PhoneEvent::ConnectionLost(loss) => flow.connection_lost(&loss.to_string()),
        _ => {}
    }
    Ok(())
}

/// Carries out the flow's actions in order; the outcome if one finishes it.
fn perform(client: &HfaClient, flow: &mut CallFlow) -> Option<Outcome> {
    while let Some(action) = flow.poll_action() {
        match action {
            Action::Send(message) => client.send(message),
            Action::Print(line) => println!("{line}"),
            Action::Finish(outcome) => return Some(outcome),
        }
    }
    None
}

fn declined(event: &PhoneEvent) -> Option<DeclineCause> {
    match event {
        PhoneEvent::StateChanged(PhoneState::Declined { cause }) => Some(*cause),
        _ => None,
    }
}

fn print_event(event: &PhoneEvent) {
    if let Some(line) = describe(event) {
        println!("{line}");
    }
}

/// One line per event a QA script may wait for.
pub(crate) fn describe(event: &PhoneEvent) -> Option<String> {
    match event {
        PhoneEvent::StateChanged(state) => Some(format!("state: {state}")),
        PhoneEvent::Registered { session, system } => Some(format!(
            "registered: session {} with {:?} V{}R{}",
            session.0, system.system, system.major, system.minor
        )),
        PhoneEvent::ConnectionLost(loss) => Some(format!("connection lost: {loss}")),
        PhoneEvent::SoftwareUpdated { from, to } => Some(format!(
            "software updated: {from} -> {to} by the system (connected internally, guide \
             1.3.4); start this phone with --software-version {to} from now on"
        )),
        PhoneEvent::Received(message) => Some(format!("received: {message:?}")),
        PhoneEvent::Connect | PhoneEvent::Disconnect => None,
    }
}

/// Ctrl-C (SIGINT), listened for from the session's start to its end: a
/// fresh `ctrl_c()` per loop turn would miss a signal that arrives between
/// two turns, and the default action would kill the process unannounced.
pub struct Interrupt(Option<tokio::signal::unix::Signal>);

impl Interrupt {
    /// Starts listening for Ctrl-C.
    pub fn listen() -> Self {
        Self(tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt()).ok())
    }

    pub async fn recv(&mut self) {
        match &mut self.0 {
            Some(signal) => {
                signal.recv().await;
            }
            None => std::future::pending().await,
        }
    }
}
