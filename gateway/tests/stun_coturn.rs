//! STUN against a real coturn on loopback: the public address, RFC 5780
//! NAT behaviour discovery, "could not determine" from a server without a
//! second address, and the gateway's public address found by STUN (with a
//! fallback and a retry when the server is gone).

mod coturn_support;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU16, Ordering};

use coturn_support::Coturn;
use gateway::config::{self, RtpRange, ValidatedConfig};
use gateway::gateway::{Gateway, StartOptions};
use gateway::stun;
use shared::stun::{Filtering, Mapping, Retransmission, Undetermined};

const LOOPBACK: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

#[tokio::test]
async fn a_binding_request_to_coturn_returns_our_address() {
    let coturn = Coturn::rfc5780();
    let mapped = stun::public_address(coturn.primary, Retransmission::RFC8489)
        .await
        .expect("coturn answers");
    assert_eq!(mapped.ip(), LOOPBACK);
    assert_ne!(mapped.port(), 0);
}

#[tokio::test]
async fn nat_discovery_on_loopback_finds_no_nat_and_an_open_filter() {
    let coturn = Coturn::rfc5780();
    let found = stun::nat_behaviour(coturn.primary, Retransmission::DISCOVERY)
        .await
        .expect("sockets");
    assert_eq!(found.mapping, Ok(Mapping::NoNat));
    // No NAT and no firewall: coturn's answer from its other address and
    // port (CHANGE-REQUEST) arrives.
    assert_eq!(found.filtering, Ok(Filtering::EndpointIndependent));
    assert_eq!(found.public.map(|a| a.ip()), Some(LOOPBACK));
    assert!(!found.is_symmetric());
    let report = found.report(stun::COMPANY_ROUTER).join("\n");
    assert!(report.contains("compatible with Device@Home"), "{report}");
}

#[tokio::test]
async fn a_server_without_a_second_address_cannot_determine_the_nat() {
    let coturn = Coturn::single_address();
    let found = stun::nat_behaviour(coturn.primary, Retransmission::DISCOVERY)
        .await
        .expect("sockets");
    let expected = Undetermined::NoOtherAddress {
        server: coturn.primary,
    };
    assert_eq!(found.mapping, Err(expected.clone()));
    assert_eq!(found.filtering, Err(expected));
    let report = found.report(stun::COMPANY_ROUTER).join("\n");
    assert!(
        report.contains("could not determine") && report.contains("RFC 5780"),
        "{report}"
    );
}

/// An office without a public address: the SBC learns it from `stun`.
fn office_behind_stun(stun: &str) -> ValidatedConfig {
    let text = format!(
        r#"
[system]
model = "X3"
lan_interface = "LAN2"
[network]
listen_address = "127.0.0.1"
company_lan = ["127.0.0.0/24"]
[internet]
upstream_kbps = 1000
[stun]
server = "{stun}"
[[clients]]
number = "201"
name = "Anna"
kind = {{ hfa = "OpenStage 60" }}
ip_user_license = true
internet_registration = true
password = "Anna-2024#home"
"#
    );
    config::from_toml_str(&text, "office behind STUN").expect("a valid office")
}

fn rtp_range() -> RtpRange {
    static NEXT: AtomicU16 = AtomicU16::new(0);
    let block = (std::process::id() as u16 % 16) * 4 + NEXT.fetch_add(1, Ordering::Relaxed) % 4;
    let first = 11_000 + block * 128;
    RtpRange {
        first,
        last: first + 127,
    }
}

async fn start(config: ValidatedConfig) -> Gateway {
    let options = StartOptions {
        hfa_listen: Some(SocketAddr::new(LOOPBACK, 0)),
        rtp_range: Some(rtp_range()),
        ..StartOptions::default()
    };
    Gateway::start(config, options)
        .await
        .expect("the gateway starts")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_gateway_learns_its_public_address_from_coturn_and_keeps_it_when_stun_fails() {
    let coturn = Coturn::rfc5780();
    let gateway = start(office_behind_stun(&coturn.address_text())).await;
    assert_eq!(gateway.public_ip(), Some(LOOPBACK));
    assert_eq!(gateway.refresh_public_ip().await.ok(), Some(LOOPBACK));

    // The STUN server goes away: the lookup fails, the last address stays.
    drop(coturn);
    let error = gateway
        .refresh_public_ip()
        .await
        .expect_err("no STUN server any more");
    assert!(error.to_string().contains("no response"), "{error}");
    assert_eq!(gateway.public_ip(), Some(LOOPBACK));
    gateway.stop().await;
}
