//! Where the gateway keeps its files, following the XDG base directory
//! specification: `$XDG_DATA_HOME/device-at-home/gateway`, or
//! `~/.local/share/device-at-home/gateway` when it is unset.

use std::env;
use std::path::{Path, PathBuf};

use super::error::ConfigError;

/// The default data directory from the environment.
pub fn default_data_dir() -> Result<PathBuf, ConfigError> {
    from_env(env::var_os("XDG_DATA_HOME"), env::var_os("HOME"))
}

/// The rule of [`default_data_dir`], apart from the process environment.
/// Relative values are ignored, as the XDG specification demands.
fn from_env(
    xdg_data_home: Option<std::ffi::OsString>,
    home: Option<std::ffi::OsString>,
) -> Result<PathBuf, ConfigError> {
    let absolute = |value: Option<std::ffi::OsString>| {
        value.map(PathBuf::from).filter(|path| path.is_absolute())
    };
    let base = absolute(xdg_data_home)
        .or_else(|| absolute(home).map(|home| home.join(".local/share")))
        .ok_or(ConfigError::NoDataDir)?;
    Ok(base.join(Path::new("device-at-home/gateway")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefers_xdg_data_home_then_home() {
        let dir = from_env(Some("/xdg".into()), Some("/home/a".into()));
        assert_eq!(dir.ok(), Some(PathBuf::from("/xdg/device-at-home/gateway")));
        let dir = from_env(None, Some("/home/a".into()));
        assert_eq!(
            dir.ok(),
            Some(PathBuf::from("/home/a/.local/share/device-at-home/gateway"))
        );
        let dir = from_env(Some("relative".into()), Some("/home/a".into()));
        assert_eq!(
            dir.ok(),
            Some(PathBuf::from("/home/a/.local/share/device-at-home/gateway"))
        );
        assert!(matches!(from_env(None, None), Err(ConfigError::NoDataDir)));
    }
}
