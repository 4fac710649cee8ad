//! Passwords that never print.
//!
//! HFA passwords and UC passwords (guide 6) are the only thing between the
//! internet and the company's phone lines, so a [`Secret`] hides its value
//! from `Debug` and `Display` (both print `***`): a config, an engine, a
//! summary or an error can be formatted anywhere without leaking one. The
//! value is reached only through [`Secret::expose`], which is easy to grep
//! for.

use std::fmt;

use serde::de::Error as _;
use serde::{Deserialize, Deserializer};
use subtle::ConstantTimeEq;

/// A password (serde reads it as a plain string).
#[derive(Clone)]
pub struct Secret(String);

/// Reads a plain string, like `#[serde(transparent)]` would, but a value of
/// another type (`password = 12345`) is refused without echoing it: serde's
/// own message would quote the would-be password.
impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer)
            .map(Self)
            .map_err(|_| D::Error::custom("a password must be a quoted string (value not shown)"))
    }
}

impl Secret {
    /// Wraps a password.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The password itself: only for computing or checking a login proof or
    /// writing the file that holds it, never for a log line.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether `candidate` equals this password, in time that does not
    /// depend on where the first differing byte is (so a remote guesser
    /// learns nothing from response times). Only the length may leak.
    pub fn constant_time_eq(&self, candidate: &[u8]) -> bool {
        self.0.as_bytes().ct_eq(candidate).into()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_prints_the_value() {
        let secret = Secret::new("Tr0ub4dor&3x");
        assert_eq!(format!("{secret}"), "***");
        assert_eq!(format!("{secret:?}"), "***");
        assert_eq!(format!("{:?}", Some(secret)), "Some(***)");
    }

    #[test]
    fn compares_in_constant_time() {
        let secret = Secret::new("Tr0ub4dor&3x");
        assert!(secret.constant_time_eq(b"Tr0ub4dor&3x"));
        assert!(!secret.constant_time_eq(b"Tr0ub4dor&3y"));
        assert!(!secret.constant_time_eq(b"Tr0ub4dor&3"));
        assert!(!secret.constant_time_eq(b""));
    }
}
