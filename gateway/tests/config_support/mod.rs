//! Shared by the `config_*` integration tests: a valid base configuration
//! to mutate, and a self-cleaning temporary directory.
//!
//! Each test crate uses a different subset of these helpers.
#![allow(dead_code)]

use gateway::config::{self, Config, ConfigError, Secret, ValidatedConfig};
pub use gateway::testing::{Office, Subscriber};

/// The strong, individual passwords of the base clients 201, 202, 203, 210.
pub use gateway::testing::PASSWORDS;

/// A valid configuration: model X5, one internet client (201) of four.
pub fn base_office() -> Office {
    let hfa =
        |number, name, device, password| Subscriber::hfa(number, name, device).password(password);
    Office::x5()
        .public_address("company.example.com")
        .company_lan(&["192.168.1.0/24", "fd00:1::/64"])
        .upstream_kbps(1000)
        .stun("stun.example.net:3478")
        .subscriber(
            hfa("201", "Anna", "OpenStage 60", PASSWORDS[0])
                .licensed()
                .at_home()
                .class_of_service("national"),
        )
        .subscriber(
            hfa("202", "Ben", "OpenStage 40", PASSWORDS[1])
                .licensed()
                .class_of_service("national"),
        )
        .subscriber(hfa("203", "Clara", "DeskPhone IP 35G", PASSWORDS[2]).class_of_service("local"))
        .subscriber(
            Subscriber::portal("210", "Dan")
                .licensed()
                .password(PASSWORDS[3])
                .class_of_service("national"),
        )
}

/// [`base_office`]'s text.
pub fn base_toml() -> String {
    base_office().toml()
}

/// The base configuration, parsed.
pub fn base() -> Config {
    base_office().parsed()
}

/// Validates `config`, expecting success.
pub fn valid(config: Config) -> ValidatedConfig {
    match config::validate(config) {
        Ok(validated) => validated,
        Err(errors) => panic!("expected a valid config, got:\n{errors}"),
    }
}

/// Validates `config`, expecting failure; returns the errors.
pub fn invalid(config: Config) -> Vec<ConfigError> {
    match config::validate(config) {
        Ok(validated) => panic!("expected errors, got:\n{}", validated.summary()),
        Err(errors) => errors.into_errors(),
    }
}

/// The client with call `number` in `config`.
pub fn client<'a>(config: &'a mut Config, number: &str) -> &'a mut config::Client {
    config
        .clients
        .iter_mut()
        .find(|c| c.number == number)
        .expect("client exists")
}

/// Sets a client's password.
pub fn set_password(config: &mut Config, number: &str, password: &str) {
    client(config, number).password = Some(Secret::new(password));
}

/// Panics if `text` contains any password of the base configuration or
/// any of `extra`.
pub fn assert_no_secret(text: &str, extra: &[&str]) {
    for secret in PASSWORDS.iter().chain(extra) {
        assert!(!text.contains(secret), "a password leaked into:\n{text}");
    }
}

pub use tempfile::TempDir;

/// A temporary directory for `tag`, removed on drop.
pub fn temp_dir(tag: &str) -> TempDir {
    tempfile::Builder::new()
        .prefix(&format!("gateway-{tag}-"))
        .tempdir()
        .expect("create a temporary directory")
}
