//! The login proof (Ours): the UC password proven without sending it, not
//! even inside TLS (guide 6: "Authentication via encrypted UC password").
//!
//! ```text
//! proof = HMAC-SHA256(key     = UC password, UTF-8,
//!                     message = "myPortal-login" ‖ 0x00 ‖ user ‖ 0x00
//!                               ‖ server nonce (32 bytes) ‖ client nonce (32 bytes))
//! ```
//!
//! The server nonce comes from `POST /api/v1/login/challenge`, is valid for
//! one login attempt within 30 s; the client nonce is the app's own random,
//! so a server that replays a nonce still cannot get the same proof twice.
//! Binding the user stops a proof for one user being presented for another.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::secret::Secret;

type HmacSha256 = Hmac<Sha256>;

/// Separates this MAC from any other use of the same password.
const DOMAIN: &[u8] = b"myPortal-login";

/// A 32-byte random value, hex on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LoginNonce(pub [u8; 32]);

impl LoginNonce {
    /// Lowercase hex, as sent.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// Reads the hex form; `None` unless exactly 64 hex digits.
    pub fn from_hex(text: &str) -> Option<Self> {
        let mut bytes = [0u8; 32];
        hex::decode_to_slice(text, &mut bytes).ok()?;
        Some(Self(bytes))
    }
}

fn mac(password: &Secret, user: &str, server: &LoginNonce, client: &LoginNonce) -> HmacSha256 {
    // HMAC takes keys of any length; `new_from_slice` cannot fail for it.
    let mut mac =
        <HmacSha256 as hmac::digest::KeyInit>::new_from_slice(password.expose().as_bytes())
            .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"));
    mac.update(DOMAIN);
    mac.update(&[0]);
    mac.update(user.as_bytes());
    mac.update(&[0]);
    mac.update(&server.0);
    mac.update(&client.0);
    mac
}

/// The proof the app sends, as lowercase hex.
pub fn login_proof(
    password: &Secret,
    user: &str,
    server: &LoginNonce,
    client: &LoginNonce,
) -> String {
    hex::encode(mac(password, user, server, client).finalize().into_bytes())
}

/// Whether `proof` (hex) proves knowledge of `password`, compared in
/// constant time. Malformed hex is simply not a proof.
pub fn verify_login_proof(
    password: &Secret,
    user: &str,
    server: &LoginNonce,
    client: &LoginNonce,
    proof: &str,
) -> bool {
    let Ok(bytes) = hex::decode(proof) else {
        return false;
    };
    mac(password, user, server, client)
        .verify_slice(&bytes)
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SERVER: LoginNonce = LoginNonce([7; 32]);
    const CLIENT: LoginNonce = LoginNonce([9; 32]);

    #[test]
    fn the_right_password_verifies_and_nothing_else_does() {
        let password = Secret::new("Portal-Pass-2026!");
        let proof = login_proof(&password, "210", &SERVER, &CLIENT);
        assert_eq!(proof.len(), 64);
        assert!(verify_login_proof(
            &password, "210", &SERVER, &CLIENT, &proof
        ));
        let other = Secret::new("Portal-Pass-2027!");
        assert!(!verify_login_proof(&other, "210", &SERVER, &CLIENT, &proof));
        assert!(!verify_login_proof(
            &password, "211", &SERVER, &CLIENT, &proof
        ));
        assert!(!verify_login_proof(
            &password, "210", &CLIENT, &CLIENT, &proof
        ));
        assert!(!verify_login_proof(
            &password, "210", &SERVER, &SERVER, &proof
        ));
        assert!(!verify_login_proof(
            &password, "210", &SERVER, &CLIENT, "zz"
        ));
        assert!(!verify_login_proof(&password, "210", &SERVER, &CLIENT, ""));
    }

    #[test]
    fn the_proof_is_hmac_sha256_of_the_documented_message() {
        // Same value as `printf 'myPortal-login\0210\0' + nonces | openssl
        // dgst -sha256 -hmac secret` (docs/portal-api.md).
        let password = Secret::new("secret");
        let server = LoginNonce([0x11; 32]);
        let client = LoginNonce([0x22; 32]);
        let mut message = b"myPortal-login\x00210\x00".to_vec();
        message.extend_from_slice(&server.0);
        message.extend_from_slice(&client.0);
        let mut expected =
            <HmacSha256 as hmac::digest::KeyInit>::new_from_slice(b"secret").expect("any key");
        expected.update(&message);
        assert_eq!(
            login_proof(&password, "210", &server, &client),
            hex::encode(expected.finalize().into_bytes())
        );
    }

    #[test]
    fn nonces_round_trip_through_hex_and_refuse_bad_lengths() {
        let nonce = LoginNonce([0xab; 32]);
        assert_eq!(LoginNonce::from_hex(&nonce.to_hex()), Some(nonce));
        assert_eq!(LoginNonce::from_hex("abcd"), None);
        assert_eq!(LoginNonce::from_hex(&"g".repeat(64)), None);
    }
}
