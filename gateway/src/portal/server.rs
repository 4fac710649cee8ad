//! The HTTPS listener: TCP accept, the TLS handshake (bounded in time),
//! then HTTP/1.1 or HTTP/2 by ALPN on the router. A bad TLS client or a
//! misbehaving peer loses its own connection only; the number of
//! connections is bounded, in all and per source address (so one host
//! holding idle connections cannot take every slot), and an HTTP/2 peer
//! that stops answering pings is dropped.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::Router;
use axum::extract::Extension;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tracing::{debug, info, warn};

use super::routes::{Peer, router};
use super::{PortalState, PortalTls};

/// Connections waiting to be accepted.
const LISTEN_BACKLOG: u32 = 1024;
/// Connections served at once; more are closed at accept.
pub const MAX_CONNECTIONS: usize = 512;
/// Connections one source address may hold at once (an app needs two: its
/// event stream and a request).
pub const MAX_CONNECTIONS_PER_SOURCE: usize = 16;
/// An HTTP/2 peer is pinged this often when idle, and dropped when a ping
/// goes unanswered as long.
const HTTP2_KEEP_ALIVE: Duration = Duration::from_secs(20);
/// A TLS handshake or a request head must complete within this.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// How often expired sessions and stream-less registrations are swept.
const SWEEP_INTERVAL: Duration = Duration::from_millis(250);
/// After a failed accept, pause instead of spinning.
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_millis(100);

/// A bound portal listener, not yet serving.
#[derive(Debug)]
pub struct PortalServer {
    listener: TcpListener,
    tls: Arc<ServerConfig>,
    state: Arc<PortalState>,
}

impl PortalServer {
    pub async fn bind(
        addr: SocketAddr,
        tls: &PortalTls,
        state: Arc<PortalState>,
    ) -> std::io::Result<Self> {
        Ok(Self {
            listener: crate::listen::tcp(addr, LISTEN_BACKLOG)?,
            tls: tls.config.clone(),
            state,
        })
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until `shutdown` turns true; then every session ends and
    /// every connection closes.
    pub async fn serve(self, mut shutdown: watch::Receiver<bool>) {
        let router = router(self.state.clone());
        let acceptor = TlsAcceptor::from(self.tls.clone());
        let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
        let sources = Arc::new(SourceCounts::default());
        let mut connections = JoinSet::new();
        let mut sweep = tokio::time::interval(SWEEP_INTERVAL);
        loop {
            tokio::select! {
                accepted = self.listener.accept() => match accepted {
                    Ok((stream, peer)) => {
                        let Ok(slot) = slots.clone().try_acquire_owned() else {
                            warn!(%peer, "portal connection refused: {MAX_CONNECTIONS} connections open");
                            continue;
                        };
                        let Some(source) = SourceSlot::take(&sources, peer.ip()) else {
                            warn!(%peer, "portal connection refused: {MAX_CONNECTIONS_PER_SOURCE} connections open from {}", peer.ip());
                            continue;
                        };
                        let task = connection(stream, peer, acceptor.clone(), router.clone());
                        connections.spawn(async move {
                            task.await;
                            drop((slot, source));
                        });
                    }
                    Err(error) => {
                        warn!("portal accept failed: {error}");
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

/// One connection: TLS, then HTTP until the peer closes or misbehaves.
async fn connection(stream: TcpStream, peer: SocketAddr, acceptor: TlsAcceptor, router: Router) {
    let _ = stream.set_nodelay(true);
    let tls = match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
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
    let service = TowerToHyperService::new(router.layer(Extension(Peer(peer))));
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(HANDSHAKE_TIMEOUT);
    builder
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(HTTP2_KEEP_ALIVE)
        .keep_alive_timeout(HTTP2_KEEP_ALIVE);
    if let Err(error) = builder.serve_connection(TokioIo::new(tls), service).await {
        debug!(%peer, "portal connection ended: {error}");
    }
}

/// Open connections per source address.
#[derive(Debug, Default)]
struct SourceCounts(Mutex<HashMap<IpAddr, usize>>);

/// One connection's place in [`SourceCounts`], given back on drop.
struct SourceSlot {
    counts: Arc<SourceCounts>,
    source: IpAddr,
}

impl SourceSlot {
    /// A place for a connection from `source`, unless it holds the most.
    fn take(counts: &Arc<SourceCounts>, source: IpAddr) -> Option<Self> {
        let mut map = counts.0.lock().unwrap_or_else(PoisonError::into_inner);
        let open = map.entry(source).or_default();
        if *open >= MAX_CONNECTIONS_PER_SOURCE {
            return None;
        }
        *open += 1;
        Some(Self {
            counts: counts.clone(),
            source,
        })
    }
}

impl Drop for SourceSlot {
    fn drop(&mut self) {
        let mut map = self.counts.0.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(open) = map.get_mut(&self.source) {
            *open -= 1;
            if *open == 0 {
                map.remove(&self.source);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_source_holds_at_most_its_share_and_gets_places_back_on_drop() {
        let counts = Arc::new(SourceCounts::default());
        let home: IpAddr = "192.0.2.7".parse().expect("address");
        let other: IpAddr = "192.0.2.8".parse().expect("address");
        let held: Vec<_> = (0..MAX_CONNECTIONS_PER_SOURCE)
            .map(|_| SourceSlot::take(&counts, home).expect("a place"))
            .collect();
        assert!(SourceSlot::take(&counts, home).is_none());
        assert!(SourceSlot::take(&counts, other).is_some());
        drop(held);
        assert!(SourceSlot::take(&counts, home).is_some());
        assert!(counts.0.lock().expect("lock").is_empty());
    }
}
