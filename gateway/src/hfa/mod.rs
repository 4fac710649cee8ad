//! The HFA server: OpenStage / DeskPhone IP phones register here over TCP
//! (4060 by default, reached from the internet through the company router's
//! 4070 forward, guide 3.1), one task per connection.

pub mod attachment;
mod connection;
pub mod registrar;
pub mod registry;
pub mod render;

use shared::capture::Capture;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use shared::hfa_engine::ChallengeIssuer;
use shared::hfa_engine::system::SystemTimers;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tracing::{info, warn};

use crate::admission::{Admission, AdmissionCounts, AdmissionLog, Limits, Ticket};
use crate::calls::CallService;
use crate::clock::Clock;
use crate::config::ValidatedConfig;
use crate::lockout::SharedLoginGuard;
use crate::log_limit;
use registrar::Registrar;
use registry::{ConnectionId, Registry};

/// Connections the kernel queues before they are accepted. After a gateway
/// restart every phone reconnects within the same second; with the usual
/// 128, most of a large storm would wait out TCP retransmissions (see
/// BENCHMARKS.md). The kernel caps it at `net.core.somaxconn`.
const LISTEN_BACKLOG: u32 = 4096;

/// After a failed accept (e.g. out of file descriptors), wait this long
/// before the next, instead of spinning.
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_millis(100);
/// How the HFA listener's admission lines read.
const ADMISSION_LOG: AdmissionLog = AdmissionLog {
    refused_kind: "HFA connection refused",
    evicted_kind: "HFA connection closed to make room",
    unproven: "HFA connection not registered yet",
};

/// Connections not registered yet that the server keeps besides one per
/// configured client (a registered phone's): room for a registration storm
/// from the company LAN, and the most an attacker's idle connections hold.
pub const UNREGISTERED_ROOM: usize = 1024;

/// Connections not registered yet that one internet source may hold (a
/// home office has a few phones behind its router).
pub const UNREGISTERED_PER_SOURCE: usize = 16;

/// What all connection tasks share.
#[derive(Debug)]
pub struct HfaState {
    pub(crate) config: ValidatedConfig,
    timers: SystemTimers,
    clock: Clock,
    issuer: Arc<ChallengeIssuer>,
    registrar: Mutex<Registrar>,
    registry: Mutex<Registry>,
    calls: Arc<CallService>,
    admission: Arc<Admission>,
    /// `gateway run --capture`: the phones' connections go into it.
    capture: Option<Capture>,
}

impl HfaState {
    /// Records every phone connection's bytes into `capture`.
    pub fn with_capture(mut self, capture: Option<Capture>) -> Self {
        self.capture = capture;
        self
    }

    pub fn new(
        config: ValidatedConfig,
        timers: SystemTimers,
        clock: Clock,
        calls: Arc<CallService>,
        guard: SharedLoginGuard,
    ) -> Self {
        let now = clock.now();
        let epoch_seconds = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |since| since.as_secs() as u32);
        let admission = Admission::new(Limits {
            total: config.clients().len() + UNREGISTERED_ROOM,
            per_source: UNREGISTERED_PER_SOURCE,
        });
        Self {
            capture: None,
            registrar: Mutex::new(Registrar::new(guard)),
            admission,
            config,
            timers,
            clock,
            issuer: Arc::new(ChallengeIssuer::new(now, epoch_seconds)),
            registry: Mutex::new(Registry::default()),
            calls,
        }
    }

    /// The registered phones. A panic elsewhere while holding the lock
    /// leaves the map consistent (every update is a single insert or
    /// remove), so a poisoned lock is taken over, not propagated.
    pub fn registry(&self) -> MutexGuard<'_, Registry> {
        self.registry.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The connections open, refused and closed to make room.
    pub fn connections(&self) -> AdmissionCounts {
        self.admission.counts()
    }

    fn registrar(&self) -> MutexGuard<'_, Registrar> {
        self.registrar
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

/// A bound HFA listener, not yet serving.
#[derive(Debug)]
pub struct HfaServer {
    listener: TcpListener,
    state: Arc<HfaState>,
}

impl HfaServer {
    pub async fn bind(addr: SocketAddr, state: Arc<HfaState>) -> std::io::Result<Self> {
        let listener = crate::listen::tcp(addr, LISTEN_BACKLOG)?;
        Ok(Self { listener, state })
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Accepts phones until `shutdown` turns true, then tells every
    /// connected phone the system is going down and waits for the tasks.
    pub async fn serve(self, mut shutdown: watch::Receiver<bool>) {
        let mut connections = JoinSet::new();
        let mut next_id = 0u64;
        loop {
            tokio::select! {
                accepted = self.listener.accept() => match accepted {
                    Ok((stream, peer)) => {
                        let Some(ticket) = self.admit(peer) else { continue };
                        next_id += 1;
                        let _ = stream.set_nodelay(true);
                        let task = connection::serve(
                            stream, peer, ConnectionId(next_id), self.state.clone(), ticket, shutdown.clone(),
                        );
                        connections.spawn(task);
                    }
                    // Out of file descriptors and the like: keep serving the
                    // phones already connected.
                    Err(error) => {
                        if log_limit::allow_local("HFA accept failed") {
                            warn!("HFA accept failed: {error}");
                        }
                        tokio::time::sleep(ACCEPT_ERROR_PAUSE).await;
                    }
                },
                Some(_) = connections.join_next() => {}
                _ = shutdown.changed() => break,
            }
        }
        info!(
            "HFA server stopping: closing {} connections",
            connections.len()
        );
        while connections.join_next().await.is_some() {}
    }

    /// A place for `peer`'s connection, or `None` (it is closed at once).
    fn admit(&self, peer: SocketAddr) -> Option<Ticket> {
        let lan = self.state.config.is_company_lan(peer.ip());
        self.state.admission.admit_logged(peer, lan, &ADMISSION_LOG)
    }
}
