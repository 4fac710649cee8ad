//! `gateway init`: a commented example configuration for a small office,
//! with fresh random passwords. The passwords go only into the file (mode
//! 0600), never to the terminal or a log.

use std::path::Path;

use rand::Rng;

use super::error::ConfigError;
use super::files;
use super::secret;

/// The example, with `@PASSWORD_<number>@` where a password goes.
const TEMPLATE: &str = include_str!("example.toml");

/// The clients of the example, each getting a password.
const NUMBERS: [&str; 4] = ["201", "202", "203", "210"];

/// The example configuration with passwords drawn from `rng`.
pub fn example_config<R: Rng + ?Sized>(rng: &mut R) -> String {
    NUMBERS.iter().fold(TEMPLATE.to_owned(), |text, number| {
        let secret = secret::generate_password(rng, number);
        text.replace(
            &format!("@PASSWORD_{number}@"),
            &files::toml_string(secret.expose()),
        )
    })
}

/// Writes the example with passwords from the OS-seeded generator to
/// `path`, mode 0600. An existing file is kept unless `force`.
pub fn write_example(path: &Path, force: bool) -> Result<(), ConfigError> {
    files::write_private(path, &example_config(&mut rand::rng()), force)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    #[test]
    fn every_placeholder_is_filled_and_the_example_validates() {
        let text = example_config(&mut StdRng::seed_from_u64(1));
        assert!(!text.contains("@PASSWORD"));
        let config = crate::config::from_toml_str(&text, "example").expect("valid example");
        assert_eq!(config.clients().len(), NUMBERS.len());
        let internet = config.clients().iter().filter(|c| c.internet_registration);
        assert_eq!(internet.count(), 1);
        assert!(config.warnings().is_empty(), "{:?}", config.warnings());
    }
}
