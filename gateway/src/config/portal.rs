//! `[portal]`: the myPortal to go HTTPS server (guide 1.3.3): the
//! administrator's own certificate, or none (the gateway then generates a
//! self-signed one on first start), and how long a login lasts.

use std::fmt;
use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use tokio_rustls::rustls::crypto::aws_lc_rs;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::rustls::sign::CertifiedKey;

/// Default session lifetime: one hour.
pub const DEFAULT_SESSION_LIFETIME_SECONDS: NonZeroU32 = NonZeroU32::new(3600).expect("not zero");

/// The `[portal]` section as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PortalSection {
    /// PEM file with the server certificate (chain, leaf first).
    #[serde(default)]
    pub certificate: Option<PathBuf>,
    /// PEM file with its private key (PKCS#8, PKCS#1 or SEC1).
    #[serde(default)]
    pub private_key: Option<PathBuf>,
    /// Seconds a login lasts unless refreshed.
    #[serde(default = "session_lifetime_seconds")]
    pub session_lifetime_seconds: NonZeroU32,
}

fn session_lifetime_seconds() -> NonZeroU32 {
    DEFAULT_SESSION_LIFETIME_SECONDS
}

impl Default for PortalSection {
    fn default() -> Self {
        Self {
            certificate: None,
            private_key: None,
            session_lifetime_seconds: session_lifetime_seconds(),
        }
    }
}

impl PortalSection {
    /// How long a login lasts unless refreshed.
    pub fn session_lifetime(&self) -> Duration {
        Duration::from_secs(u64::from(self.session_lifetime_seconds.get()))
    }
}

/// A certificate chain with its private key. `Debug` never shows the key.
pub struct TlsIdentity {
    /// The chain, leaf first.
    pub chain: Vec<CertificateDer<'static>>,
    pub key: PrivateKeyDer<'static>,
}

impl fmt::Debug for TlsIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsIdentity")
            .field("certificates", &self.chain.len())
            .finish_non_exhaustive()
    }
}

/// Why a certificate or key cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    /// The file could not be read.
    #[error("cannot read: {0}")]
    Read(#[source] std::io::Error),
    /// No PEM `CERTIFICATE` block, or a malformed one.
    #[error("not a PEM certificate: {0}")]
    Certificate(String),
    /// No PEM private key block, or a malformed or unsupported key.
    #[error("not a usable PEM private key: {0}")]
    Key(String),
    /// The key is not the certificate's.
    #[error("the private key does not belong to the certificate: {0}")]
    Mismatch(String),
}

/// Which of the two files an [`IdentityError`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdentityFile {
    Certificate,
    PrivateKey,
}

impl IdentityFile {
    /// The configuration field naming the file.
    pub fn field(self) -> &'static str {
        match self {
            Self::Certificate => "portal.certificate",
            Self::PrivateKey => "portal.private_key",
        }
    }
}

impl TlsIdentity {
    /// Reads and checks the administrator's PEM files.
    pub fn load(certificate: &Path, key: &Path) -> Result<Self, (IdentityFile, IdentityError)> {
        let read = |path: &Path, which| {
            std::fs::read(path).map_err(|error| (which, IdentityError::Read(error)))
        };
        let certificate = read(certificate, IdentityFile::Certificate)?;
        let key = read(key, IdentityFile::PrivateKey)?;
        Self::from_pem(&certificate, &key)
    }

    /// Parses a PEM chain and key and checks that they belong together.
    pub fn from_pem(certificate: &[u8], key: &[u8]) -> Result<Self, (IdentityFile, IdentityError)> {
        let chain = CertificateDer::pem_slice_iter(certificate)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|error| {
                let error = IdentityError::Certificate(error.to_string());
                (IdentityFile::Certificate, error)
            })?;
        if chain.is_empty() {
            let error = IdentityError::Certificate("no CERTIFICATE block".into());
            return Err((IdentityFile::Certificate, error));
        }
        let key = PrivateKeyDer::from_pem_slice(key).map_err(|error| {
            (
                IdentityFile::PrivateKey,
                IdentityError::Key(error.to_string()),
            )
        })?;
        let identity = Self { chain, key };
        identity.certified_key()?;
        Ok(identity)
    }

    /// The chain and the loaded signing key, checked to match.
    pub fn certified_key(&self) -> Result<CertifiedKey, (IdentityFile, IdentityError)> {
        let provider = aws_lc_rs::default_provider();
        let signer = provider
            .key_provider
            .load_private_key(self.key.clone_key())
            .map_err(|error| {
                (
                    IdentityFile::PrivateKey,
                    IdentityError::Key(error.to_string()),
                )
            })?;
        let certified = CertifiedKey::new(self.chain.clone(), signer);
        certified.keys_match().map_err(|error| {
            (
                IdentityFile::PrivateKey,
                IdentityError::Mismatch(error.to_string()),
            )
        })?;
        Ok(certified)
    }
}
