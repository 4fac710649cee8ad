//! The myPortal to go personality's engine: the [`PortalAgent`] (server
//! selection, HTTPS session, event stream, the call's media on the app's
//! sound devices) runs as a task on the tokio runtime, like the HFA engine,
//! never on the UI thread. The UI sends [`PortalCommand`]s; the agent's
//! events reach the UI as [`Event::Portal`] on the app's one event channel.

use tokio::sync::mpsc;

use super::engine::{AppAudio, Event, EventSender, SharedAudio};
use crate::media::MediaOptions;
use crate::media::call::MediaReport;
use crate::portal::PortalSettings;
use crate::portal::agent::{AgentCommand, AgentEvent, AgentTimers, PortalAgent};

/// What the UI asks of the myPortal to go engine.
#[derive(Debug)]
pub enum PortalCommand {
    /// Start the agent with `settings` (replacing a running one).
    Start {
        settings: Box<PortalSettings>,
        timers: AgentTimers,
    },
    /// Pass a command to the running agent.
    Agent(AgentCommand),
    /// Log out and stop the agent.
    Stop,
}

/// What the myPortal to go engine tells the UI.
#[derive(Debug)]
pub enum PortalEvent {
    Agent(Box<AgentEvent>),
    /// The agent could not start; why.
    Failed(String),
}

/// The UI's handle on the myPortal to go engine.
#[derive(Debug)]
pub struct PortalEngine {
    commands: mpsc::UnboundedSender<PortalCommand>,
}

impl PortalEngine {
    /// Starts the engine task on `runtime`; its events go to `ui`.
    pub fn start(runtime: &tokio::runtime::Handle, ui: EventSender, audio: SharedAudio) -> Self {
        let (commands, command_rx) = mpsc::unbounded_channel();
        runtime.spawn(run(command_rx, ui, audio));
        Self { commands }
    }

    pub fn send(&self, command: PortalCommand) {
        let _ = self.commands.send(command);
    }
}

type Running = (PortalAgent, mpsc::UnboundedReceiver<AgentEvent>);

async fn run(
    mut commands: mpsc::UnboundedReceiver<PortalCommand>,
    ui: EventSender,
    audio: SharedAudio,
) {
    let mut running: Option<Running> = None;
    loop {
        tokio::select! {
            command = commands.recv() => match command {
                Some(PortalCommand::Start { settings, timers }) => {
                    if let Some((agent, _)) = running.take() {
                        agent.stop().await;
                    }
                    let backend = AppAudio { shared: audio.clone(), events: ui.clone() };
                    let mut media = MediaOptions::g711(Box::new(backend));
                    media.report_every = super::quality::REPORT_EVERY;
                    match PortalAgent::spawn(*settings, media, timers).await {
                        Ok(agent) => running = Some(agent),
                        Err(error) => {
                            ui.send(Event::Portal(PortalEvent::Failed(format!(
                                "cannot open the media sockets: {error}"
                            ))));
                        }
                    }
                }
                Some(PortalCommand::Agent(command)) => {
                    if let Some((agent, _)) = &running {
                        agent.send(command);
                    }
                }
                Some(PortalCommand::Stop) => {
                    if let Some((agent, _)) = running.take() {
                        agent.stop().await;
                    }
                }
                None => break, // the UI has gone
            },
            event = next_event(running.as_mut()) => match event {
                Some(event) => {
                    if matches!(event, AgentEvent::Media(MediaReport::Stopped(_))) {
                        audio.call_ended();
                    }
                    if !ui.send(Event::Portal(PortalEvent::Agent(Box::new(event)))) {
                        break;
                    }
                }
                None => running = None, // the agent stopped
            },
        }
    }
    if let Some((agent, _)) = running {
        agent.stop().await;
    }
}

/// The running agent's next event; never completes without an agent.
async fn next_event(running: Option<&mut Running>) -> Option<AgentEvent> {
    match running {
        Some((_, events)) => events.recv().await,
        None => std::future::pending().await,
    }
}
