//! Strong random passwords for `gateway init` and the embedded default.
//! The password type itself, [`Secret`], lives in `shared` (phones hold one
//! too).

use rand::Rng;
use rand::seq::{IndexedRandom, SliceRandom};
pub use shared::secret::Secret;

use super::password;

/// Characters of generated passwords, by class. Look-alikes (l/1, O/0, I)
/// are left out so a person can type a password off the file, and quotes
/// and backslashes so it needs no escaping in TOML.
const LOWER: &[u8] = b"abcdefghijkmnopqrstuvwxyz";
const UPPER: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ";
const DIGITS: &[u8] = b"23456789";
const OTHER: &[u8] = b"!#%+-=?@_~*";

/// Length of generated passwords: 16 characters from 68 give ~97 bits.
pub const GENERATED_LENGTH: usize = 16;

/// A new random password of [`GENERATED_LENGTH`] characters that passes
/// the strength rule of [`password::weaknesses`] for client `number`.
///
/// One character of each class is guaranteed; a candidate that happens
/// to contain the client's number or a common password is drawn again.
pub fn generate_password<R: Rng + ?Sized>(rng: &mut R, number: &str) -> Secret {
    let classes = [LOWER, UPPER, DIGITS, OTHER];
    let all: Vec<u8> = classes.concat();
    loop {
        let mut bytes: Vec<u8> = classes
            .iter()
            .filter_map(|class| class.choose(rng).copied())
            .collect();
        while bytes.len() < GENERATED_LENGTH {
            bytes.extend(all.choose(rng).copied());
        }
        bytes.shuffle(rng);
        let candidate: String = bytes.into_iter().map(char::from).collect();
        if password::weaknesses(&candidate, number).is_empty() {
            return Secret::new(candidate);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    #[test]
    fn generated_passwords_are_strong_and_differ() {
        let mut rng = StdRng::seed_from_u64(7);
        let mut seen = std::collections::HashSet::new();
        for _ in 0..500 {
            let secret = generate_password(&mut rng, "201");
            assert_eq!(secret.expose().chars().count(), GENERATED_LENGTH);
            assert!(password::weaknesses(secret.expose(), "201").is_empty());
            assert!(!secret.expose().contains(['"', '\\', '\'']));
            assert!(seen.insert(secret.expose().to_owned()));
        }
    }
}
