//! Connection floods for the denial-of-service tests: many TCP connections
//! from many loopback addresses outside the test office's LAN (as an
//! attacker's many internet addresses), each held open until the gateway
//! closes it or the flood stops.
//!
//! - [`Hold::Idle`]: connect and say nothing (idle HFA connections);
//! - [`Hold::HalfOpenTls`]: connect, send the start of a TLS ClientHello
//!   and stall; when the gateway closes the connection, open the next one
//!   after a pause, as the attacker did every 10 s.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpSocket;
use tokio::sync::watch;
use tokio::task::JoinSet;

/// How each connection of a flood behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hold {
    Idle,
    HalfOpenTls,
}

/// A TLS record header announcing a 512-byte handshake message, and the
/// first bytes of a ClientHello: a server waits for the rest.
const CLIENT_HELLO_START: &[u8] = &[0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03];

/// A half-open connection that was closed is opened again this much later.
const RECONNECT_PAUSE: Duration = Duration::from_millis(500);

/// `count` addresses 127.0.`block`.1 and up: outside the test office's LAN
/// (127.0.0.0/24), so each is an internet source with its own share.
pub fn attacker_addresses(block: u8, count: u8) -> Vec<IpAddr> {
    (1..=count)
        .map(|host| IpAddr::V4(Ipv4Addr::new(127, 0, block, host)))
        .collect()
}

/// What a flood did, from the attacker's side.
#[derive(Debug, Default)]
struct FloodCounts {
    /// Connections opened (including reopened ones).
    pub opened: AtomicUsize,
    /// Connections open now: the attacker still holds them.
    pub open: AtomicUsize,
    /// Connections that could not be opened.
    pub failed: AtomicUsize,
}

/// A running flood; [`Flood::stop`] closes every connection.
pub struct Flood {
    counts: Arc<FloodCounts>,
    /// The first attempts made so far (each connection's first try).
    attempted: watch::Receiver<usize>,
    connections: usize,
    stop: watch::Sender<bool>,
    tasks: JoinSet<()>,
}

impl Flood {
    /// `connections` connections to `target`, spread over `sources`.
    pub fn start(target: SocketAddr, sources: &[IpAddr], connections: usize, hold: Hold) -> Self {
        let counts = Arc::new(FloodCounts::default());
        let (progress, attempted) = watch::channel(0usize);
        let progress = Arc::new(progress);
        let (stop, stopped) = watch::channel(false);
        let mut tasks = JoinSet::new();
        for (index, &source) in sources.iter().enumerate() {
            let share =
                connections / sources.len() + usize::from(index < connections % sources.len());
            let from = Source {
                ip: source,
                target,
                hold,
                counts: counts.clone(),
                stopped: stopped.clone(),
            };
            tasks.spawn(from.run(share, progress.clone()));
        }
        Self {
            counts,
            attempted,
            connections,
            stop,
            tasks,
        }
    }

    /// Waits (at most `patience`) until every connection has been tried
    /// once; panics otherwise.
    pub async fn all_attempted(&mut self, patience: Duration) {
        let wanted = self.connections;
        let done = tokio::time::timeout(patience, self.attempted.wait_for(|n| *n >= wanted))
            .await
            .is_ok_and(|waited| waited.is_ok());
        if !done {
            panic!(
                "the flood tried only {} of {wanted} connections in {patience:?}",
                *self.attempted.borrow()
            );
        }
    }

    /// Connections opened so far (reopened ones included), and those that
    /// could not be opened.
    pub fn opened_and_failed(&self) -> (usize, usize) {
        (
            self.counts.opened.load(Ordering::SeqCst),
            self.counts.failed.load(Ordering::SeqCst),
        )
    }

    /// Connections the attacker holds open now.
    pub fn open(&self) -> usize {
        self.counts.open.load(Ordering::SeqCst)
    }

    /// Closes every connection and waits until all are closed.
    pub async fn stop(mut self) {
        let _ = self.stop.send(true);
        while self.tasks.join_next().await.is_some() {}
        assert_eq!(self.open(), 0, "every flood connection is closed");
    }
}

/// One attacker address.
struct Source {
    ip: IpAddr,
    target: SocketAddr,
    hold: Hold,
    counts: Arc<FloodCounts>,
    stopped: watch::Receiver<bool>,
}

impl Source {
    /// Opens `share` connections one after the other, each held by a task
    /// of its own, then waits for the stop and closes them.
    async fn run(self, share: usize, progress: Arc<watch::Sender<usize>>) {
        let source = Arc::new(self);
        let mut held = JoinSet::new();
        for _ in 0..share {
            if *source.stopped.borrow() {
                break;
            }
            let connected = source.connect().await;
            progress.send_modify(|attempted| *attempted += 1);
            if let Some(connection) = connected {
                held.spawn(source.clone().hold(connection));
            }
            // Holders whose connection the gateway closed are done.
            while held.try_join_next().is_some() {}
        }
        let mut stopped = source.stopped.clone();
        let _ = stopped.wait_for(|stop| *stop).await;
        held.shutdown().await;
    }

    async fn connect(&self) -> Option<Held> {
        let opened = async {
            let socket = TcpSocket::new_v4()?;
            socket.bind(SocketAddr::new(self.ip, 0))?;
            let mut stream = socket.connect(self.target).await?;
            if self.hold == Hold::HalfOpenTls {
                stream.write_all(CLIENT_HELLO_START).await?;
            }
            std::io::Result::Ok(stream)
        };
        match opened.await {
            Ok(stream) => {
                self.counts.opened.fetch_add(1, Ordering::SeqCst);
                self.counts.open.fetch_add(1, Ordering::SeqCst);
                Some(Held {
                    stream,
                    counts: self.counts.clone(),
                })
            }
            Err(_) => {
                self.counts.failed.fetch_add(1, Ordering::SeqCst);
                None
            }
        }
    }

    /// Holds a connection until the gateway closes it (then, half-open
    /// TLS connections are opened again after a pause) or the flood stops.
    async fn hold(self: Arc<Self>, first: Held) {
        let mut held = Some(first);
        let mut stopped = self.stopped.clone();
        loop {
            if let Some(mut open) = held.take() {
                let mut buffer = [0u8; 512];
                let closed = async {
                    while matches!(open.stream.read(&mut buffer).await, Ok(n) if n > 0) {}
                };
                tokio::select! {
                    () = closed => {}
                    _ = stopped.wait_for(|stop| *stop) => return,
                }
            }
            if self.hold == Hold::Idle {
                return;
            }
            tokio::select! {
                () = tokio::time::sleep(RECONNECT_PAUSE) => {}
                _ = stopped.wait_for(|stop| *stop) => return,
            }
            held = self.connect().await;
        }
    }
}

/// A connection the attacker holds; counted open until dropped (also when
/// its task is aborted).
struct Held {
    stream: tokio::net::TcpStream,
    counts: Arc<FloodCounts>,
}

impl Drop for Held {
    fn drop(&mut self) {
        self.counts.open.fetch_sub(1, Ordering::SeqCst);
    }
}
