//! Test support: rcgen certificates and a real TLS listener (tokio-rustls)
//! whose certificate can be swapped at the same address, for the trust and
//! client tests.

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, PoisonError};

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
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
