//! The gateway's configuration: a TOML file modelling the OpenScape
//! Business system as the Device@Home guide describes it, checked against
//! every rule of the guide before anything starts.
//!
//! ```text
//! text --parse--> Config --validate--> ValidatedConfig (+ warnings)
//!                   |                     |
//!                   +--- ConfigErrors <---+  (all errors, one per line)
//! ```
//!
//! * [`model`]: the serde types of the file (unknown fields are errors).
//! * [`validate()`]: the rules; collects every error and warning.
//! * [`ValidatedConfig`]: what the servers use: clients by number,
//!   [`ValidatedConfig::is_company_lan`], ports, minimum versions, lockout.
//! * [`init`] and [`embedded`]: the example file of `gateway init` and the
//!   built-in default of `gateway run`, both with generated passwords.
//!
//! Passwords are [`Secret`]s and never appear in an error, a warning, the
//! summary or `Debug` output.

pub mod call_timers;
pub mod calls;
pub mod client;
pub mod cos;
pub mod data_dir;
pub mod dialing;
pub mod embedded;
pub mod error;
mod files;
pub mod init;
pub mod media;
pub mod model;
pub mod net;
pub mod numbering;
pub mod password;
pub mod portal;
pub mod public_address;
pub mod secret;
pub mod stun;
pub mod summary;
pub mod system;
mod validate;
mod validate_clients;
mod validate_dialing;
mod validate_ports;
pub mod validated;
pub mod versions;
pub mod warning;

use std::fs;
use std::path::Path;

pub use client::{Client, ClientKind, HfaDevice, HfaFamily};
pub use error::{ConfigError, ConfigErrors};
pub use model::Config;
pub use secret::Secret;
pub use stun::EffectiveStun;
pub use system::{LanInterface, RtpRange, SystemModel};
pub use validate::validate;
pub use validated::{LockoutSettings, ValidatedConfig};
pub use versions::MinVersions;
pub use warning::ConfigWarning;

/// Reads, parses and validates the configuration file at `path`.
pub fn load_file(path: &Path) -> Result<ValidatedConfig, ConfigErrors> {
    let text = fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_owned(),
        source,
    })?;
    from_toml_str(&text, &path.display().to_string())
}

/// Parses and validates configuration `text`; `origin` names it in parse
/// errors (a file name, or e.g. "embedded default").
pub fn from_toml_str(text: &str, origin: &str) -> Result<ValidatedConfig, ConfigErrors> {
    validate(parse(text, origin)?)
}

/// Parses configuration `text` without checking the guide's rules.
pub fn parse(text: &str, origin: &str) -> Result<Config, ConfigError> {
    toml::from_str(text).map_err(|error| parse_error(text, origin, &error))
}

/// A parse error with 1-based line and column. Only the parser's message
/// is kept, not its rendering with the source line, which could show a
/// password written next to the mistake.
pub(crate) fn parse_error(text: &str, origin: &str, error: &toml::de::Error) -> ConfigError {
    let offset = error.span().map_or(0, |span| span.start);
    let before = text.get(..offset).unwrap_or("");
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    ConfigError::Parse {
        origin: origin.to_owned(),
        line,
        column,
        message: error.message().trim().to_owned(),
    }
}
