//! The registration hash (Ours).
//!
//! ```text
//! hash = HMAC-SHA1(key     = HFA password, UTF-8,
//!                  message = challenge timestamp (u32 BE) ‖ subscriber digits (ASCII))
//! ```
//!
//! The challenge is the timestamp the system sent in answer to the phone's
//! timestamp request. Binding it in the message (and the system accepting
//! each challenge once, on its own connection, within 30 s) makes a captured
//! Register useless for replay; binding the subscriber stops a hash for one
//! number being presented for another. The password never leaves the phone.

use hmac::{Hmac, Mac};
use sha1::Sha1;

use super::ids::{Subscriber, Timestamp};
use super::register::Register;
use super::registration::{HashAlgorithm, PhoneId, RegistrationData};
use crate::secret::Secret;

type HmacSha1 = Hmac<Sha1>;

/// The keyed MAC over the message. HMAC accepts keys of any length, so
/// `None` cannot happen; should it, nothing verifies (see below).
fn mac(password: &Secret, challenge: Timestamp, subscriber: &Subscriber) -> Option<HmacSha1> {
    let mut mac = HmacSha1::new_from_slice(password.expose().as_bytes()).ok()?;
    mac.update(&challenge.0.to_be_bytes());
    mac.update(subscriber.as_str().as_bytes());
    Some(mac)
}

/// The hash a phone puts in its registration data.
pub fn registration_hash(
    password: &Secret,
    challenge: Timestamp,
    subscriber: &Subscriber,
) -> [u8; 20] {
    mac(password, challenge, subscriber)
        .map(|mac| mac.finalize().into_bytes().into())
        .unwrap_or_default()
}

/// Whether `hash` proves knowledge of `password`, compared in constant time.
pub fn verify_registration_hash(
    password: &Secret,
    challenge: Timestamp,
    subscriber: &Subscriber,
    hash: &[u8],
) -> bool {
    mac(password, challenge, subscriber).is_some_and(|mac| mac.verify_slice(hash).is_ok())
}

impl RegistrationData {
    /// Registration data for `subscriber` answering `challenge`, with the
    /// HMAC-SHA1 hash of `password`.
    pub fn signed(
        phone_id: PhoneId,
        challenge: Timestamp,
        subscriber: &Subscriber,
        password: &Secret,
        software_version: impl Into<String>,
    ) -> Self {
        Self {
            phone_id,
            challenge,
            algorithm: HashAlgorithm::HMAC_SHA1,
            hash: registration_hash(password, challenge, subscriber),
            software_version: software_version.into(),
        }
    }
}

impl Register {
    /// Whether the registration data proves `password` for this Register's
    /// subscriber and challenge. The caller still checks that the challenge
    /// is one it issued on this connection, unused and fresh.
    pub fn verify(&self, password: &Secret) -> bool {
        let data = &self.registration;
        data.algorithm == HashAlgorithm::HMAC_SHA1
            && verify_registration_hash(
                password,
                data.challenge,
                &self.subscriber.number,
                &data.hash,
            )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn subscriber() -> Subscriber {
        Subscriber::new("201").expect("valid digits")
    }

    #[test]
    fn hash_is_hmac_sha1_of_timestamp_and_digits() {
        // Computed independently: printf '\x65\x53\xf1\x00201' |
        //   openssl dgst -sha1 -hmac 'secret'
        let hash = registration_hash(
            &Secret::new("secret"),
            Timestamp(0x6553_f100),
            &subscriber(),
        );
        assert_eq!(hash, hex20("fb4fe6f043e747acf38dbe0518063c4028fbba3d"));
    }

    #[test]
    fn verify_accepts_only_the_same_inputs() {
        let password = Secret::new("secret");
        let hash = registration_hash(&password, Timestamp(1), &subscriber());
        assert!(verify_registration_hash(
            &password,
            Timestamp(1),
            &subscriber(),
            &hash
        ));
        assert!(!verify_registration_hash(
            &password,
            Timestamp(2),
            &subscriber(),
            &hash
        ));
        assert!(!verify_registration_hash(
            &Secret::new("Secret"),
            Timestamp(1),
            &subscriber(),
            &hash
        ));
        assert!(!verify_registration_hash(
            &password,
            Timestamp(1),
            &subscriber(),
            &hash[..19]
        ));
    }

    fn hex20(hex: &str) -> [u8; 20] {
        let mut out = [0; 20];
        for (i, byte) in out.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).expect("hex");
        }
        out
    }
}
