//! One emulated myPortal to go app of the load: the softphone's own agent
//! ([`PortalAgent`]: login by UC password proof, VoIP registration, the
//! event stream, G.711 media of silence frames) and the line as the app
//! shows it, built from the agent's events. Like [`super::phone::Phone`],
//! the load asks for something and waits until the line shows it.

use std::time::{Duration, Instant};

use shared::media::StreamStats;
use shared::portal::{CallState, CallView};
use tokio::sync::mpsc::UnboundedReceiver;

use super::party::NotReady;
use super::stats::Tally;
use crate::audio::NullBackend;
use crate::media::MediaOptions;
use crate::media::call::MediaReport;
use crate::portal::agent::{AgentCommand, AgentEvent, AgentTimers, PortalAgent};
use crate::portal::client::CallRequest;
use crate::portal::selection::{ServerFailure, Status};
use crate::portal::settings::PortalSettings;

/// How long a stopped app's media may take to report its last figures.
const MEDIA_STOP_PATIENCE: Duration = Duration::from_secs(5);

/// A running app and its line.
#[derive(Debug)]
pub struct App {
    pub number: String,
    /// Taken when the app stops.
    agent: Option<PortalAgent>,
    events: UnboundedReceiver<AgentEvent>,
    /// The line as the gateway's last call event showed it.
    pub line: CallView,
    /// Call views seen since the last [`App::mark`]: the event stream's
    /// first view after a request may still show the line as it was.
    views_since_mark: usize,
    registered: bool,
    stream_open: bool,
    /// The last status that is not a registration, in words.
    last_trouble: Option<String>,
    /// Calls that came to media (connected, with a media target).
    media_started: usize,
    /// The final figures of every call's media stream.
    streams: Vec<StreamStats>,
    /// Requests the gateway refused and registrations lost, by reason.
    pub lost: Tally,
}

impl App {
    /// Binds the media sockets and starts logging in. Call it on the tokio
    /// runtime.
    pub async fn start(settings: PortalSettings) -> std::io::Result<Self> {
        let number = settings.user.clone();
        let media = MediaOptions::g711(Box::new(NullBackend));
        let (agent, events) = PortalAgent::spawn(settings, media, AgentTimers::default()).await?;
        Ok(Self {
            number,
            agent: Some(agent),
            events,
            line: CallView {
                state: CallState::Idle,
                peer: None,
                reason: None,
                media: None,
            },
            views_since_mark: 0,
            registered: false,
            stream_open: false,
            last_trouble: None,
            media_started: 0,
            streams: Vec::new(),
            lost: Tally::default(),
        })
    }

    /// Waits for the VoIP registration and the open event stream (the app
    /// then learns of calls); by `deadline`, or why not in words: the
    /// gateway's refusal, the certificate's, or the last status. When
    /// registered: the moment the registration's answer came.
    pub async fn until_ready(&mut self, deadline: Instant) -> Result<Instant, NotReady> {
        let mut registered_at = None;
        let wait = async {
            while !(self.registered && self.stream_open) {
                let Some(event) = self.events.recv().await else {
                    return Err(NotReady::AppStopped);
                };
                if let AgentEvent::Status(change) = &event
                    && let Some(refusal) = refusal(&change.status)
                {
                    return Err(NotReady::Refused(refusal));
                }
                self.observe(event);
                if self.registered && registered_at.is_none() {
                    registered_at = Some(Instant::now());
                }
            }
            Ok(())
        };
        match tokio::time::timeout_at(deadline.into(), wait).await {
            Ok(Ok(())) => Ok(registered_at.unwrap_or_else(Instant::now)),
            Ok(Err(why)) => Err(why),
            Err(_) if self.registered => Err(NotReady::NoEventStream),
            Err(_) => Err(NotReady::NotRegistered {
                trouble: self.last_trouble.clone(),
            }),
        }
    }

    /// Asks the line to do `request` (dial, answer, hang up); what follows
    /// comes as call events.
    pub fn request(&mut self, request: CallRequest) {
        self.mark();
        if let Some(agent) = &self.agent {
            agent.send(AgentCommand::Call(request));
        }
    }

    /// From now on, [`App::until`] looks only at call views that came after
    /// this.
    pub fn mark(&mut self) {
        self.views_since_mark = 0;
    }

    /// Applies the agent's events until the line satisfies `done` in a call
    /// view that came after the last mark; when it does, or `None` if not
    /// by `deadline` (or the agent ended).
    pub async fn until(
        &mut self,
        deadline: Instant,
        done: impl Fn(&CallView) -> bool,
    ) -> Option<Instant> {
        let wait = async {
            while self.views_since_mark == 0 || !done(&self.line) {
                let event = self.events.recv().await?;
                self.observe(event);
            }
            Some(Instant::now())
        };
        tokio::time::timeout_at(deadline.into(), wait)
            .await
            .ok()
            .flatten()
    }

    /// Waits until the line is idle again (after "ended" or at once if it
    /// already is).
    pub async fn until_idle(&mut self, deadline: Instant) -> Option<Instant> {
        if self.line.state == CallState::Idle {
            return Some(Instant::now());
        }
        self.views_since_mark = self.views_since_mark.max(1);
        self.until(deadline, |line| line.state == CallState::Idle)
            .await
    }

    /// Applies every event already queued without waiting.
    pub fn catch_up(&mut self) {
        while let Ok(event) = self.events.try_recv() {
            self.observe(event);
        }
    }

    /// Logs out, stops the media and waits for the agent; the final
    /// figures of every call's media stream.
    pub async fn stop(mut self) -> Vec<StreamStats> {
        // The last call's figures come after its end: the agent, stopped
        // now, would not pass them on.
        let last_figures = async {
            while self.streams.len() < self.media_started {
                let Some(event) = self.events.recv().await else {
                    return;
                };
                self.observe(event);
            }
        };
        let _ = tokio::time::timeout(MEDIA_STOP_PATIENCE, last_figures).await;
        if let Some(agent) = self.agent.take() {
            agent.stop().await;
        }
        let rest = async {
            while let Some(event) = self.events.recv().await {
                self.observe(event);
            }
        };
        let _ = tokio::time::timeout(MEDIA_STOP_PATIENCE, rest).await;
        self.streams
    }

    fn observe(&mut self, event: AgentEvent) {
        match event {
            AgentEvent::Registered { .. } => self.registered = true,
            AgentEvent::StreamOpen => self.stream_open = true,
            AgentEvent::Status(change) => match change.status {
                Status::Registered { .. } | Status::Registering { .. } => {}
                status => {
                    if self.registered {
                        self.lost.add(format!("registration lost: {status}"));
                    }
                    self.registered = false;
                    self.stream_open = false;
                    self.last_trouble = Some(status.to_string());
                }
            },
            AgentEvent::Call(view) => {
                let has_media =
                    |line: &CallView| line.state == CallState::Connected && line.media.is_some();
                if has_media(&view) && !has_media(&self.line) {
                    self.media_started += 1;
                }
                self.line = view;
                self.views_since_mark += 1;
            }
            AgentEvent::Media(MediaReport::Stopped(stats)) => self.streams.push(stats),
            AgentEvent::RequestFailed { request, reason } => {
                self.lost
                    .add(format!("{} refused: {reason}", request_name(&request)));
            }
            AgentEvent::LoggedOut(reason) => {
                self.registered = false;
                self.stream_open = false;
                self.lost.add(format!("logged out: {reason}"));
            }
            _ => {}
        }
    }
}

/// A status that ends the wait for a registration: a server refused (the
/// gateway in its words, or its certificate), VoIP unavailable, logged
/// out; the cause in words, without the server's address (the same
/// cause from every app counts once).
fn refusal(status: &Status) -> Option<String> {
    match status {
        Status::Failed(failures) => failures.iter().find_map(|(_, _, failure)| match failure {
            ServerFailure::Refused(reason) => Some(format!("refused: {reason}")),
            ServerFailure::NoAnswer => None,
        }),
        Status::Unavailable(_) | Status::LoggedOut(_) => Some(status.to_string()),
        Status::Registering { .. } | Status::Registered { .. } => None,
    }
}

fn request_name(request: &CallRequest) -> &'static str {
    match request {
        CallRequest::Dial(_) => "dial",
        CallRequest::Answer => "answer",
        CallRequest::Reject => "reject",
        CallRequest::Hangup => "hang-up",
        CallRequest::Hold => "hold",
        CallRequest::Retrieve => "retrieve",
        CallRequest::Dtmf(_) => "DTMF",
    }
}
