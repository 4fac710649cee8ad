//! The agent's loop: it wakes on a command, a finished request, an event
//! of the stream, a media report or a deadline, and keeps the selection,
//! the registration in use, the session, the stream and the media in step.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use shared::portal::{CallState, CallView, Event, RegistrationState};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::jobs::{self, Credentials, Done, Registered};
use super::{AgentCommand, AgentEvent, AgentTimers};
use crate::media::call::{MediaReport, Peer};
use crate::media::{MediaPort, StreamTarget};
use crate::portal::client::{CallRequest, ClientError, PortalClient, SessionInfo};
use crate::portal::events::{EventStream, StreamEvent};
use crate::portal::selection::{Action, AttemptId, Selection, ServerFailure};
use crate::portal::settings::{PortalSettings, ServerAddress};
use crate::portal::trust::TrustError;

/// How long logging out may take when stopping.
const LOGOUT_PATIENCE: Duration = Duration::from_secs(2);

/// How long the media of an ending call may take to stop and report.
const MEDIA_STOP_PATIENCE: Duration = Duration::from_secs(3);

/// What woke the agent.
enum Wake {
    Command(Option<AgentCommand>),
    Done(Done),
    Stream(StreamEvent),
    Media(MediaReport),
    Timer,
}

/// The registration in use.
struct InUse {
    attempt: AttemptId,
    client: PortalClient,
}

pub(super) struct Agent {
    settings: PortalSettings,
    credentials: Credentials,
    timers: AgentTimers,
    selection: Selection,
    media: MediaPort,
    bind: Option<IpAddr>,
    /// The attempt under way.
    attempt: Option<AttemptId>,
    attempt_task: Option<JoinHandle<()>>,
    session: Option<SessionInfo>,
    refresh_at: Option<Instant>,
    registered: Option<InUse>,
    stream: Option<(EventStream, mpsc::UnboundedReceiver<StreamEvent>)>,
    stream_down_since: Option<Instant>,
    events: mpsc::UnboundedSender<AgentEvent>,
    done: mpsc::UnboundedSender<Done>,
    finished: mpsc::UnboundedReceiver<Done>,
    /// Media started and its last figures (`Stopped`) not passed on yet:
    /// media stopped just before shutdown still reports them.
    figures_owed: bool,
}

impl Agent {
    pub(super) fn new(
        settings: PortalSettings,
        timers: AgentTimers,
        media: MediaPort,
        events: mpsc::UnboundedSender<AgentEvent>,
    ) -> Self {
        let (done, finished) = mpsc::unbounded_channel();
        let selection = Selection::new(
            settings.wan.clone(),
            settings.lan.clone(),
            settings.flags,
            settings.network,
            timers.selection,
            Instant::now().into_std(),
        );
        Self {
            credentials: Credentials {
                user: settings.user.clone(),
                password: settings.password.clone(),
                app: settings.app.clone(),
            },
            bind: settings.bind,
            settings,
            timers,
            selection,
            media,
            attempt: None,
            attempt_task: None,
            session: None,
            refresh_at: None,
            registered: None,
            stream: None,
            stream_down_since: None,
            events,
            done,
            finished,
            figures_owed: false,
        }
    }

    pub(super) async fn run(
        mut self,
        mut commands: mpsc::UnboundedReceiver<AgentCommand>,
        mut reports: mpsc::UnboundedReceiver<MediaReport>,
    ) {
        loop {
            self.drain_selection().await;
            let deadline = self.deadline();
            let wake = tokio::select! {
                command = commands.recv() => Wake::Command(command),
                Some(finished) = self.finished.recv() => Wake::Done(finished),
                Some(event) = next_stream_event(&mut self.stream) => Wake::Stream(event),
                Some(report) = reports.recv() => Wake::Media(report),
                () = sleep_until(deadline) => Wake::Timer,
            };
            match wake {
                Wake::Command(None | Some(AgentCommand::Stop)) => break,
                Wake::Command(Some(command)) => self.command(command),
                Wake::Done(finished) => self.finished(finished),
                Wake::Stream(event) => self.stream_event(event),
                Wake::Media(report) => {
                    self.owe_figures(&report);
                    self.emit(AgentEvent::Media(report));
                }
                Wake::Timer => self.timeout(),
            }
        }
        self.shutdown(&mut reports).await;
    }

    fn now() -> std::time::Instant {
        Instant::now().into_std()
    }

    fn owe_figures(&mut self, report: &MediaReport) {
        match report {
            MediaReport::Started { .. } => self.figures_owed = true,
            MediaReport::Stopped(_) => self.figures_owed = false,
            _ => {}
        }
    }

    fn emit(&self, event: AgentEvent) {
        // Events carry no secret (the session token stays in the driver).
        tracing::debug!(?event, "portal agent");
        let _ = self.events.send(event);
    }

    /// The earliest of the selection's, the refresh's and the stream's
    /// deadlines.
    fn deadline(&self) -> Option<Instant> {
        let selection = self.selection.poll_timeout().map(Instant::from_std);
        let stream = self
            .stream_down_since
            .map(|since| since + self.timers.stream_grace);
        [selection, self.refresh_at, stream]
            .into_iter()
            .flatten()
            .min()
    }

    /// Shows every status change and carries out every action.
    async fn drain_selection(&mut self) {
        loop {
            while let Some(change) = self.selection.poll_event() {
                self.emit(AgentEvent::Status(change));
            }
            match self.selection.poll_action() {
                Some(Action::Register {
                    attempt, server, ..
                }) => self.start_attempt(attempt, server).await,
                Some(Action::Unregister) => self.unregister(),
                None => break,
            }
        }
    }

    async fn start_attempt(&mut self, attempt: AttemptId, server: ServerAddress) {
        if let Some(task) = self.attempt_task.take() {
            task.abort();
        }
        // The old connection's address may be gone: a new stream follows
        // the new registration.
        self.stream = None;
        self.stream_down_since = None;
        self.attempt = Some(attempt);
        let bind = self.bind.unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
        if bind != self.media.bind_address()
            && let Err(error) = self.media.rebind(bind).await
        {
            self.emit(AgentEvent::Notice(format!(
                "media: cannot move to {bind}: {error}"
            )));
        }
        let client = match PortalClient::with_capture(
            &server,
            self.bind,
            &self.settings.trust,
            self.settings.capture.clone(),
        ) {
            Ok(client) => client,
            Err(error) => {
                self.attempt = None;
                self.selection.failed(
                    Self::now(),
                    attempt,
                    ServerFailure::Refused(error.to_string()),
                );
                return;
            }
        };
        let rtp_port = match self.media.local_rtp() {
            Ok(local) => local.port(),
            Err(error) => {
                self.emit(AgentEvent::Notice(format!("media socket: {error}")));
                0
            }
        };
        let job = jobs::register(
            client,
            self.credentials.clone(),
            self.session.clone(),
            self.media.advertised(),
            self.media.bind_address(),
            rtp_port,
        );
        let done = self.done.clone();
        self.attempt_task = Some(tokio::spawn(async move {
            let result = job.await;
            let _ = done.send(Done::Attempt { attempt, result });
        }));
    }

    fn unregister(&mut self) {
        if let Some(task) = self.attempt_task.take() {
            task.abort();
        }
        self.attempt = None;
        self.stream = None;
        self.stream_down_since = None;
        self.stop_media();
        if let (Some(in_use), Some(session)) = (self.registered.take(), &self.session) {
            // Best effort: on mobile data the request may not get through;
            // the gateway then ends the registration without its stream.
            let token = session.token.clone();
            tokio::spawn(async move {
                let _ = in_use.client.unregister(&token).await;
            });
        }
    }

    fn command(&mut self, command: AgentCommand) {
        let now = Self::now();
        match command {
            AgentCommand::SetNetwork { network, bind } => {
                let moved = bind != self.bind;
                self.bind = bind;
                if network == self.selection.network() {
                    if moved {
                        self.selection.address_changed(now);
                    }
                } else {
                    self.selection.set_network(now, network);
                }
            }
            AgentCommand::SetFlags(flags) => self.selection.set_flags(now, flags),
            AgentCommand::Retry => self.selection.retry(now),
            AgentCommand::Call(request) => self.call_request(request),
            AgentCommand::Stop => {}
        }
    }

    fn call_request(&mut self, request: CallRequest) {
        let (Some(in_use), Some(session)) = (&self.registered, &self.session) else {
            let status = self
                .selection
                .status()
                .map_or_else(|| "Not registered".to_owned(), ToString::to_string);
            self.emit(AgentEvent::RequestFailed {
                request,
                reason: status,
            });
            return;
        };
        let job = jobs::request(in_use.client.clone(), session.token.clone(), request);
        let done = self.done.clone();
        tokio::spawn(async move {
            let _ = done.send(job.await);
        });
    }

    fn finished(&mut self, finished: Done) {
        let now = Self::now();
        match finished {
            Done::Attempt { attempt, result } if self.attempt == Some(attempt) => {
                self.attempt = None;
                self.attempt_task = None;
                match result {
                    Ok(registered) => self.registered(attempt, registered),
                    Err(error) => {
                        if let ClientError::Trust(TrustError::Unknown {
                            server,
                            fingerprint,
                        }) = &error
                        {
                            self.emit(AgentEvent::CertificateUnknown {
                                server: server.clone(),
                                fingerprint: *fingerprint,
                            });
                        }
                        if let ClientError::Trust(TrustError::Changed {
                            server,
                            expected,
                            found,
                            ..
                        }) = &error
                        {
                            self.emit(AgentEvent::CertificateChanged {
                                server: server.clone(),
                                expected: *expected,
                                found: *found,
                            });
                        }
                        if matches!(&error, ClientError::Api { .. }) {
                            // A refused login or registration: the session
                            // may be what is wrong; the next try logs in.
                            self.session = None;
                            self.refresh_at = None;
                        }
                        self.selection.failed(now, attempt, failure(&error));
                    }
                }
            }
            Done::Attempt { .. } => {} // an abandoned attempt
            Done::Refreshed { token, result } => {
                let current = self
                    .session
                    .as_ref()
                    .is_some_and(|session| session.token.expose() == token.expose());
                if !current {
                    return;
                }
                match result {
                    Ok(session) => {
                        self.emit(AgentEvent::SessionRefreshed {
                            expires_in: session.expires_in,
                        });
                        self.refresh_at = Some(refresh_time(&session));
                        self.session = Some(session);
                    }
                    Err(error) => {
                        self.emit(AgentEvent::Notice(format!("session refresh: {error}")));
                        if matches!(&error, ClientError::Api { .. }) {
                            self.session = None;
                            self.refresh_at = None;
                            self.lost();
                        } else {
                            self.refresh_at = Some(Instant::now() + RETRY_REFRESH);
                        }
                    }
                }
            }
            Done::Request { request, result } => {
                if let Err(error) = result {
                    self.emit(AgentEvent::RequestFailed {
                        request,
                        reason: error.to_string(),
                    });
                }
            }
        }
    }

    fn registered(&mut self, attempt: AttemptId, registered: Registered) {
        let Registered {
            client,
            session,
            logged_in,
            answer,
            rtp,
        } = registered;
        if logged_in || self.refresh_at.is_none() {
            self.refresh_at = Some(refresh_time(&session));
        }
        let stream = EventStream::spawn(client.clone(), session.token.clone(), self.timers.backoff);
        self.stream = Some(stream);
        self.emit(AgentEvent::Registered {
            server: client.server().clone(),
            rtp,
            internet: answer.internet,
            logged_in,
        });
        self.session = Some(session);
        self.registered = Some(InUse { attempt, client });
        self.selection.registered(Self::now(), attempt);
    }

    /// The registration in use is gone: register again.
    fn lost(&mut self) {
        if let Some(in_use) = self.registered.take() {
            self.stream = None;
            self.stream_down_since = None;
            self.selection
                .failed(Self::now(), in_use.attempt, ServerFailure::NoAnswer);
        }
    }

    fn stream_event(&mut self, event: StreamEvent) {
        match event {
            StreamEvent::Connected => {
                self.stream_down_since = None;
                self.emit(AgentEvent::StreamOpen);
            }
            StreamEvent::Event(Event::Registration { state, reason }) => {
                if state == RegistrationState::Unregistered {
                    self.emit(AgentEvent::Notice(format!(
                        "the gateway ended the VoIP registration: {}",
                        reason.as_deref().unwrap_or("no reason given")
                    )));
                    self.stop_media();
                    self.lost();
                }
            }
            StreamEvent::Event(Event::Call(view)) => self.call_changed(view),
            StreamEvent::Event(Event::LoggedOut { reason }) => {
                self.emit(AgentEvent::LoggedOut(reason.clone()));
                self.session = None;
                self.refresh_at = None;
                self.stop_media();
                self.registered = None;
                self.stream = None;
                self.stream_down_since = None;
                self.selection.logged_out(Self::now(), reason);
            }
            StreamEvent::Malformed(reason) => {
                self.emit(AgentEvent::Notice(format!(
                    "malformed event skipped: {reason}"
                )));
            }
            StreamEvent::Disconnected(error) => {
                self.stream_down_since.get_or_insert_with(Instant::now);
                self.emit(AgentEvent::Notice(format!("event stream: {error}")));
            }
            StreamEvent::Ended(error) => {
                self.emit(AgentEvent::Notice(format!("event stream refused: {error}")));
                self.session = None;
                self.refresh_at = None;
                self.lost();
            }
        }
    }

    /// Media runs while connected, towards where the gateway says.
    fn call_changed(&mut self, view: CallView) {
        let target = match (view.state, view.media) {
            (CallState::Connected, Some(media)) => Some(StreamTarget {
                peer: Peer {
                    rtp: media.rtp,
                    rtcp: SocketAddr::new(media.rtp.ip(), media.rtcp_port),
                },
                payload_type: media.payload_type,
                ptime_ms: media.ptime_ms,
            }),
            _ => None,
        };
        let keeps_media = matches!(
            view.state,
            CallState::Dialing | CallState::Calling | CallState::Ringing
        );
        if (target.is_some() || !keeps_media)
            && let Err(error) = self.media.play(target)
        {
            self.emit(AgentEvent::Notice(format!("media: {error}")));
        }
        self.emit(AgentEvent::Call(view));
    }

    fn stop_media(&mut self) {
        let _ = self.media.play(None);
    }

    fn timeout(&mut self) {
        let now = Instant::now();
        self.selection.handle_timeout(now.into_std());
        if self.refresh_at.is_some_and(|at| now >= at) {
            self.refresh_at = None;
            if let (Some(in_use), Some(session)) = (&self.registered, &self.session) {
                let job = jobs::refresh(in_use.client.clone(), session.token.clone());
                let done = self.done.clone();
                tokio::spawn(async move {
                    let _ = done.send(job.await);
                });
            }
        }
        if self
            .stream_down_since
            .is_some_and(|since| now >= since + self.timers.stream_grace)
        {
            self.emit(AgentEvent::Notice(
                "event stream down too long: registering again".to_owned(),
            ));
            self.lost();
        }
    }

    async fn shutdown(mut self, reports: &mut mpsc::UnboundedReceiver<MediaReport>) {
        if let Some(task) = self.attempt_task.take() {
            task.abort();
        }
        self.stream = None;
        let running = self.media.is_running();
        self.stop_media();
        if let (Some(in_use), Some(session)) = (&self.registered, &self.session) {
            let _ =
                tokio::time::timeout(LOGOUT_PATIENCE, in_use.client.logout(&session.token)).await;
        }
        drop(self.media);
        // The last figures (and a finished recording) come as media stops.
        if !running && !self.figures_owed {
            return;
        }
        while let Ok(Some(report)) = tokio::time::timeout(MEDIA_STOP_PATIENCE, reports.recv()).await
        {
            let stopped = matches!(report, MediaReport::Stopped(_));
            let _ = self.events.send(AgentEvent::Media(report));
            if stopped {
                break;
            }
        }
    }
}

/// After a failed refresh that may succeed later (no answer).
const RETRY_REFRESH: Duration = Duration::from_secs(10);

/// Refresh at 80 % of the session's life.
fn refresh_time(session: &SessionInfo) -> Instant {
    Instant::now() + session.expires_in.mul_f64(0.8)
}

/// How a failed attempt counts for the selection.
fn failure(error: &ClientError) -> ServerFailure {
    match error {
        ClientError::Unreachable { .. } => ServerFailure::NoAnswer,
        other => ServerFailure::Refused(other.to_string()),
    }
}

async fn next_stream_event(
    stream: &mut Option<(EventStream, mpsc::UnboundedReceiver<StreamEvent>)>,
) -> Option<StreamEvent> {
    match stream {
        Some((_, events)) => events.recv().await,
        None => std::future::pending().await,
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}
