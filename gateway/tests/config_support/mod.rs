//! Shared by the `config_*` integration tests: a valid base configuration
//! to mutate, and a self-cleaning temporary directory.
//!
//! Each test crate uses a different subset of these helpers.
#![allow(dead_code)]

use gateway::config::{self, Config, ConfigError, Secret, ValidatedConfig};

/// The strong, individual passwords of the base clients 201, 202, 203, 210.
pub const PASSWORDS: [&str; 4] = [
    "Kx7#mQ2!vLp9",
    "Tz4%wR8@nBq3",
    "Hy6&dF5^sJk8",
    "Mn3*cV7!xZa2",
];

/// A valid configuration: model X5, one internet client (201) of four.
pub fn base_toml() -> String {
    format!(
        r#"
[system]
model = "X5"
lan_interface = "LAN2"

[network]
public_address = "company.example.com"
company_lan = ["192.168.1.0/24", "fd00:1::/64"]

[internet]
upstream_kbps = 1000

[stun]
server = "stun.example.net:3478"

[[clients]]
number = "201"
name = "Anna"
kind = {{ hfa = "OpenStage 60" }}
ip_user_license = true
password = "{}"
internet_registration = true
class_of_service = "national"

[[clients]]
number = "202"
name = "Ben"
kind = {{ hfa = "OpenStage 40" }}
ip_user_license = true
password = "{}"
class_of_service = "national"

[[clients]]
number = "203"
name = "Clara"
kind = {{ hfa = "DeskPhone IP 35G" }}
password = "{}"
class_of_service = "local"

[[clients]]
number = "210"
name = "Dan"
kind = "myportal_to_go"
ip_user_license = true
password = "{}"
class_of_service = "national"
"#,
        PASSWORDS[0], PASSWORDS[1], PASSWORDS[2], PASSWORDS[3]
    )
}

/// The base configuration, parsed.
pub fn base() -> Config {
    config::parse(&base_toml(), "base").expect("base parses")
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
