//! `GET /api/v1/events`: the session's server-sent events. The current
//! registration and call come first, then every change; a comment every
//! 15 s keeps NAT bindings open. When the app goes away the stream's guard
//! tells the session's outlet, whose grace period then starts.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Extension, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::stream;
use shared::portal::Event;
use tokio::sync::mpsc;

use super::PortalState;
use super::attachment::Outlet;
use super::error::ApiFailure;
use super::routes::{Peer, bearer, unauthorized};

/// Between keep-alive comments.
pub const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// Closes the stream's subscription when the response is dropped.
struct Guard {
    outlet: Arc<Outlet>,
    id: u64,
}

impl Drop for Guard {
    fn drop(&mut self) {
        self.outlet.unsubscribe(self.id);
    }
}

struct Feed {
    first: VecDeque<Event>,
    events: mpsc::Receiver<Event>,
    _guard: Guard,
}

fn sse(event: &Event) -> SseEvent {
    SseEvent::default()
        .event(event.name())
        .data(event.to_data())
}

pub async fn stream(
    State(state): State<Arc<PortalState>>,
    Extension(peer): Extension<Peer>,
    headers: HeaderMap,
) -> Result<Response, ApiFailure> {
    let token = bearer(&headers)?;
    let now = state.clock.now();
    let outlet = state
        .logins()
        .session(now, token)
        .map(|session| session.outlet.clone())
        .ok_or_else(unauthorized)?;
    let subscription = outlet.subscribe();
    tracing::debug!(peer = %peer.0, "myPortal to go event stream opened");
    let feed = Feed {
        first: subscription.current.into(),
        events: subscription.events,
        _guard: Guard {
            outlet,
            id: subscription.id,
        },
    };
    let events = stream::unfold(feed, |mut feed| async move {
        let event = match feed.first.pop_front() {
            Some(event) => event,
            None => feed.events.recv().await?,
        };
        Some((Ok::<_, Infallible>(sse(&event)), feed))
    });
    Ok(Sse::new(events)
        .keep_alive(KeepAlive::new().interval(KEEP_ALIVE))
        .into_response())
}
