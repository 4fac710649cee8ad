//! The myPortal to go VoIP client as a tokio task: it owns the server
//! [`Selection`](super::selection::Selection), the HTTPS
//! [`PortalClient`](super::client::PortalClient) of the server in use, the
//! session's event stream and the call's media, takes [`AgentCommand`]s,
//! and reports [`AgentEvent`]s over a channel (to the CLI, the GUI, or a
//! test).
//!
//! On a network change it moves the media sockets to the new local
//! address and registers again through the right server in the same
//! session: the call in progress goes on, the gateway re-anchors its media
//! (docs/portal-api.md, VoIP registration).

mod driver;
mod jobs;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use shared::media::Codec;
use shared::portal::CallView;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::client::CallRequest;
use super::events::Backoff;
use super::selection::{SelectionTimers, StatusChange};
use super::settings::{Network, PortalSettings, ServerAddress, VoipFlags};
use super::trust::Fingerprint;
use crate::media::call::MediaReport;
use crate::media::{MediaOptions, MediaPort};
use driver::Agent;

/// What the owner asks of the agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AgentCommand {
    /// The device is now on `network`, with `bind` as its local address
    /// (`None`: chosen by the system).
    SetNetwork {
        network: Network,
        bind: Option<IpAddr>,
    },
    /// The user changed the VoIP flags.
    SetFlags(VoipFlags),
    /// Try to register again now, after every server failed (e.g. once the
    /// user accepted the gateway's certificate).
    Retry,
    /// Dial, answer, reject, hang up, hold, retrieve, send DTMF.
    Call(CallRequest),
    /// Log out and end the task.
    Stop,
}

/// What the agent reports.
#[derive(Debug, Clone)]
pub enum AgentEvent {
    /// The status field changed; `elapsed` is the (re-)registration time.
    Status(StatusChange),
    /// Registered through `server`, announcing `rtp`.
    Registered {
        server: ServerAddress,
        rtp: SocketAddr,
        /// Whether the gateway sees the app as coming over the internet.
        internet: bool,
        /// Whether this registration began a new session (a login).
        logged_in: bool,
    },
    /// Trust on first use: `server` shows a certificate not known yet.
    CertificateUnknown {
        server: String,
        fingerprint: Fingerprint,
    },
    /// Trust on first use: `server`, known with the `expected` certificate,
    /// now shows another one; refused, and never accepted from here.
    CertificateChanged {
        server: String,
        expected: Fingerprint,
        found: Fingerprint,
    },
    /// The session's event stream is open (again).
    StreamOpen,
    /// The session was refreshed; it now lasts `expires_in`.
    SessionRefreshed { expires_in: Duration },
    /// The line's call changed.
    Call(CallView),
    /// The call's media.
    Media(MediaReport),
    /// A call request was refused or failed, in words.
    RequestFailed {
        request: CallRequest,
        reason: String,
    },
    /// The gateway ended the session.
    LoggedOut(String),
    /// Anything else worth a line (event stream trouble, malformed events).
    Notice(String),
}

/// The agent's timers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AgentTimers {
    pub selection: SelectionTimers,
    /// Reopening the event stream.
    pub backoff: Backoff,
    /// An event stream down this long means the registration is gone (the
    /// gateway ends it after 30 s without a stream): register again.
    pub stream_grace: Duration,
}

impl Default for AgentTimers {
    fn default() -> Self {
        Self {
            selection: SelectionTimers::default(),
            backoff: Backoff::default(),
            stream_grace: Duration::from_secs(30),
        }
    }
}

/// A running agent.
#[derive(Debug)]
pub struct PortalAgent {
    commands: mpsc::UnboundedSender<AgentCommand>,
    task: JoinHandle<()>,
}

impl PortalAgent {
    /// Binds the media sockets and starts: the first registration attempt
    /// (or the reason there is none) follows at once.
    pub async fn spawn(
        settings: PortalSettings,
        media: MediaOptions,
        timers: AgentTimers,
    ) -> std::io::Result<(Self, mpsc::UnboundedReceiver<AgentEvent>)> {
        let mut media = media;
        // The portal personality is G.711 only (guide 1.3.3).
        media.codecs = vec![Codec::Pcma, Codec::Pcmu];
        media.bind = settings.bind.unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
        let (reports, report_rx) = mpsc::unbounded_channel();
        let media = MediaPort::bind(media, reports).await?;
        let (events, event_rx) = mpsc::unbounded_channel();
        let (commands, command_rx) = mpsc::unbounded_channel();
        let agent = Agent::new(settings, timers, media, events);
        let task = tokio::spawn(agent.run(command_rx, report_rx));
        Ok((Self { commands, task }, event_rx))
    }

    /// Sends a command (ignored once the agent has stopped).
    pub fn send(&self, command: AgentCommand) {
        let _ = self.commands.send(command);
    }

    /// Logs out, stops the media and waits for the task to end.
    pub async fn stop(self) {
        let _ = self.commands.send(AgentCommand::Stop);
        let _ = self.task.await;
    }
}

#[cfg(test)]
mod tests;
