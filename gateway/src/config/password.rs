//! What a "strong" password is (guide 1.2.1, 2.2).
//!
//! The guide demands "strong, individual passwords" for all clients as soon
//! as one client registers over the internet, without defining strong. Ours:
//!
//! * at least [`MIN_LENGTH`] (10) characters,
//! * at least [`MIN_CLASSES`] (3) of the 4 character classes lower case,
//!   upper case, digit and other,
//! * not containing the client's own call number (the first guess of anyone
//!   who knows the extension), and
//! * not containing a well-known default or common password from
//!   [`COMMON_PASSWORDS`], compared case-insensitively (`MyAdmin2024!` is
//!   refused for its `admin`).
//!
//! "Individual" (no two clients share one) is checked across clients by the
//! validation, not here.

use std::fmt;

/// Minimum number of characters.
pub const MIN_LENGTH: usize = 10;

/// Minimum number of character classes (of lower, upper, digit, other).
pub const MIN_CLASSES: usize = 3;

/// The rule in one sentence, for error messages and the example config.
pub const RULE: &str = "a strong password has at least 10 characters, uses at least 3 of the 4 \
     classes lower case, upper case, digit and other, and contains neither the client's number \
     nor a well-known default password";

/// Factory defaults and the most common passwords, in lower case: a
/// password containing any of them is refused.
pub const COMMON_PASSWORDS: &[&str] = &[
    "0000",
    "1111",
    "1234",
    "4321",
    "123456",
    "12345678",
    "password",
    "passwort",
    "admin",
    "hipath",
    "openscape",
    "openstage",
    "unify",
    "siemens",
    "qwerty",
    "qwertz",
    "letmein",
    "welcome",
    "changeme",
    "secret",
    "default",
];

/// One reason a password is not strong. The texts name the rule, never the
/// password or the part of it that matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Weakness {
    /// Fewer than [`MIN_LENGTH`] characters.
    TooShort,
    /// Fewer than [`MIN_CLASSES`] character classes.
    TooFewClasses,
    /// Contains the client's own call number.
    ContainsNumber,
    /// Contains an entry of [`COMMON_PASSWORDS`].
    CommonPassword,
}

impl fmt::Display for Weakness {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::TooShort => "shorter than 10 characters",
            Self::TooFewClasses => {
                "fewer than 3 of the 4 character classes (lower case, upper case, digit, other)"
            }
            Self::ContainsNumber => "contains the client's own number",
            Self::CommonPassword => "contains a well-known default or common password",
        })
    }
}

/// Every way `password` of the client with call number `number` breaks the
/// rule; empty when it is strong.
pub fn weaknesses(password: &str, number: &str) -> Vec<Weakness> {
    let mut found = Vec::new();
    if password.chars().count() < MIN_LENGTH {
        found.push(Weakness::TooShort);
    }
    if character_classes(password) < MIN_CLASSES {
        found.push(Weakness::TooFewClasses);
    }
    if !number.is_empty() && password.contains(number) {
        found.push(Weakness::ContainsNumber);
    }
    let lower = password.to_lowercase();
    if COMMON_PASSWORDS.iter().any(|common| lower.contains(common)) {
        found.push(Weakness::CommonPassword);
    }
    found
}

/// How many of the classes lower, upper, digit and other occur.
fn character_classes(password: &str) -> usize {
    let has = |test: fn(&char) -> bool| password.chars().any(|c| test(&c));
    [
        has(|c| c.is_lowercase()),
        has(|c| c.is_uppercase()),
        has(|c| c.is_ascii_digit()),
        has(|c| !c.is_alphanumeric()),
    ]
    .into_iter()
    .filter(|&present| present)
    .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_strong_passwords() {
        assert_eq!(weaknesses("Kx7#mQ2!vLp9", "201"), []);
        assert_eq!(weaknesses("correcthorse7BATTERY", "201"), []);
        assert_eq!(weaknesses("no-digits-But-Long", "201"), []);
    }

    #[test]
    fn names_every_weakness() {
        assert_eq!(
            weaknesses("abc", "201"),
            [Weakness::TooShort, Weakness::TooFewClasses]
        );
        assert_eq!(
            weaknesses("alllowercaseletters", "201"),
            [Weakness::TooFewClasses]
        );
        assert_eq!(
            weaknesses("Xy!201abcdefg", "201"),
            [Weakness::ContainsNumber]
        );
        assert_eq!(
            weaknesses("Xy!9PassWord77", "201"),
            [Weakness::CommonPassword]
        );
        assert_eq!(
            weaknesses("OpenScape#2024", "201"),
            [Weakness::CommonPassword]
        );
        assert_eq!(
            weaknesses("Zz!9x1234yyy", "201"),
            [Weakness::CommonPassword]
        );
    }

    #[test]
    fn counts_characters_not_bytes() {
        assert_eq!(weaknesses("Äöü!9ßäöü", "1"), [Weakness::TooShort]);
    }

    #[test]
    fn weakness_texts_name_the_rule() {
        assert!(Weakness::TooShort.to_string().contains("10 characters"));
        assert!(Weakness::TooFewClasses.to_string().contains("3 of the 4"));
    }
}
