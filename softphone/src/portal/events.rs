//! The session's server-sent event stream (`GET /api/v1/events`) as a task:
//! parsed into [`shared::portal::Event`]s, reconnected with backoff when it
//! breaks, ended when the gateway says the session is over.
//!
//! Malformed data is reported and skipped, never a panic: the stream goes
//! on. The task stops when its receiver is dropped.

use std::time::Duration;

use eventsource_stream::{EventStreamError, Eventsource};
use futures_util::StreamExt;
use shared::portal::{ErrorCode, Event};
use shared::secret::Secret;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::client::{ClientError, PortalClient};

/// What the stream task reports.
#[derive(Debug, Clone)]
pub enum StreamEvent {
    /// The stream is open (again): the first events describe the current
    /// registration and call.
    Connected,
    Event(Event),
    /// An event that could not be read; skipped.
    Malformed(MalformedEvent),
    /// The stream broke; it is reopened after a backoff.
    Disconnected(ClientError),
    /// The gateway refused the stream (the session is over): no reopening.
    Ended(ClientError),
}

/// Delays between reopening attempts: doubling from `first` up to `max`,
/// back to `first` once a stream opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    pub first: Duration,
    pub max: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            first: Duration::from_millis(500),
            max: Duration::from_secs(8),
        }
    }
}

/// A running event stream task; stops when dropped.
#[derive(Debug)]
pub struct EventStream {
    task: JoinHandle<()>,
}

impl Drop for EventStream {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl EventStream {
    /// Opens the stream of the session `token` through `client`.
    pub fn spawn(
        client: PortalClient,
        token: Secret,
        backoff: Backoff,
    ) -> (Self, mpsc::UnboundedReceiver<StreamEvent>) {
        let (events, receiver) = mpsc::unbounded_channel();
        let task = tokio::spawn(run(client, token, backoff, events));
        (Self { task }, receiver)
    }
}

async fn run(
    client: PortalClient,
    token: Secret,
    backoff: Backoff,
    events: mpsc::UnboundedSender<StreamEvent>,
) {
    let mut delay = backoff.first;
    loop {
        let broke = match client.open_events(&token).await {
            Ok(response) => {
                delay = backoff.first;
                if events.send(StreamEvent::Connected).is_err() {
                    return;
                }
                let mut stream = response.bytes_stream().eventsource();
                loop {
                    let report = match stream.next().await {
                        Some(Ok(sse)) => match parse(&sse.event, &sse.data) {
                            Ok(event) => StreamEvent::Event(event),
                            Err(reason) => StreamEvent::Malformed(reason),
                        },
                        Some(Err(EventStreamError::Transport(error))) => {
                            break client.transport(&error);
                        }
                        Some(Err(EventStreamError::Utf8(error))) => {
                            break client.protocol(&format!("event stream: {error}"));
                        }
                        Some(Err(EventStreamError::Parser(error))) => {
                            break client.protocol(&format!("event stream: {error}"));
                        }
                        None => break client.protocol("the event stream ended"),
                    };
                    if events.send(report).is_err() {
                        return;
                    }
                }
            }
            Err(error) if session_over(&error) => {
                let _ = events.send(StreamEvent::Ended(error));
                return;
            }
            Err(error) => error,
        };
        if events.send(StreamEvent::Disconnected(broke)).is_err() {
            return;
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(backoff.max);
    }
}

/// Whether the gateway refused the stream for good.
fn session_over(error: &ClientError) -> bool {
    matches!(
        error,
        ClientError::Api { error, .. }
            if matches!(error.code, ErrorCode::Unauthorized | ErrorCode::WrongClientKind)
    ) || matches!(error, ClientError::Trust(_))
}

/// Why one server-sent event could not be taken in.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MalformedEvent {
    /// Its data is not an event of the API.
    #[error("event {name:?}: {reason}")]
    NotAnEvent { name: String, reason: String },
    /// Its `event:` name and its JSON type disagree.
    #[error("event {name:?} carries a {carries:?} event")]
    NameMismatch { name: String, carries: &'static str },
}

/// One SSE event: its JSON, whose type must match the `event:` name when
/// there is one.
pub fn parse(name: &str, data: &str) -> Result<Event, MalformedEvent> {
    let event = Event::from_data(data).map_err(|error| MalformedEvent::NotAnEvent {
        name: name.to_owned(),
        reason: error.to_string(),
    })?;
    if !name.is_empty() && name != "message" && name != event.name() {
        return Err(MalformedEvent::NameMismatch {
            name: name.to_owned(),
            carries: event.name(),
        });
    }
    Ok(event)
}

#[cfg(test)]
mod tests {
    use shared::portal::RegistrationState;

    use super::*;

    #[test]
    fn events_parse_and_malformed_ones_are_errors() {
        let event = parse(
            "registration",
            r#"{"type":"registration","state":"registered"}"#,
        )
        .expect("an event");
        assert_eq!(
            event,
            Event::Registration {
                state: RegistrationState::Registered,
                reason: None
            }
        );
        assert!(parse("call", r#"{"type":"registration","state":"registered"}"#).is_err());
        assert!(parse("call", "{\"type\":\"call\"").is_err());
        assert!(parse("call", "\u{0}").is_err());
        let reason = parse("logged_out", "[]").expect_err("not an object");
        assert!(reason.to_string().starts_with("event \"logged_out\""));
        assert_eq!(
            parse("call", r#"{"type":"registration","state":"registered"}"#),
            Err(MalformedEvent::NameMismatch {
                name: "call".to_owned(),
                carries: "registration"
            })
        );
    }
}
