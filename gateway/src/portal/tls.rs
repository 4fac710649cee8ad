//! The portal's TLS: TLS 1.2 and 1.3 only, ALPN h2 and http/1.1, with the
//! administrator's certificate or a self-signed one the gateway generates
//! on first start and keeps in its data directory (key mode 0600), so its
//! SHA-256 fingerprint, which the app pins, stays the same across restarts.

use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use sha2::{Digest, Sha256};
use tokio_rustls::rustls::crypto::aws_lc_rs;
use tokio_rustls::rustls::{self, ServerConfig};

use crate::config::ValidatedConfig;
use crate::config::portal::{IdentityError, IdentityFile, TlsIdentity};

/// The generated certificate's file in the data directory.
pub const CERTIFICATE_FILE: &str = "portal-certificate.pem";
/// Its private key's file (mode 0600).
pub const KEY_FILE: &str = "portal-key.pem";

/// Why the portal's TLS cannot be set up.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// The data directory is not configured or cannot be found.
    #[error("no data directory for the portal certificate: {0}")]
    DataDir(#[source] crate::config::ConfigError),
    /// A certificate or key file cannot be used.
    #[error("{}: {reason}", path.display())]
    Identity {
        path: PathBuf,
        #[source]
        reason: IdentityError,
    },
    /// Writing the generated certificate failed.
    #[error("{}: cannot write: {source}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// rcgen could not make the certificate.
    #[error("cannot generate the portal certificate: {0}")]
    Generate(#[from] rcgen::Error),
    /// rustls refused the configuration.
    #[error("TLS configuration: {0}")]
    Rustls(#[from] rustls::Error),
}

/// The server's certificate and TLS configuration.
#[derive(Debug, Clone)]
pub struct PortalTls {
    pub config: Arc<ServerConfig>,
    /// SHA-256 of the leaf certificate's DER, `AB:CD:…`.
    pub fingerprint: String,
}

/// The SHA-256 fingerprint of a DER certificate: colon-separated
/// uppercase hex.
pub fn fingerprint(der: &[u8]) -> String {
    Sha256::digest(der)
        .iter()
        .map(|byte| format!("{byte:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// The TLS setup for `config`, listening on `listen`: the configured
/// certificate, or the generated one from the data directory (made now if
/// there is none yet).
pub fn setup(config: &ValidatedConfig, listen: SocketAddr) -> Result<PortalTls, TlsError> {
    let portal = &config.config().portal;
    let identity = match (&portal.certificate, &portal.private_key) {
        (Some(certificate), Some(key)) => load(certificate, key)?,
        _ => {
            let dir = config.data_dir().map_err(TlsError::DataDir)?;
            generated(config, listen, &dir)?
        }
    };
    server_config(identity)
}

fn load(certificate: &Path, key: &Path) -> Result<TlsIdentity, TlsError> {
    TlsIdentity::load(certificate, key).map_err(|(file, reason)| TlsError::Identity {
        path: match file {
            IdentityFile::Certificate => certificate.to_owned(),
            IdentityFile::PrivateKey => key.to_owned(),
        },
        reason,
    })
}

/// The self-signed certificate in `dir`, generated on first use.
fn generated(
    config: &ValidatedConfig,
    listen: SocketAddr,
    dir: &Path,
) -> Result<TlsIdentity, TlsError> {
    let (certificate, key) = (dir.join(CERTIFICATE_FILE), dir.join(KEY_FILE));
    if certificate.exists() && key.exists() {
        return load(&certificate, &key);
    }
    let mut names: Vec<String> = Vec::new();
    let listen_ip = (!listen.ip().is_unspecified()).then(|| listen.ip().to_string());
    let candidates = config
        .public_address()
        .map(ToString::to_string)
        .into_iter()
        .chain(listen_ip)
        .chain(["localhost".to_owned(), "127.0.0.1".to_owned()]);
    for name in candidates {
        if !names.contains(&name) {
            names.push(name);
        }
    }
    let made = rcgen::generate_simple_self_signed(names)?;
    let write_error = |path: &Path| {
        let path = path.to_owned();
        move |source| TlsError::Write { path, source }
    };
    std::fs::create_dir_all(dir).map_err(write_error(dir))?;
    // The key first, private from its creation; the certificate last, so a
    // crash in between leaves no certificate without its key.
    write_private(&key, made.signing_key.serialize_pem().as_bytes()).map_err(write_error(&key))?;
    std::fs::write(&certificate, made.cert.pem()).map_err(write_error(&certificate))?;
    load(&certificate, &key)
}

/// Writes `bytes` to `path`, readable by the owner only.
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

fn server_config(identity: TlsIdentity) -> Result<PortalTls, TlsError> {
    let fingerprint = identity
        .chain
        .first()
        .map(|leaf| fingerprint(leaf))
        .unwrap_or_default();
    let mut config = ServerConfig::builder_with_provider(Arc::new(aws_lc_rs::default_provider()))
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])?
        .with_no_client_auth()
        .with_single_cert(identity.chain, identity.key)?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    // Wireshark decrypts the portal API with the session keys written to
    // $SSLKEYLOGFILE (NSS key log format); no file when it is unset.
    config.key_log = Arc::new(rustls::KeyLogFile::new());
    Ok(PortalTls {
        config: Arc::new(config),
        fingerprint,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_are_colon_separated_uppercase_sha256() {
        let text = fingerprint(b"abc");
        assert_eq!(
            text,
            "BA:78:16:BF:8F:01:CF:EA:41:41:40:DE:5D:AE:22:23:B0:03:61:A3:96:17:7A:9C:B4:10:FF:61:F2:00:15:AD"
        );
    }
}
