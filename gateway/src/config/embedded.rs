//! The built-in configuration of `gateway run` without a file.
//!
//! It must not ship known passwords (anyone could read them in the source),
//! so its clients have none: on first start each gets a generated strong
//! password, persisted in `<data dir>/default-passwords.toml` (mode 0600)
//! and reused on later starts, so phones configured once keep working.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use super::error::{ConfigError, ConfigErrors};
use super::secret::{self, Secret};
use super::validated::ValidatedConfig;
use super::{files, parse, parse_error, validate};

/// The built-in configuration, without passwords.
pub const DEFAULT_TOML: &str = include_str!("default.toml");

/// How parse errors name the built-in configuration.
pub const ORIGIN: &str = "embedded default";

/// File name of the password store in the data directory.
pub const PASSWORDS_FILE: &str = "default-passwords.toml";

/// The loaded built-in configuration and where its passwords are.
#[derive(Debug)]
pub struct EmbeddedDefault {
    /// The validated configuration, passwords filled in.
    pub config: ValidatedConfig,
    /// The password store, to show the user where to find the passwords.
    pub passwords_file: PathBuf,
}

/// Loads the built-in configuration with the passwords stored in
/// `data_dir`, generating (and storing) any that are missing.
pub fn load(data_dir: &Path) -> Result<EmbeddedDefault, ConfigErrors> {
    let mut config = parse(DEFAULT_TOML, ORIGIN)?;
    let passwords_file = data_dir.join(PASSWORDS_FILE);
    let mut stored = read_store(&passwords_file)?;
    let mut rng = rand::rng();
    let mut generated = false;
    for client in &mut config.clients {
        let secret = stored.entry(client.number.clone()).or_insert_with(|| {
            generated = true;
            secret::generate_password(&mut rng, &client.number)
        });
        client.password = Some(secret.clone());
    }
    if generated {
        files::create_private_dir(data_dir)?;
        files::write_private(&passwords_file, &render_store(&stored), true)?;
    }
    Ok(EmbeddedDefault {
        config: validate(config)?,
        passwords_file,
    })
}

/// The stored passwords by client number; empty when there is no store yet.
fn read_store(path: &Path) -> Result<BTreeMap<String, Secret>, ConfigError> {
    let Some(text) = files::read_optional(path)? else {
        return Ok(BTreeMap::new());
    };
    toml::from_str(&text).map_err(|error| parse_error(&text, &path.display().to_string(), &error))
}

fn render_store(passwords: &BTreeMap<String, Secret>) -> String {
    let mut text = String::from(
        "# Passwords of the clients of the built-in configuration of `gateway run`,\n\
         # generated on first start and reused after. Keep this file private.\n\
         # Enter a client's password on its phone (HFA password, guide 4.1) or in\n\
         # myPortal to go (UC password, guide 4.2). Delete the file for new ones.\n",
    );
    for (number, secret) in passwords {
        let _ = writeln!(
            text,
            "{} = {}",
            files::toml_string(number),
            files::toml_string(secret.expose())
        );
    }
    text
}
