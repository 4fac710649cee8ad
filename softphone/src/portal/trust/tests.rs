//! Real TLS handshakes against a tokio-rustls server with rcgen
//! certificates.

use std::net::{IpAddr, Ipv4Addr};

use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

use super::*;
use crate::portal::testing::{TestCert, TlsListener, temp_path};

const LOOPBACK: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

async fn listener(cert: &TestCert) -> TlsListener {
    TlsListener::start(LOOPBACK, cert, |_tls| async {}).await
}

/// Handshakes with `listener` under `trust`: the verifier's refusal, if any.
async fn handshake(listener: &TlsListener, trust: &Trust) -> Result<(), TrustError> {
    let server = format!("localhost:{}", listener.address.port());
    let verifier = Arc::new(GatewayVerifier::new(server, trust, provider())?);
    let config = client_config(verifier.clone(), provider()).expect("client config");
    let tcp = TcpStream::connect(listener.address).await.expect("connect");
    let name = ServerName::try_from("localhost").expect("name");
    match TlsConnector::from(Arc::new(config))
        .connect(name, tcp)
        .await
    {
        Ok(_) => Ok(()),
        Err(error) => Err(verifier
            .take_refusal()
            .unwrap_or_else(|| panic!("handshake failed without a refusal: {error}"))),
    }
}

#[test]
fn fingerprints_print_as_colon_hex_and_read_any_common_form() {
    let fingerprint = Fingerprint([0xab; 32]);
    let shown = fingerprint.to_string();
    assert_eq!(shown.len(), 32 * 3 - 1);
    assert!(shown.starts_with("AB:AB:"));
    assert_eq!(shown.parse(), Ok(fingerprint));
    assert_eq!(shown.to_lowercase().parse(), Ok(fingerprint));
    assert_eq!("ab".repeat(32).parse(), Ok(fingerprint));
    assert!("AB:CD".parse::<Fingerprint>().is_err());
    assert!("zz".repeat(32).parse::<Fingerprint>().is_err());
}

#[tokio::test]
async fn a_pinned_certificate_is_accepted_and_another_one_refused() {
    let cert = TestCert::self_signed();
    let server = listener(&cert).await;
    let pin = Trust::Pin(cert.fingerprint());
    handshake(&server, &pin)
        .await
        .expect("the pinned certificate");

    let other = TestCert::self_signed();
    server.swap(&other);
    let refusal = handshake(&server, &pin)
        .await
        .expect_err("another certificate");
    assert_eq!(
        refusal,
        TrustError::PinMismatch {
            server: format!("localhost:{}", server.address.port()),
            expected: cert.fingerprint(),
            found: other.fingerprint(),
        }
    );
}

#[tokio::test]
async fn tofu_reports_remembers_and_refuses_a_change() {
    let store = temp_path("tofu").join("known-gateways.toml");
    let cert = TestCert::self_signed();
    let server = listener(&cert).await;
    let key = format!("localhost:{}", server.address.port());

    // First contact: refused, with the fingerprint to show the user.
    let ask = Trust::Tofu {
        store: store.clone(),
        accept: None,
    };
    assert_eq!(
        handshake(&server, &ask).await,
        Err(TrustError::Unknown {
            server: key.clone(),
            fingerprint: cert.fingerprint(),
        })
    );
    assert!(!store.exists(), "nothing remembered without consent");

    // Accepting another fingerprint than the one shown does not help.
    let wrong = Trust::Tofu {
        store: store.clone(),
        accept: Some(Fingerprint([1; 32])),
    };
    assert!(matches!(
        handshake(&server, &wrong).await,
        Err(TrustError::Unknown { .. })
    ));

    // The user accepts the fingerprint: remembered.
    let accept = Trust::Tofu {
        store: store.clone(),
        accept: Some(cert.fingerprint()),
    };
    handshake(&server, &accept).await.expect("accepted");
    let text = std::fs::read_to_string(&store).expect("store written");
    assert!(text.contains(&key) && text.contains(&cert.fingerprint().to_string()));
    handshake(&server, &ask).await.expect("remembered");

    // A new certificate at the same address: refused loudly, and the
    // store keeps the old one even when the user "accepts" the new one.
    let other = TestCert::self_signed();
    server.swap(&other);
    let changed = Trust::Tofu {
        store: store.clone(),
        accept: Some(other.fingerprint()),
    };
    let refusal = handshake(&server, &changed).await.expect_err("changed");
    assert_eq!(
        refusal,
        TrustError::Changed {
            server: key,
            expected: cert.fingerprint(),
            found: other.fingerprint(),
            store: store.clone(),
        }
    );
    assert!(refusal.to_string().starts_with("CERTIFICATE CHANGED"));
    assert_eq!(std::fs::read_to_string(&store).expect("store"), text);
    let _ = std::fs::remove_dir_all(store.parent().expect("dir"));
}

#[tokio::test]
async fn a_ca_file_verifies_the_chain_and_the_name() {
    let (ca_pem, leaf) = TestCert::signed_by_ca();
    let ca_file = temp_path("ca.pem");
    std::fs::write(&ca_file, ca_pem).expect("write CA");
    let server = listener(&leaf).await;
    let trust = Trust::Ca(ca_file.clone());
    handshake(&server, &trust).await.expect("signed by the CA");

    server.swap(&TestCert::self_signed());
    assert!(matches!(
        handshake(&server, &trust).await,
        Err(TrustError::Invalid { .. })
    ));

    std::fs::write(&ca_file, "not a PEM").expect("write");
    assert!(matches!(
        GatewayVerifier::new("x:1".into(), &trust, provider()),
        Err(TrustError::CaFile { .. })
    ));
    let _ = std::fs::remove_file(&ca_file);
}
