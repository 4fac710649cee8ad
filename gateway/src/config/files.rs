//! Writing files that hold passwords: created with mode 0600 so that no
//! other local user can read them, without a moment of wider permissions.

use std::fs::{self, DirBuilder, OpenOptions, Permissions};
use std::io::{ErrorKind, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

use super::error::ConfigError;

/// Writes `contents` to `path` with mode 0600. Without `overwrite` an
/// existing file is an [`ConfigError::AlreadyExists`] error; with it, the
/// file is truncated and its mode reset to 0600 before anything is written.
pub(super) fn write_private(
    path: &Path,
    contents: &str,
    overwrite: bool,
) -> Result<(), ConfigError> {
    let write_error = |source| ConfigError::Write {
        path: path.to_owned(),
        source,
    };
    let mut options = OpenOptions::new();
    options.write(true).mode(0o600);
    if overwrite {
        options.create(true).truncate(true);
    } else {
        options.create_new(true);
    }
    let mut file = options.open(path).map_err(|source| {
        if source.kind() == ErrorKind::AlreadyExists {
            ConfigError::AlreadyExists {
                path: path.to_owned(),
            }
        } else {
            write_error(source)
        }
    })?;
    file.set_permissions(Permissions::from_mode(0o600))
        .map_err(write_error)?;
    file.write_all(contents.as_bytes()).map_err(write_error)?;
    file.sync_all().map_err(write_error)
}

/// Creates `dir` and its parents, new ones with mode 0700.
pub(super) fn create_private_dir(dir: &Path) -> Result<(), ConfigError> {
    if dir.is_dir() {
        return Ok(());
    }
    DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|source| ConfigError::Write {
            path: dir.to_owned(),
            source,
        })
}

/// Reads `path`, or `None` when it does not exist.
pub(super) fn read_optional(path: &Path) -> Result<Option<String>, ConfigError> {
    match fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(source) if source.kind() == ErrorKind::NotFound => Ok(None),
        Err(source) => Err(ConfigError::Read {
            path: path.to_owned(),
            source,
        }),
    }
}

/// `text` as a TOML string literal, quoted and escaped.
pub(super) fn toml_string(text: &str) -> String {
    toml::Value::String(text.to_owned()).to_string()
}
