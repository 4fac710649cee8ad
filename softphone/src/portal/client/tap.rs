//! The portal client's HTTPS in its own capture (`--capture FILE`).
//!
//! reqwest owns its TCP sockets, and its `connector_layer` hands out an
//! opaque connection, so the bytes cannot be read where they pass. Instead
//! the client talks to a Unix socket of its own (`unix_socket()`), and
//! this tap relays each connection to the real server over a real TCP
//! socket, recording both directions with that socket's 4-tuple.
//!
//! Why a Unix socket and not a TCP tap reached through `resolve()`: an
//! overridden address keeps the URL's port, and the URL must keep the
//! server's port for the Host header. Over the Unix socket reqwest still
//! does everything as before: TLS with our verifier, SNI and certificate
//! checks against the server's name, HTTP/2 by ALPN, its timeouts; only
//! the TCP connection is the tap's. The tap connects as reqwest would
//! (every address of the name in turn, from the bound local address,
//! within the connect timeout) and keeps why it could not, so the client
//! still says "connection refused" rather than "connection closed".

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use shared::capture::Capture;
use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncWrite, AsyncWriteExt as _};
use tokio::net::{TcpSocket, TcpStream, UnixListener, UnixStream};
use tokio::task::JoinHandle;

use crate::portal::settings::ServerAddress;

/// One server's tap: its Unix socket, and the task relaying connections.
#[derive(Debug)]
pub struct Tap {
    dir: PathBuf,
    socket: PathBuf,
    accept: JoinHandle<()>,
    failure: Arc<Mutex<Option<String>>>,
}

impl Tap {
    /// Listens on a private Unix socket; each connection is relayed to
    /// `server` from `bind`, into `capture`.
    pub fn start(
        server: &ServerAddress,
        bind: Option<IpAddr>,
        connect_timeout: Duration,
        capture: Capture,
    ) -> std::io::Result<Self> {
        use std::os::unix::fs::DirBuilderExt as _;
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let dir = std::env::temp_dir().join(format!(
            "softphone-tap-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        // Only this user may connect through the tap.
        std::fs::DirBuilder::new().mode(0o700).create(&dir)?;
        let socket = dir.join("portal.sock");
        let listener = UnixListener::bind(&socket)?;
        let failure = Arc::new(Mutex::new(None));
        let target = Target {
            server: server.clone(),
            bind,
            connect_timeout,
            capture,
            failure: failure.clone(),
        };
        let accept = tokio::spawn(async move {
            while let Ok((app, _)) = listener.accept().await {
                tokio::spawn(target.clone().relay(app));
            }
        });
        Ok(Self {
            dir,
            socket,
            accept,
            failure,
        })
    }

    /// The socket the HTTPS client connects to.
    pub fn socket(&self) -> &std::path::Path {
        &self.socket
    }

    /// Why the last connection to the server failed, once.
    pub fn take_failure(&self) -> Option<String> {
        self.failure
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
    }
}

impl Drop for Tap {
    fn drop(&mut self) {
        self.accept.abort();
        let _ = std::fs::remove_file(&self.socket);
        let _ = std::fs::remove_dir(&self.dir);
    }
}

/// Where and how the tap connects.
#[derive(Debug, Clone)]
struct Target {
    server: ServerAddress,
    bind: Option<IpAddr>,
    connect_timeout: Duration,
    capture: Capture,
    failure: Arc<Mutex<Option<String>>>,
}

impl Target {
    async fn relay(self, app: UnixStream) {
        let connected = tokio::time::timeout(self.connect_timeout, self.connect()).await;
        let server = match connected {
            Ok(Ok(server)) => server,
            Ok(Err(error)) => return self.failed(error.to_string()),
            Err(_) => return self.failed("connection timed out".to_owned()),
        };
        let (Ok(local), Ok(remote)) = (server.local_addr(), server.peer_addr()) else {
            return self.failed("the connection has no address".to_owned());
        };
        self.capture.tcp_open(local, remote);
        let (app_read, app_write) = app.into_split();
        let (server_read, server_write) = server.into_split();
        let capture = &self.capture;
        tokio::join!(
            pump(app_read, server_write, capture, (local, remote)),
            pump(server_read, app_write, capture, (remote, local)),
        );
    }

    /// Every address of the server's name in turn, as reqwest does.
    async fn connect(&self) -> std::io::Result<TcpStream> {
        let targets =
            tokio::net::lookup_host((self.server.host.as_str(), self.server.port)).await?;
        let mut last = None;
        for target in targets {
            match connect_from(self.bind, target).await {
                Ok(stream) => return Ok(stream),
                Err(error) => last = Some(error),
            }
        }
        Err(last.unwrap_or_else(|| std::io::Error::other("the name has no address")))
    }

    fn failed(&self, why: String) {
        *self.failure.lock().unwrap_or_else(PoisonError::into_inner) = Some(why);
    }
}

/// Copies `from` to `to`, recording each chunk as `direction` (from, to);
/// at the end, the half-close.
async fn pump(
    mut from: impl AsyncRead + Unpin,
    mut to: impl AsyncWrite + Unpin,
    capture: &Capture,
    (source, destination): (SocketAddr, SocketAddr),
) {
    let mut buffer = vec![0u8; 16 * 1024];
    loop {
        let n = match from.read(&mut buffer).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let chunk = buffer.get(..n).unwrap_or_default();
        capture.tcp(source, destination, chunk);
        if to.write_all(chunk).await.is_err() {
            break;
        }
    }
    capture.tcp_close(source, destination);
    let _ = to.shutdown().await;
}

async fn connect_from(bind: Option<IpAddr>, target: SocketAddr) -> std::io::Result<TcpStream> {
    let Some(local) = bind else {
        return TcpStream::connect(target).await;
    };
    let socket = if local.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    socket.bind(SocketAddr::new(local, 0))?;
    socket.connect(target).await
}
