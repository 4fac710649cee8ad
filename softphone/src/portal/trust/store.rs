//! The known-gateways store of trust on first use: a TOML file mapping each
//! gateway address (`host:port`) to its certificate's fingerprint.
//!
//! ```toml
//! [gateways]
//! "company.example.com:8802" = "AB:CD:...:EF"
//! ```
//!
//! An entry is only ever added; a changed certificate is refused by the
//! verifier and the entry stays as it was.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use serde::{Deserialize, Serialize};

use super::{Fingerprint, TrustError};

/// Serialises read-modify-write of store files within this process.
static WRITING: Mutex<()> = Mutex::new(());

/// The file's contents.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    gateways: BTreeMap<String, String>,
}

/// A known-gateways file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownGateways {
    path: PathBuf,
}

impl KnownGateways {
    pub fn new(path: PathBuf) -> Self {
        Self { path }
    }

    /// `$XDG_CONFIG_HOME/device-at-home/known-gateways.toml` (or the
    /// platform's config directory).
    pub fn default_path() -> Option<PathBuf> {
        dirs::config_dir().map(|dir| dir.join("device-at-home").join("known-gateways.toml"))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The fingerprint remembered for `server`.
    pub fn lookup(&self, server: &str) -> Result<Option<Fingerprint>, TrustError> {
        let file = self.read()?;
        file.gateways
            .get(server)
            .map(|text| {
                text.parse()
                    .map_err(|e| self.error(format!("{server}: {e}")))
            })
            .transpose()
    }

    /// Remembers `fingerprint` for `server`; refuses to replace a different
    /// one.
    pub fn remember(&self, server: &str, fingerprint: Fingerprint) -> Result<(), TrustError> {
        let _writing = WRITING.lock().unwrap_or_else(PoisonError::into_inner);
        let mut file = self.read()?;
        if let Some(known) = file.gateways.get(server) {
            let expected: Fingerprint = known
                .parse()
                .map_err(|e| self.error(format!("{server}: {e}")))?;
            if expected == fingerprint {
                return Ok(());
            }
            return Err(TrustError::Changed {
                server: server.to_owned(),
                expected,
                found: fingerprint,
                store: self.path.clone(),
            });
        }
        file.gateways
            .insert(server.to_owned(), fingerprint.to_string());
        let text = toml::to_string(&file).map_err(|e| self.error(e.to_string()))?;
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| self.error(e.to_string()))?;
        }
        // Written beside, then renamed: a crash never leaves half a file.
        let partial = self.path.with_extension("toml.partial");
        std::fs::write(&partial, text).map_err(|e| self.error(e.to_string()))?;
        std::fs::rename(&partial, &self.path).map_err(|e| self.error(e.to_string()))
    }

    fn read(&self) -> Result<File, TrustError> {
        match std::fs::read_to_string(&self.path) {
            Ok(text) => toml::from_str(&text).map_err(|e| self.error(e.to_string())),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(File::default()),
            Err(error) => Err(self.error(error.to_string())),
        }
    }

    fn error(&self, reason: String) -> TrustError {
        TrustError::Store {
            path: self.path.clone(),
            reason,
        }
    }
}
