//! Whether the gateway's certificate is trusted (docs/portal-api.md,
//! Transport): a pinned SHA-256 fingerprint, a CA file, or trust on first
//! use with a store of known gateways.
//!
//! [`GatewayVerifier`] is a rustls `ServerCertVerifier`: it decides which
//! certificate is acceptable, and leaves the handshake signatures to the
//! crypto provider's algorithms, as the default verifier does. A refusal is
//! kept as a typed [`TrustError`] for the client to report
//! ([`GatewayVerifier::take_refusal`]): rustls itself only carries it as
//! an opaque error through reqwest's layers.

mod store;

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::{Arc, Mutex, PoisonError};

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, RootCertStore, SignatureScheme};
use sha2::{Digest, Sha256};

pub use store::KnownGateways;

/// The SHA-256 of a certificate's DER, shown as `AB:CD:...`.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Fingerprint(pub [u8; 32]);

impl Fingerprint {
    /// The fingerprint of `der`.
    pub fn of(der: &[u8]) -> Self {
        Self(Sha256::digest(der).into())
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, byte) in self.0.iter().enumerate() {
            if index > 0 {
                f.write_str(":")?;
            }
            write!(f, "{byte:02X}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Fingerprint({self})")
    }
}

/// Not 32 bytes of hex.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "fingerprint {value:?}: expected the certificate's SHA-256, 32 bytes in hex like AB:CD:...:EF \
     (colons optional)"
)]
pub struct FingerprintError {
    pub value: String,
}

impl FromStr for Fingerprint {
    type Err = FingerprintError;

    /// Upper or lower case, with or without colons.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let digits: String = text.trim().chars().filter(|c| *c != ':').collect();
        let mut bytes = [0u8; 32];
        hex::decode_to_slice(&digits, &mut bytes).map_err(|_| FingerprintError {
            value: text.to_owned(),
        })?;
        Ok(Self(bytes))
    }
}

/// How the gateway's certificate is trusted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trust {
    /// Exactly this certificate (its SHA-256), whatever its name or dates.
    Pin(Fingerprint),
    /// A chain to a CA in this PEM file, for the server's name.
    Ca(PathBuf),
    /// Trust on first use: the store remembers each gateway's certificate;
    /// an unknown one is refused unless it is `accept`.
    Tofu {
        store: PathBuf,
        accept: Option<Fingerprint>,
    },
}

impl Trust {
    /// Trust on first use with the default store.
    pub fn tofu(accept: Option<Fingerprint>) -> Result<Self, TrustError> {
        Ok(Self::Tofu {
            store: KnownGateways::default_path().ok_or(TrustError::NoConfigDir)?,
            accept,
        })
    }
}

/// Why a certificate, or the trust settings, were refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TrustError {
    /// Not the pinned certificate.
    #[error("certificate of {server} is not the pinned one: expected {expected}, found {found}")]
    PinMismatch {
        server: String,
        expected: Fingerprint,
        found: Fingerprint,
    },
    /// First contact under trust on first use: the user must accept it.
    #[error(
        "certificate of {server} is not known yet: SHA-256 fingerprint {fingerprint}; compare it \
         with the one the administrator gave you, then accept it"
    )]
    Unknown {
        server: String,
        fingerprint: Fingerprint,
    },
    /// A known gateway shows a different certificate: never updated
    /// silently.
    #[error(
        "CERTIFICATE CHANGED for {server}: expected {expected}, found {found}; refused (someone \
         may be intercepting, or the certificate was replaced: remove the entry from {store} only \
         if the administrator confirms the new fingerprint)"
    )]
    Changed {
        server: String,
        expected: Fingerprint,
        found: Fingerprint,
        store: PathBuf,
    },
    /// The CA's verification failed (chain, name, dates).
    #[error("certificate of {server} refused: {reason}")]
    Invalid { server: String, reason: String },
    /// The CA file is unusable.
    #[error("ca file {path}: {reason}")]
    CaFile { path: PathBuf, reason: String },
    /// The known-gateways store is unusable.
    #[error("known-gateways store {path}: {reason}")]
    Store { path: PathBuf, reason: String },
    /// No config directory for the default store.
    #[error(
        "no user config directory for the known-gateways store: set XDG_CONFIG_HOME or HOME, or \
         pin the certificate"
    )]
    NoConfigDir,
}

/// What a verifier accepts.
#[derive(Debug)]
enum Mode {
    Pin(Fingerprint),
    Ca(Arc<WebPkiServerVerifier>),
    Tofu {
        store: KnownGateways,
        accept: Option<Fingerprint>,
    },
}

/// The certificate verifier for one gateway address (`host:port`).
#[derive(Debug)]
pub struct GatewayVerifier {
    server: String,
    mode: Mode,
    provider: Arc<CryptoProvider>,
    refusal: Mutex<Option<TrustError>>,
}

impl GatewayVerifier {
    /// A verifier for `server` (`host:port`, the store's key) as `trust`
    /// says; reads the CA file now.
    pub fn new(
        server: String,
        trust: &Trust,
        provider: Arc<CryptoProvider>,
    ) -> Result<Self, TrustError> {
        let mode = match trust {
            Trust::Pin(fingerprint) => Mode::Pin(*fingerprint),
            Trust::Ca(path) => Mode::Ca(ca_verifier(path, provider.clone())?),
            Trust::Tofu { store, accept } => Mode::Tofu {
                store: KnownGateways::new(store.clone()),
                accept: *accept,
            },
        };
        Ok(Self {
            server,
            mode,
            provider,
            refusal: Mutex::new(None),
        })
    }

    /// Why the last handshake's certificate was refused, if it was.
    pub fn take_refusal(&self) -> Option<TrustError> {
        self.refusal
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
    }

    /// Whether `end_entity` is acceptable.
    fn check(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        now: UnixTime,
    ) -> Result<(), TrustError> {
        let found = Fingerprint::of(end_entity);
        match &self.mode {
            Mode::Pin(expected) if *expected == found => Ok(()),
            Mode::Pin(expected) => Err(TrustError::PinMismatch {
                server: self.server.clone(),
                expected: *expected,
                found,
            }),
            Mode::Ca(webpki) => webpki
                .verify_server_cert(end_entity, intermediates, server_name, &[], now)
                .map(|_| ())
                .map_err(|error| TrustError::Invalid {
                    server: self.server.clone(),
                    reason: error.to_string(),
                }),
            Mode::Tofu { store, accept } => match store.lookup(&self.server)? {
                Some(expected) if expected == found => Ok(()),
                Some(expected) => Err(TrustError::Changed {
                    server: self.server.clone(),
                    expected,
                    found,
                    store: store.path().to_owned(),
                }),
                None if *accept == Some(found) => store.remember(&self.server, found),
                None => Err(TrustError::Unknown {
                    server: self.server.clone(),
                    fingerprint: found,
                }),
            },
        }
    }
}

fn ca_verifier(
    path: &PathBuf,
    provider: Arc<CryptoProvider>,
) -> Result<Arc<WebPkiServerVerifier>, TrustError> {
    let ca_error = |reason: String| TrustError::CaFile {
        path: path.clone(),
        reason,
    };
    let mut roots = RootCertStore::empty();
    let certificates = CertificateDer::pem_file_iter(path).map_err(|e| ca_error(e.to_string()))?;
    for certificate in certificates {
        let certificate = certificate.map_err(|e| ca_error(e.to_string()))?;
        roots
            .add(certificate)
            .map_err(|e| ca_error(e.to_string()))?;
    }
    if roots.is_empty() {
        return Err(ca_error("no certificate in it".to_owned()));
    }
    WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider)
        .build()
        .map_err(|e| ca_error(e.to_string()))
}

impl ServerCertVerifier for GatewayVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self.check(end_entity, intermediates, server_name, now) {
            Ok(()) => Ok(ServerCertVerified::assertion()),
            Err(refusal) => {
                // The caller reports it (status and exit): a log line would repeat it.
                tracing::debug!("{refusal}");
                let error = rustls::Error::Other(rustls::OtherError(Arc::new(refusal.clone())));
                *self.refusal.lock().unwrap_or_else(PoisonError::into_inner) = Some(refusal);
                Err(error)
            }
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// A TLS 1.2/1.3 client configuration that trusts what `verifier` accepts,
/// offering HTTP/2 and HTTP/1.1.
pub fn client_config(
    verifier: Arc<GatewayVerifier>,
    provider: Arc<CryptoProvider>,
) -> Result<rustls::ClientConfig, rustls::Error> {
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    // Wireshark decrypts the portal API with the session keys written to
    // $SSLKEYLOGFILE (NSS key log format); no file when it is unset.
    config.key_log = Arc::new(rustls::KeyLogFile::new());
    Ok(config)
}

/// The crypto provider used for the gateway's TLS.
pub fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

#[cfg(test)]
mod tests;
