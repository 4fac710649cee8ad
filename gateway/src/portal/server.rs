//! The HTTPS listener: TCP accept, the TLS handshake (bounded in time),
//! then HTTP/1.1 or HTTP/2 by ALPN on the router. A bad TLS client or a
//! misbehaving peer loses its own connection only. Connections are
//! admitted as [`crate::admission`] says: at most [`MAX_CONNECTIONS`],
//! at most [`MAX_UNPROVEN_PER_SOURCE`] not logged in per internet source,
//! and when full the biggest holder's oldest connection that has not
//! logged in is closed to make room, so half-open handshakes by the
//! thousand cannot lock the users out. An HTTP/2 peer that stops answering
//! pings is dropped.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{Extension, Request};
use axum::middleware::{self, Next};
use axum::response::Response;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;

use crate::capture::Tapped;
use shared::capture::Capture;
use tokio_rustls::rustls::ServerConfig;
use tracing::{debug, info, warn};

use super::routes::{CHALLENGE_PATH, Peer, router};
use super::{PortalState, PortalTls};
use crate::admission::{AdmissionLog, Limits, Ticket};
use crate::log_limit;

/// Connections waiting to be accepted.
const LISTEN_BACKLOG: u32 = 1024;
/// Connections served at once.
pub const MAX_CONNECTIONS: usize = 512;
/// Connections not logged in yet that one internet source may hold (an app
/// needs two: its event stream and a request).
pub const MAX_UNPROVEN_PER_SOURCE: usize = 16;
/// The portal's admission limits.
pub const LIMITS: Limits = Limits {
    total: MAX_CONNECTIONS,
    per_source: MAX_UNPROVEN_PER_SOURCE,
};
/// An HTTP/2 peer is pinged this often when idle, and dropped when a ping
/// goes unanswered as long.
const HTTP2_KEEP_ALIVE: Duration = Duration::from_secs(20);
/// A TLS handshake must complete within this (an app's takes a few round
/// trips; a half-open one holds a place until then).
pub const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(5);
/// A request head must arrive within this.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// How often expired sessions and stream-less registrations are swept.
const SWEEP_INTERVAL: Duration = Duration::from_millis(250);
/// After a failed accept, pause instead of spinning.
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_millis(100);
/// How the portal listener's admission lines read.
const ADMISSION_LOG: AdmissionLog = AdmissionLog {
    refused_kind: "portal connection refused",
    evicted_kind: "portal connection closed to make room",
    unproven: "portal connection not logged in",
};

/// A bound portal listener, not yet serving.
#[derive(Debug)]
pub struct PortalServer {
    listener: TcpListener,
    tls: Arc<ServerConfig>,
    state: Arc<PortalState>,
    /// `gateway run --capture`: the connections' TLS bytes go into it.
    capture: Option<Capture>,
}

impl PortalServer {
    /// A place for `peer`'s connection, or `None` (it is closed at once).
    fn admit(&self, peer: SocketAddr) -> Option<Ticket> {
        let lan = self.state.config.is_company_lan(peer.ip());
        self.state.admission.admit_logged(peer, lan, &ADMISSION_LOG)
    }

    pub async fn bind(
        addr: SocketAddr,
        tls: &PortalTls,
        state: Arc<PortalState>,
    ) -> std::io::Result<Self> {
        Ok(Self {
            listener: crate::listen::tcp(addr, LISTEN_BACKLOG)?,
            tls: tls.config.clone(),
            state,
            capture: None,
        })
    }

    /// Records every connection's (TLS) bytes into `capture`.
    pub fn with_capture(mut self, capture: Option<Capture>) -> Self {
        self.capture = capture;
        self
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until `shutdown` turns true; then every session ends and
    /// every connection closes.
    pub async fn serve(self, mut shutdown: watch::Receiver<bool>) {
        let router = router(self.state.clone());
        let acceptor = TlsAcceptor::from(self.tls.clone());
        let mut connections = JoinSet::new();
        let mut sweep = tokio::time::interval(SWEEP_INTERVAL);
        loop {
            tokio::select! {
                accepted = self.listener.accept() => match accepted {
                    Ok((stream, peer)) => {
                        let Some(ticket) = self.admit(peer) else { continue };
                        let local = stream.local_addr().unwrap_or(peer);
                        let _ = stream.set_nodelay(true);
                        let stream = Tapped::new(stream, self.capture.as_ref(), local, peer);
                        connections.spawn(connection(stream, peer, acceptor.clone(), router.clone(), ticket));
                    }
                    Err(error) => {
                        if log_limit::allow_local("portal accept failed") {
                            warn!("portal accept failed: {error}");
                        }
                        tokio::time::sleep(ACCEPT_ERROR_PAUSE).await;
                    }
                },
                Some(_) = connections.join_next() => {}
                _ = sweep.tick() => self.state.sweep(),
                _ = shutdown.changed() => break,
            }
        }
        info!(
            "portal server stopping: ending sessions, closing {} connections",
            connections.len()
        );
        self.state.end_all();
        connections.abort_all();
        while connections.join_next().await.is_some() {}
    }
}

/// One connection: TLS, then HTTP until the peer closes or misbehaves, or
/// the connection is closed to make room (not logged in yet).
async fn connection(
    stream: Tapped<TcpStream>,
    peer: SocketAddr,
    acceptor: TlsAcceptor,
    router: Router,
    ticket: Ticket,
) {
    let ticket = Arc::new(ticket);
    tokio::select! {
        () = serve(stream, peer, acceptor, router, ticket.clone()) => {}
        () = ticket.evicted() => debug!(%peer, "portal connection closed to make room: not logged in"),
    }
}

async fn serve(
    stream: Tapped<TcpStream>,
    peer: SocketAddr,
    acceptor: TlsAcceptor,
    router: Router,
    ticket: Arc<Ticket>,
) {
    let tls = match tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
        Ok(Ok(tls)) => tls,
        Ok(Err(error)) => {
            debug!(%peer, "portal TLS handshake failed: {error}");
            return;
        }
        Err(_) => {
            debug!(%peer, "portal TLS handshake timed out");
            return;
        }
    };
    let router = router
        .layer(middleware::from_fn(prove_on_success))
        .layer(Extension(ticket))
        .layer(Extension(Peer(peer)));
    let service = TowerToHyperService::new(router);
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT);
    builder
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(HTTP2_KEEP_ALIVE)
        .keep_alive_timeout(HTTP2_KEEP_ALIVE);
    if let Err(error) = builder.serve_connection(TokioIo::new(tls), service).await {
        debug!(%peer, "portal connection ended: {error}");
    }
}

/// A connection is proven by a successful request other than the login
/// challenge (which anyone gets): a login, or a request with a valid
/// session.
async fn prove_on_success(
    Extension(ticket): Extension<Arc<Ticket>>,
    request: Request,
    next: Next,
) -> Response {
    let challenge = request.uri().path() == CHALLENGE_PATH;
    let response = next.run(request).await;
    if response.status().is_success() && !challenge {
        ticket.prove();
    }
    response
}
