//! Support for the myPortal to go end-to-end tests: the office gateway with
//! its HTTPS portal server on loopback, the app's settings for 210 Dan
//! pinned to the gateway's certificate, the company router's TCP port
//! forward for the WAN address, and a LAN server that never answers.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use gateway::clock::Clock;
use gateway::gateway::{Gateway, StartOptions};
use gateway::trace::Traces;
use shared::hfa_engine::system::SystemTimers;
use shared::secret::Secret;
use softphone::media::MediaOptions;
use softphone::portal::agent::{AgentEvent, AgentTimers, PortalAgent};
use softphone::portal::{Network, PortalSettings, Status, Trust};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::mpsc::UnboundedReceiver;
use tokio::sync::oneshot;
use tokio::task::{JoinHandle, JoinSet};

use crate::{DAN, LAN_IP, PATIENCE, Subscriber, first_of, next_rtp_range, office};

/// Failed logins before a lockout in the portal office.
pub const MAX_FAILURES: u32 = 3;

/// The public (WAN) address of the company router in these tests: outside
/// the company LAN 127.0.0.0/24, reachable on loopback.
pub const WAN_IP: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 2, 1));

pub use tempfile::TempDir;

/// A temporary directory for `tag`, removed on drop.
pub fn temp_dir(tag: &str) -> TempDir {
    tempfile::Builder::new()
        .prefix(&format!("e2e-portal-{tag}-"))
        .tempdir()
        .expect("create a temporary directory")
}

/// The office gateway with HFA and the portal server on loopback (real
/// clock), its certificate generated in its own data directory.
pub struct PortalOffice {
    pub gateway: Gateway,
    /// The portal server's address in the company LAN (the LAN server).
    pub portal: SocketAddr,
    /// Pins exactly the gateway's certificate.
    pub trust: Trust,
    data: TempDir,
}

impl PortalOffice {
    /// The office with a new data directory (so a new certificate), the
    /// portal on any free port of the LAN address.
    pub async fn start(timers: SystemTimers) -> Self {
        Self::start_with(timers, temp_dir("gateway"), SocketAddr::new(LAN_IP, 0)).await
    }

    /// The office keeping its files in `data` (a certificate found there is
    /// used again), the portal listening at `portal`.
    pub async fn start_with(timers: SystemTimers, data: TempDir, portal: SocketAddr) -> Self {
        Self::start_inner(timers, data, portal, None, Vec::new()).await
    }

    /// The office with `subscribers` besides the test office's, answering
    /// `gateway status` on `DATA/gateway.sock`, its trace profiles switched
    /// there through `traces`.
    pub async fn start_traced(
        timers: SystemTimers,
        data: TempDir,
        traces: Arc<Traces>,
        subscribers: Vec<Subscriber>,
    ) -> Self {
        let portal = SocketAddr::new(LAN_IP, 0);
        Self::start_inner(timers, data, portal, Some(traces), subscribers).await
    }

    async fn start_inner(
        timers: SystemTimers,
        data: TempDir,
        portal: SocketAddr,
        traces: Option<Arc<Traces>>,
        subscribers: Vec<Subscriber>,
    ) -> Self {
        let status_socket = traces
            .is_some()
            .then(|| gateway::status::socket_path(data.path()));
        let config = office()
            .data_dir(data.path())
            .subscribers(subscribers)
            .section(format!("[security]\nmax_failed_attempts = {MAX_FAILURES}"))
            .validated();
        let options = StartOptions {
            hfa_listen: Some(SocketAddr::new(LAN_IP, 0)),
            portal_listen: Some(portal),
            timers,
            clock: Clock::system(),
            rtp_range: Some(next_rtp_range()),
            status_socket,
            traces,
            ..StartOptions::default()
        };
        let gateway = match Gateway::start(config, options).await {
            Ok(gateway) => gateway,
            Err(error) => panic!("the gateway with its portal failed to start: {error}"),
        };
        let portal = gateway.portal_addr().expect("the portal server runs");
        let fingerprint = gateway
            .portal_fingerprint()
            .expect("the portal has a certificate")
            .parse()
            .expect("the gateway shows a SHA-256 fingerprint");
        Self {
            gateway,
            portal,
            trust: Trust::Pin(fingerprint),
            data,
        }
    }

    /// 210 Dan's app: `wan` (and `lan`) as the user typed them, on
    /// `network`, bound to `bind`, trusting the gateway's certificate.
    pub fn dan(
        &self,
        wan: SocketAddr,
        lan: Option<SocketAddr>,
        network: Network,
        bind: IpAddr,
    ) -> PortalSettings {
        self.settings(DAN, wan, lan, network, bind)
    }

    /// Settings for `(user, password)`.
    pub fn settings(
        &self,
        (user, password): (&str, &str),
        wan: SocketAddr,
        lan: Option<SocketAddr>,
        network: Network,
        bind: IpAddr,
    ) -> PortalSettings {
        let lan = lan.map(|lan| lan.to_string());
        let mut settings = PortalSettings::new(
            user,
            Secret::new(password),
            &wan.to_string(),
            lan.as_deref(),
            network,
            self.trust.clone(),
        )
        .expect("valid app settings");
        settings.bind = Some(bind);
        settings
    }

    pub async fn stop(self) {
        self.gateway.stop().await;
    }

    /// Stops the gateway and hands over its data directory, to start it
    /// again with the same files.
    pub async fn stop_keeping_data(self) -> TempDir {
        self.gateway.stop().await;
        self.data
    }
}

/// A running app with its events.
pub struct App {
    pub agent: PortalAgent,
    pub events: AppEvents,
}

impl App {
    pub async fn start(settings: PortalSettings, media: MediaOptions, timers: AgentTimers) -> Self {
        let (agent, events) = PortalAgent::spawn(settings, media, timers)
            .await
            .expect("the app binds its media sockets");
        Self {
            agent,
            events: AppEvents(events),
        }
    }
}

/// The app's event stream, with a bounded wait for the next match.
pub struct AppEvents(pub UnboundedReceiver<AgentEvent>);

impl AppEvents {
    /// The first event `wanted` accepts within [`PATIENCE`]; panics with
    /// what came instead.
    pub async fn until(
        &mut self,
        what: &str,
        wanted: impl FnMut(&AgentEvent) -> bool,
    ) -> AgentEvent {
        self.until_within(PATIENCE, what, wanted).await
    }

    /// The status text once every server tried failed.
    pub async fn failed_status(&mut self) -> String {
        self.status("the attempt to fail", |status| {
            matches!(status, Status::Failed(_))
        })
        .await
    }

    /// The status text once registered.
    pub async fn registered_status(&mut self) -> String {
        self.status("the registration", |status| {
            matches!(status, Status::Registered { .. })
        })
        .await
    }

    async fn status(&mut self, what: &str, wanted: fn(&Status) -> bool) -> String {
        match self
            .until(
                what,
                |event| matches!(event, AgentEvent::Status(change) if wanted(&change.status)),
            )
            .await
        {
            AgentEvent::Status(change) => change.status.to_string(),
            _ => unreachable!("only a status is accepted"),
        }
    }

    /// As [`AppEvents::until`], waiting at most `patience`.
    pub async fn until_within(
        &mut self,
        patience: std::time::Duration,
        what: &str,
        wanted: impl FnMut(&AgentEvent) -> bool,
    ) -> AgentEvent {
        first_of(&mut self.0, patience, what, wanted).await
    }
}

/// The company router's TCP port forward from its public address to the
/// portal server (guide 4.2: "8802 or other port according to the port
/// forwarding"): as a DNAT router, it keeps the client's source address,
/// so each upstream connection is bound to the client's own IP.
pub struct PortForward {
    addr: SocketAddr,
    accepted: Arc<AtomicUsize>,
    open: Arc<AtomicUsize>,
    refusing: Arc<AtomicBool>,
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

impl PortForward {
    /// Listens on `public` (port 0: any) and forwards to `target`.
    pub async fn start(public: SocketAddr, target: SocketAddr) -> Self {
        let listener = TcpListener::bind(public)
            .await
            .expect("bind the port forward");
        let addr = listener.local_addr().expect("the forward's address");
        let accepted = Arc::new(AtomicUsize::new(0));
        let open = Arc::new(AtomicUsize::new(0));
        let refusing = Arc::new(AtomicBool::new(false));
        let (count, gauge, refuse) = (accepted.clone(), open.clone(), refusing.clone());
        let (stop, mut stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let mut connections = JoinSet::new();
            loop {
                tokio::select! {
                    _ = &mut stopped => break,
                    accepted = listener.accept() => {
                        let Ok((client, source)) = accepted else { continue };
                        count.fetch_add(1, Ordering::SeqCst);
                        if refuse.load(Ordering::SeqCst) {
                            continue; // closed at once
                        }
                        let gauge = gauge.clone();
                        connections.spawn(async move {
                            gauge.fetch_add(1, Ordering::SeqCst);
                            let _open = Decrement(gauge);
                            forward(client, source.ip(), target).await;
                        });
                    }
                    Some(_) = connections.join_next(), if !connections.is_empty() => {}
                }
            }
            // Closes every connection and waits until each task is gone.
            connections.shutdown().await;
        });
        Self {
            addr,
            accepted,
            open,
            refusing,
            stop,
            task,
        }
    }

    /// While `refusing`, every connection is closed as soon as it is
    /// accepted, as by a server that has no room.
    pub fn refuse(&self, refusing: bool) {
        self.refusing.store(refusing, Ordering::SeqCst);
    }

    /// The public address (the "WAN server").
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Connections accepted so far.
    pub fn accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }

    /// Connections open now.
    pub fn open(&self) -> usize {
        self.open.load(Ordering::SeqCst)
    }

    /// Stops listening and closes every connection; returns how many were
    /// accepted in all.
    pub async fn stop(self) -> usize {
        let Self {
            accepted,
            open,
            stop,
            task,
            ..
        } = self;
        let _ = stop.send(());
        task.await.expect("the port forward's task ends cleanly");
        assert_eq!(
            open.load(Ordering::SeqCst),
            0,
            "the forward closed every connection"
        );
        accepted.load(Ordering::SeqCst)
    }
}

/// Lowers the open-connection gauge when a connection's task ends (or is
/// aborted).
struct Decrement(Arc<AtomicUsize>);

impl Drop for Decrement {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

async fn forward(mut client: TcpStream, source: IpAddr, target: SocketAddr) {
    let socket = match source {
        IpAddr::V4(_) => TcpSocket::new_v4(),
        IpAddr::V6(_) => TcpSocket::new_v6(),
    };
    let Ok(socket) = socket else { return };
    if socket.bind(SocketAddr::new(source, 0)).is_err() {
        return;
    }
    let Ok(mut upstream) = socket.connect(target).await else {
        return;
    };
    let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
}

/// A LAN server that does not answer: the TCP handshake completes (the
/// kernel's backlog) but nothing is ever accepted or answered, as a
/// gateway that hangs, or a company WiFi whose path to it is broken.
pub struct SilentServer {
    listener: TcpListener,
}

impl SilentServer {
    pub async fn start() -> Self {
        let listener = TcpListener::bind(SocketAddr::new(LAN_IP, 0))
            .await
            .expect("bind the silent server");
        Self { listener }
    }

    pub fn addr(&self) -> SocketAddr {
        self.listener.local_addr().expect("its address")
    }
}

/// A loopback address where nothing listens (connection refused).
pub async fn closed_port() -> SocketAddr {
    let listener = TcpListener::bind(SocketAddr::new(LAN_IP, 0))
        .await
        .expect("bind a port to close");
    listener.local_addr().expect("its address")
}
