//! The portal's certificate: generated once and kept (the fingerprint the
//! app pins survives a restart), or the administrator's own PEM files,
//! checked when the configuration is loaded; and a peer that does not
//! speak TLS loses only its own connection.

mod portal_support;

use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use gateway::config::{self, ConfigError};
use gateway::portal::tls::{KEY_FILE, fingerprint};
use gateway::testing::Office;
use portal_support::{DAN, LAN_IP, Rig, TempDir, office, stored_certificate, temp_dir};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_rustls::rustls::pki_types::CertificateDer;
use tokio_rustls::rustls::pki_types::pem::PemObject;

fn der_of(pem: &[u8]) -> Vec<u8> {
    CertificateDer::from_pem_slice(pem)
        .expect("a PEM certificate")
        .to_vec()
}

#[tokio::test]
async fn the_generated_certificate_is_kept_across_restarts() {
    let dir = temp_dir("cert-restart");
    let rig = Rig::start(office(dir.path(), "")).await;
    let first = rig
        .gateway
        .portal_fingerprint()
        .expect("a fingerprint")
        .to_owned();
    let certificate = stored_certificate(dir.path());
    assert_eq!(first, fingerprint(&der_of(&certificate)));
    assert_eq!(first.len(), 32 * 3 - 1, "AB:CD:… for 32 bytes");
    assert!(
        first
            .chars()
            .all(|c| c == ':' || c.is_ascii_digit() || c.is_ascii_uppercase())
    );
    let mode = std::fs::metadata(dir.path().join(KEY_FILE))
        .expect("the key file")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "the key is private");
    assert!(rig.gateway.status().to_string().contains(&first));
    rig.gateway.stop().await;

    let again = Rig::start(office(dir.path(), "")).await;
    assert_eq!(again.gateway.portal_fingerprint(), Some(first.as_str()));
    assert_eq!(stored_certificate(dir.path()), certificate, "the same file");
    let mut app = again.app_trusting(LAN_IP, &certificate);
    app.login(DAN)
        .await
        .expect("an app that pinned the first certificate still connects");
    again.gateway.stop().await;
}

/// A self-signed certificate for 127.0.0.1 and its key, as PEM.
fn admin_pems() -> (String, String) {
    let made =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned()]).expect("a certificate");
    (made.cert.pem(), made.signing_key.serialize_pem())
}

fn portal_section(certificate: &std::path::Path, key: &std::path::Path) -> String {
    format!(
        "[portal]\ncertificate = \"{}\"\nprivate_key = \"{}\"\n",
        certificate.display(),
        key.display()
    )
}

#[tokio::test]
async fn the_administrators_certificate_is_served_when_configured() {
    let dir = temp_dir("cert-admin");
    let (certificate, key) = admin_pems();
    let (certificate_path, key_path) = (dir.path().join("own.crt"), dir.path().join("own.key"));
    std::fs::write(&certificate_path, &certificate).expect("write");
    std::fs::write(&key_path, &key).expect("write");
    let config = office(dir.path(), &portal_section(&certificate_path, &key_path));
    let rig = Rig::start(config).await;
    assert_eq!(
        rig.gateway.portal_fingerprint().map(str::to_owned),
        Some(fingerprint(&der_of(certificate.as_bytes())))
    );
    assert!(
        !dir.path().join(KEY_FILE).exists(),
        "nothing generated when the administrator's files are configured"
    );
    let mut app = rig.app_trusting(LAN_IP, certificate.as_bytes());
    app.login(DAN)
        .await
        .expect("logged in over the admin's TLS");
    rig.gateway.stop().await;
}

#[tokio::test]
async fn a_peer_that_does_not_speak_tls_loses_only_its_connection() {
    let dir = temp_dir("cert-garbage");
    let rig = Rig::start(office(dir.path(), "")).await;
    let mut plain = tokio::net::TcpStream::connect(rig.addr)
        .await
        .expect("connects");
    plain
        .write_all(b"GET /api/v1/events HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .expect("written");
    let mut buffer = [0u8; 64];
    let closed = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match plain.read(&mut buffer).await {
                Ok(0) | Err(_) => break,
                Ok(_) => {} // a TLS alert
            }
        }
    })
    .await;
    assert!(closed.is_ok(), "the gateway closes a non-TLS connection");
    let mut app = rig.app_trusting(LAN_IP, &stored_certificate(dir.path()));
    app.login(DAN).await.expect("the server still serves");
    rig.gateway.stop().await;
}

fn errors_of(extra: &str, dir: &TempDir) -> Vec<String> {
    let text = std::fs::read_to_string(dir.path().join("base.toml")).expect("base");
    match config::from_toml_str(&format!("{text}\n{extra}"), "t") {
        Ok(_) => panic!("expected errors"),
        Err(errors) => errors
            .into_errors()
            .into_iter()
            .map(|error| {
                assert!(
                    matches!(
                        error,
                        ConfigError::PortalIdentity { .. }
                            | ConfigError::PortalIdentityHalf { .. }
                            | ConfigError::Parse { .. }
                    ),
                    "{error}"
                );
                error.to_string()
            })
            .collect(),
    }
}

#[test]
fn the_portal_section_is_checked_with_the_field_the_value_and_the_rule() {
    let dir = temp_dir("cert-config");
    // The office as text, to append a [portal] section to.
    let base = Office::x3().loopback_lan();
    base.write(&dir.path().join("base.toml"));
    let (certificate, key) = admin_pems();
    let (_, other_key) = admin_pems();
    let write = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).expect("write");
        path
    };
    let (certificate_path, key_path) = (write("c.pem", &certificate), write("k.pem", &key));
    let other_key_path = write("other.pem", &other_key);
    let garbage = write("garbage.pem", "hello");

    let half = errors_of(
        &format!(
            "[portal]\ncertificate = \"{}\"\n",
            certificate_path.display()
        ),
        &dir,
    );
    assert_eq!(half.len(), 1);
    assert!(half[0].contains("portal.certificate is set but portal.private_key is not"));

    let missing = errors_of(
        &portal_section(&dir.path().join("nope.pem"), &key_path),
        &dir,
    );
    assert!(
        missing[0].starts_with("portal.certificate = \""),
        "{}",
        missing[0]
    );
    assert!(missing[0].contains("nope.pem") && missing[0].contains("cannot read"));

    let unparsable = errors_of(&portal_section(&garbage, &key_path), &dir);
    assert!(
        unparsable[0].contains("not a PEM certificate"),
        "{}",
        unparsable[0]
    );

    let bad_key = errors_of(&portal_section(&certificate_path, &garbage), &dir);
    assert!(
        bad_key[0].starts_with("portal.private_key"),
        "{}",
        bad_key[0]
    );

    let mismatch = errors_of(&portal_section(&certificate_path, &other_key_path), &dir);
    assert!(
        mismatch[0].contains("does not belong to the certificate"),
        "{}",
        mismatch[0]
    );
    for message in [&half, &missing, &unparsable, &bad_key, &mismatch] {
        assert!(
            !message[0].contains("PRIVATE KEY"),
            "no key material in messages"
        );
    }

    let zero = errors_of("[portal]\nsession_lifetime_seconds = 0\n", &dir);
    assert!(
        zero[0].contains("session_lifetime_seconds") || zero[0].contains("zero"),
        "{}",
        zero[0]
    );
    let valid = base
        .section(portal_section(&certificate_path, &key_path))
        .validated();
    assert!(valid.config().portal.certificate.is_some());
}
