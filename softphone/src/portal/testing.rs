//! Test support: rcgen certificates and a real TLS listener (tokio-rustls)
//! whose certificate can be swapped at the same address, for the trust and
//! client tests.

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, PoisonError};

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use shared::portal::{
    CallState, CallView, Event, LoginNonce, LoginRequest, VoipRegistration, verify_login_proof,
};
use shared::secret::Secret;
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

use super::trust::{Fingerprint, provider};

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
pub fn temp_path(name: &str) -> std::path::PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    std::env::temp_dir().join(format!(
        "softphone-portal-{name}-{}-{nanos}",
        std::process::id()
    ))
}

/// One request the fake portal received.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Where it came from (the client's local address).
    pub peer: SocketAddr,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    pub fn json<T: serde::de::DeserializeOwned>(&self) -> T {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }
}

/// What the fake portal answers.
#[derive(Debug)]
pub enum Reply {
    /// A status and a JSON body.
    Json(u16, String),
    /// A status without a body.
    Empty(u16),
    /// An event stream: each raw chunk as it comes, closed when the
    /// sender is dropped (or the client goes).
    Sse(tokio::sync::mpsc::UnboundedReceiver<String>),
}

/// A portal server good enough for the client's tests: HTTP/1.1 over real
/// TLS, one request per connection, answers from the test's handler.
pub struct FakePortal {
    pub listener: TlsListener,
    pub requests: Arc<Mutex<Vec<Request>>>,
}

impl FakePortal {
    pub async fn start<H>(ip: IpAddr, cert: &TestCert, handler: H) -> Self
    where
        H: Fn(&Request) -> Reply + Send + Sync + 'static,
    {
        let requests = Arc::new(Mutex::new(Vec::new()));
        let recorded = requests.clone();
        let handler = Arc::new(handler);
        let listener = TlsListener::start(ip, cert, move |tls| {
            let recorded = recorded.clone();
            let handler = handler.clone();
            async move { serve_one(tls, &recorded, handler.as_ref()).await }
        })
        .await;
        Self { listener, requests }
    }

    pub fn address(&self) -> SocketAddr {
        self.listener.address
    }

    /// The requests so far to `path`.
    pub fn requests_to(&self, path: &str) -> Vec<Request> {
        self.requests
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .filter(|request| request.path == path)
            .cloned()
            .collect()
    }
}

async fn serve_one(
    mut tls: TlsStream<TcpStream>,
    recorded: &Mutex<Vec<Request>>,
    handler: &(dyn Fn(&Request) -> Reply + Send + Sync),
) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let Ok(peer) = tls.get_ref().0.peer_addr() else {
        return;
    };
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(at) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break at;
        }
        match tls.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buffer.extend_from_slice(&chunk[..n]),
        }
    };
    let head = String::from_utf8_lossy(&buffer[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut start = lines.next().unwrap_or_default().split(' ');
    let method = start.next().unwrap_or_default().to_owned();
    let path = start.next().unwrap_or_default().to_owned();
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(key, value)| (key.trim().to_owned(), value.trim().to_owned()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(key, _)| key.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, value)| value.parse().ok())
        .unwrap_or(0);
    let mut body = buffer[head_end + 4..].to_vec();
    while body.len() < length {
        match tls.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => body.extend_from_slice(&chunk[..n]),
        }
    }
    let request = Request {
        method,
        path,
        headers,
        body,
        peer,
    };
    let reply = handler(&request);
    recorded
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(request);
    match reply {
        Reply::Json(status, body) => {
            let head = format!(
                "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
                 Connection: close\r\n\r\n",
                body.len()
            );
            let _ = tls.write_all(head.as_bytes()).await;
            let _ = tls.write_all(body.as_bytes()).await;
        }
        Reply::Empty(status) => {
            let head =
                format!("HTTP/1.1 {status} X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
            let _ = tls.write_all(head.as_bytes()).await;
        }
        Reply::Sse(mut chunks) => {
            let head = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n\
                        Connection: close\r\n\r\n";
            let _ = tls.write_all(head.as_bytes()).await;
            let _ = tls.flush().await;
            loop {
                tokio::select! {
                    next = chunks.recv() => match next {
                        Some(text) => {
                            if tls.write_all(text.as_bytes()).await.is_err() {
                                break;
                            }
                            let _ = tls.flush().await;
                        }
                        None => break,
                    },
                    read = tls.read(&mut chunk) => if !matches!(read, Ok(n) if n > 0) {
                        break;
                    },
                }
            }
        }
    }
    let _ = tls.shutdown().await;
}

/// The UC password of the fake gateway's user 210.
pub const PASSWORD: &str = "Portal-Pass-2026!";
const NONCE: LoginNonce = LoginNonce([0x33; 32]);

/// A gateway behind one or more fake servers (LAN, WAN) for user 210:
/// one session (token `tok-9`), its open event streams.
#[derive(Default)]
pub struct FakeGateway {
    pub streams: Mutex<Vec<tokio::sync::mpsc::UnboundedSender<String>>>,
    pub logins: Mutex<u32>,
    /// Session lifetime given at login and refresh (default 3600 s).
    pub expires_in_s: Mutex<Option<u64>>,
    /// When set, event streams are refused (503).
    pub refuse_streams: std::sync::atomic::AtomicBool,
    /// When set, a dialled call connects at once with media to here.
    pub answer_with_media: Mutex<Option<SocketAddr>>,
}

impl FakeGateway {
    pub fn answer(&self, request: &Request) -> Reply {
        let json = |status, body: String| Reply::Json(status, body);
        let authorised = request.header("authorization") == Some("Bearer tok-9");
        match (request.method.as_str(), request.path.as_str()) {
            ("POST", "/api/v1/login/challenge") => json(
                200,
                format!(
                    r#"{{"challenge_id":"c","nonce":"{}","expires_in_s":30}}"#,
                    NONCE.to_hex()
                ),
            ),
            ("POST", "/api/v1/login") => {
                let login: LoginRequest = request.json();
                let client = LoginNonce::from_hex(&login.client_nonce).expect("nonce");
                assert!(verify_login_proof(
                    &Secret::new(PASSWORD),
                    "210",
                    &NONCE,
                    &client,
                    &login.proof
                ));
                *self.logins.lock().unwrap_or_else(PoisonError::into_inner) += 1;
                json(200, self.session())
            }
            _ if !authorised => json(401, r#"{"code":"unauthorized","message":"no"}"#.into()),
            ("POST", "/api/v1/voip/register") => {
                let offer: VoipRegistration = request.json();
                json(
                    200,
                    serde_json::json!({"number": "210", "codecs": offer.codecs, "internet": false})
                        .to_string(),
                )
            }
            ("GET", "/api/v1/events")
                if self
                    .refuse_streams
                    .load(std::sync::atomic::Ordering::SeqCst) =>
            {
                json(503, r#"{"code":"busy","message":"no events now"}"#.into())
            }
            ("GET", "/api/v1/events") => {
                let (sender, receiver) = tokio::sync::mpsc::unbounded_channel();
                let _ = sender.send(
                    "event: registration\ndata: {\"type\":\"registration\",\"state\":\"registered\"}\n\n"
                        .to_owned(),
                );
                self.streams
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push(sender);
                Reply::Sse(receiver)
            }
            ("POST", "/api/v1/call/dial") => {
                self.push(&call(CallState::Calling, None));
                let peer = *self
                    .answer_with_media
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner);
                if let Some(rtp) = peer {
                    self.push(&call(
                        CallState::Connected,
                        Some(shared::portal::MediaTarget {
                            rtp,
                            rtcp_port: rtp.port() + 1,
                            payload_type: 8,
                            ptime_ms: 20,
                        }),
                    ));
                }
                Reply::Empty(204)
            }
            ("POST", "/api/v1/session/refresh") => json(200, self.session()),
            ("POST", "/api/v1/call/hangup") => {
                self.push(&call(CallState::Idle, None));
                Reply::Empty(204)
            }
            _ => Reply::Empty(204),
        }
    }

    fn session(&self) -> String {
        let expires = self
            .expires_in_s
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .unwrap_or(3600);
        format!(r#"{{"token":"tok-9","expires_in_s":{expires},"number":"210","name":"Dan"}}"#)
    }

    /// Closes every open stream.
    pub fn close_streams(&self) {
        self.streams
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }

    /// Sends `event` on every open stream.
    pub fn push(&self, event: &Event) {
        let chunk = format!("event: {}\ndata: {}\n\n", event.name(), event.to_data());
        self.streams
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .retain(|stream| stream.send(chunk.clone()).is_ok());
    }
}

/// The line's call with 201 Anna.
fn call(state: CallState, media: Option<shared::portal::MediaTarget>) -> Event {
    Event::Call(CallView {
        state,
        peer: Some("201 Anna".into()),
        reason: None,
        media,
    })
}
