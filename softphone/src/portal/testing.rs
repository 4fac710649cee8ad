//! Test support: the real gateway (its myPortal to go server, call control
//! and RTP proxy) in-process with a test office, a TCP port-forward as its
//! "WAN" address, a second app as a call's other party; and for what the
//! gateway cannot show (a certificate swapped at the same address,
//! malformed event data), rcgen certificates and a TLS listener of our own.

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, PoisonError};

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use std::path::PathBuf;
use std::time::Duration;

use gateway::clock::Clock;
use gateway::config::{RtpRange, ValidatedConfig};
use gateway::gateway::{Gateway, StartOptions};
use gateway::portal::PortalCounts;
use gateway::testing::{Office, cast};
use shared::portal::{AppInfo, CallView, Event};
use shared::secret::Secret;
use tokio::net::{TcpListener, TcpSocket, TcpStream, UdpSocket};
use tokio::sync::{mpsc, watch};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

use super::agent::AgentTimers;
use super::client::{CallRequest, PortalClient};
use super::events::{Backoff, EventStream, StreamEvent};
use super::settings::{Network, PortalSettings, ServerAddress};
use super::trust::{Fingerprint, Trust, provider};
use crate::audio::NullBackend;
use crate::media::MediaOptions;

/// A certificate and its key.
#[derive(Debug)]
pub struct TestCert {
    pub chain: Vec<CertificateDer<'static>>,
    pub key: PrivatePkcs8KeyDer<'static>,
}

impl TestCert {
    /// A self-signed certificate for `localhost` and the loopback IPs.
    pub fn self_signed() -> Self {
        let key = KeyPair::generate().expect("key");
        let certificate = params().self_signed(&key).expect("self-signed");
        Self {
            chain: vec![certificate.der().clone()],
            key: PrivatePkcs8KeyDer::from(key.serialize_der()),
        }
    }

    /// A CA (its PEM) and a certificate it signed for `localhost`.
    pub fn signed_by_ca() -> (String, Self) {
        let ca_key = KeyPair::generate().expect("key");
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("params");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let ca = CertifiedIssuer::self_signed(ca_params, ca_key).expect("CA");
        let key = KeyPair::generate().expect("key");
        let certificate = params().signed_by(&key, &ca).expect("signed");
        let leaf = Self {
            chain: vec![certificate.der().clone()],
            key: PrivatePkcs8KeyDer::from(key.serialize_der()),
        };
        (ca.pem(), leaf)
    }

    pub fn fingerprint(&self) -> Fingerprint {
        Fingerprint::of(&self.chain[0])
    }

    fn acceptor(&self) -> TlsAcceptor {
        let mut config = rustls::ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .expect("versions")
            .with_no_client_auth()
            .with_single_cert(
                self.chain.clone(),
                PrivateKeyDer::Pkcs8(self.key.clone_key()),
            )
            .expect("server config");
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        TlsAcceptor::from(Arc::new(config))
    }
}

fn params() -> CertificateParams {
    CertificateParams::new(vec![
        "localhost".to_owned(),
        "127.0.0.1".to_owned(),
        "127.0.1.20".to_owned(),
    ])
    .expect("params")
}

/// A TLS listener; each accepted connection is handed to `serve` after
/// the handshake (failed handshakes are dropped).
pub struct TlsListener {
    pub address: SocketAddr,
    acceptor: Arc<Mutex<TlsAcceptor>>,
    task: tokio::task::JoinHandle<()>,
}

impl TlsListener {
    pub async fn start<F, Fut>(ip: IpAddr, cert: &TestCert, serve: F) -> Self
    where
        F: Fn(TlsStream<TcpStream>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let listener = TcpListener::bind(SocketAddr::new(ip, 0))
            .await
            .expect("bind");
        let address = listener.local_addr().expect("address");
        let acceptor = Arc::new(Mutex::new(cert.acceptor()));
        let current = acceptor.clone();
        let serve = Arc::new(serve);
        let task = tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let acceptor = current
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .clone();
                let serve = serve.clone();
                tokio::spawn(async move {
                    if let Ok(tls) = acceptor.accept(tcp).await {
                        serve(tls).await;
                    }
                });
            }
        });
        Self {
            address,
            acceptor,
            task,
        }
    }

    /// From now on, show `cert` at the same address.
    pub fn swap(&self, cert: &TestCert) {
        *self.acceptor.lock().unwrap_or_else(PoisonError::into_inner) = cert.acceptor();
    }
}

impl Drop for TlsListener {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A fresh path in the temp directory for one test's files.
pub fn temp_path(name: &str) -> PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    std::env::temp_dir().join(format!(
        "softphone-portal-{name}-{}-{nanos}",
        std::process::id()
    ))
}

/// Inside the test office's LAN (127.0.0.0/24).
pub const LAN_IP: IpAddr = IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);
/// Outside it: an app at home.
pub const HOME_IP: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(127, 0, 1, 20));
/// Another address at home (the same kind of network, a new address).
pub const HOME_IP_2: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(127, 0, 1, 21));

/// myPortal to go users of the test office and their UC passwords.
pub use gateway::testing::cast::{DAN, EVE};

/// How long a test waits for anything.
pub const PATIENCE: Duration = Duration::from_secs(10);

/// The app version the gateway requires (guide 4).
pub fn android() -> AppInfo {
    AppInfo {
        platform: "android".into(),
        version: "V2R1.61.14".into(),
    }
}

/// A directory removed on drop.
struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The test office (as `gateway/tests/portal_support`): LAN 127.0.0.0/24,
/// Dan and Eve as myPortal to go users allowed to register from the
/// internet, echo test on `*98`; `extra` is appended.
fn office(data_dir: &std::path::Path, extra: &str) -> ValidatedConfig {
    Office::x3()
        .on_loopback()
        .data_dir(data_dir)
        .subscribers([cast::dan(), cast::eve()])
        .section(extra)
        .validated()
}

/// RTP proxy ports of its own per gateway, below the ephemeral range and
/// apart from the gateway tests' (2000..11000) and the `tests` crate's
/// (20000..31520) blocks.
fn rtp_range() -> RtpRange {
    gateway::testing::rtp_range(11000, 70)
}

/// The real gateway, its portal on the LAN address, on a manual clock
/// (sessions expire and stream-less registrations end only when a test
/// advances it).
pub struct TestGateway {
    pub gateway: Gateway,
    pub clock: Clock,
    /// The portal server's address (the "LAN server").
    pub lan: SocketAddr,
    pub fingerprint: Fingerprint,
    _dir: TempDir,
}

impl TestGateway {
    pub async fn start() -> Self {
        Self::start_with("").await
    }

    /// With `extra` configuration (e.g. a `[portal]` section).
    pub async fn start_with(extra: &str) -> Self {
        let dir = TempDir(temp_path("gateway"));
        std::fs::create_dir_all(&dir.0).expect("data dir");
        let clock = Clock::manual();
        let options = StartOptions {
            hfa_listen: Some(SocketAddr::new(LAN_IP, 0)),
            portal_listen: Some(SocketAddr::new(LAN_IP, 0)),
            clock: clock.clone(),
            rtp_range: Some(rtp_range()),
            ..StartOptions::default()
        };
        let gateway = match Gateway::start(office(&dir.0, extra), options).await {
            Ok(gateway) => gateway,
            Err(error) => panic!("gateway failed to start: {error}"),
        };
        let lan = gateway.portal_addr().expect("the portal runs");
        let fingerprint = gateway
            .portal_fingerprint()
            .expect("a fingerprint")
            .parse()
            .expect("a SHA-256 fingerprint");
        Self {
            gateway,
            clock,
            lan,
            fingerprint,
            _dir: dir,
        }
    }

    /// Trusting exactly the gateway's certificate.
    pub fn trust(&self) -> Trust {
        Trust::Pin(self.fingerprint)
    }

    /// A client of the portal at `server` (the LAN address or a
    /// [`Forward`]), from `bind`.
    pub fn client(&self, server: SocketAddr, bind: Option<IpAddr>) -> PortalClient {
        let server = ServerAddress::parse(&server.to_string()).expect("server");
        PortalClient::new(&server, bind, &self.trust()).expect("client")
    }

    /// Sessions, registrations, streams as `gateway status` counts them.
    pub fn counts(&self) -> PortalCounts {
        self.gateway.status().portal.expect("the portal runs")
    }

    /// Waits until the gateway's counts satisfy `condition`. The gateway
    /// tells no one when a connection it serves goes away, so this polls
    /// its status (within the patience).
    pub async fn until(&self, what: &str, condition: impl Fn(PortalCounts) -> bool) {
        let reached = tokio::time::timeout(PATIENCE, async {
            while !condition(self.counts()) {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
        .await;
        assert!(reached.is_ok(), "{what}: {:?}", self.counts());
    }
}

/// A TCP port-forward to the gateway's portal: its "WAN server" address
/// (the public address the router forwards, guide 3.1). Each upstream
/// connection is bound to the client's own source IP, so the gateway sees
/// the real source. [`Forward::hold`] cuts the open connections and holds
/// new ones (a network that lost its way to the gateway) until
/// [`Forward::release`].
pub struct Forward {
    pub address: SocketAddr,
    open: watch::Sender<bool>,
    peers: Arc<Mutex<Vec<IpAddr>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Forward {
    pub async fn start(listen: IpAddr, upstream: SocketAddr) -> Self {
        let listener = TcpListener::bind((listen, 0)).await.expect("bind");
        let address = listener.local_addr().expect("address");
        let (open, _) = watch::channel(true);
        let peers = Arc::new(Mutex::new(Vec::new()));
        let (opened, seen) = (open.clone(), peers.clone());
        let task = tokio::spawn(async move {
            while let Ok((mut client, peer)) = listener.accept().await {
                seen.lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push(peer.ip());
                let mut open = opened.subscribe();
                tokio::spawn(async move {
                    if open.wait_for(|open| *open).await.is_err() {
                        return;
                    }
                    let Ok(mut server) = connect_from(peer.ip(), upstream).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                        _ = open.wait_for(|open| !*open) => {}
                    }
                });
            }
        });
        Self {
            address,
            open,
            peers,
            task,
        }
    }

    /// The source IPs of every connection so far.
    pub fn peers(&self) -> Vec<IpAddr> {
        self.peers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    pub fn hold(&self) {
        self.open.send_replace(false);
    }

    pub fn release(&self) {
        self.open.send_replace(true);
    }
}

impl Drop for Forward {
    fn drop(&mut self) {
        self.task.abort();
        self.hold();
    }
}

async fn connect_from(source: IpAddr, upstream: SocketAddr) -> std::io::Result<TcpStream> {
    let socket = match source {
        IpAddr::V4(_) => TcpSocket::new_v4()?,
        IpAddr::V6(_) => TcpSocket::new_v6()?,
    };
    socket.bind(SocketAddr::new(source, 0))?;
    socket.connect(upstream).await
}

/// An even UDP port and the one above it on `ip` (an app's RTP and RTCP).
pub async fn rtp_pair(ip: IpAddr) -> (UdpSocket, UdpSocket) {
    for _ in 0..64 {
        let rtp = UdpSocket::bind((ip, 0)).await.expect("bind");
        let port = rtp.local_addr().expect("address").port();
        if port % 2 != 0 || port == u16::MAX {
            continue;
        }
        if let Ok(rtcp) = UdpSocket::bind((ip, port + 1)).await {
            return (rtp, rtcp);
        }
    }
    panic!("no free RTP/RTCP pair on {ip}");
}

/// A second app, registered from the LAN with plain UDP sockets as its
/// media: the other party of a call, which sees every packet.
pub struct OtherApp {
    pub client: PortalClient,
    pub token: Secret,
    pub rtp: UdpSocket,
    /// Bound so that the other side's RTCP (to RTP + 1) is not refused.
    _rtcp: UdpSocket,
    events: mpsc::UnboundedReceiver<StreamEvent>,
    _stream: EventStream,
}

impl OtherApp {
    /// `user` logged in and registered from the LAN, its stream open.
    pub async fn register(gateway: &TestGateway, user: (&str, &str)) -> Self {
        let client = gateway.client(gateway.lan, Some(LAN_IP));
        let session = client
            .login(user.0, &Secret::new(user.1), &android())
            .await
            .expect("logged in");
        let (rtp, rtcp) = rtp_pair(LAN_IP).await;
        client
            .register(&session.token, rtp.local_addr().expect("address"))
            .await
            .expect("registered");
        let (stream, events) =
            EventStream::spawn(client.clone(), session.token.clone(), Backoff::default());
        Self {
            client,
            token: session.token,
            rtp,
            _rtcp: rtcp,
            events,
            _stream: stream,
        }
    }

    /// The next call view `wanted` accepts (others skipped).
    pub async fn call(&mut self, wanted: impl Fn(&CallView) -> bool) -> CallView {
        let found = tokio::time::timeout(PATIENCE, async {
            loop {
                match self.events.recv().await {
                    Some(StreamEvent::Event(Event::Call(view))) if wanted(&view) => break view,
                    Some(_) => {}
                    None => panic!("the other app's stream ended"),
                }
            }
        })
        .await;
        found.expect("the awaited call view in time")
    }

    pub async fn request(&self, request: CallRequest) {
        self.client
            .call(&self.token, &request)
            .await
            .expect("the request is taken");
    }

    /// The source of the next RTP packet this app receives.
    pub async fn rtp_source(&self) -> SocketAddr {
        let mut buffer = [0u8; 1500];
        let (_, from) = tokio::time::timeout(PATIENCE, self.rtp.recv_from(&mut buffer))
            .await
            .expect("RTP in time")
            .expect("received");
        from
    }
}

/// The real gateway (its portal is the LAN server) and a port forward to
/// it as the WAN server.
pub(crate) struct Servers {
    pub gateway: TestGateway,
    pub wan: Forward,
}

pub(crate) async fn servers() -> Servers {
    let gateway = TestGateway::start().await;
    let wan = Forward::start(LAN_IP, gateway.lan).await;
    Servers { gateway, wan }
}

/// 210 Dan in the company WiFi with `lan` as the LAN server.
pub(crate) fn settings(servers: &Servers, lan: SocketAddr) -> PortalSettings {
    PortalSettings::new(
        DAN.0,
        Secret::new(DAN.1),
        &servers.wan.address.to_string(),
        Some(&lan.to_string()),
        Network::CompanyWifi,
        servers.gateway.trust(),
    )
    .expect("settings")
}

/// Short LAN timeout for tests.
pub(crate) fn fast() -> AgentTimers {
    let mut timers = AgentTimers::default();
    timers.selection.lan_timeout = Duration::from_millis(300);
    timers.selection.wan_timeout = Duration::from_secs(5);
    timers
}

/// G.711 media with no sound device.
pub(crate) fn media() -> MediaOptions {
    MediaOptions::g711(Box::new(NullBackend))
}
