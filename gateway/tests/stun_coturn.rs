//! STUN against a real coturn on loopback: the public address, RFC 5780
//! NAT behaviour discovery, "could not determine" from a server without a
//! second address, and the gateway's public address found by STUN (with a
//! fallback and a retry when the server is gone).

mod coturn_support;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use coturn_support::Coturn;
use gateway::config::ValidatedConfig;
use gateway::gateway::{Gateway, StartOptions};
use gateway::stun;
use gateway::testing::{Office, cast, rtp_range};
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
    Office::x3()
        .listen_address("127.0.0.1")
        .company_lan(&["127.0.0.0/24"])
        .upstream_kbps(1000)
        .stun(stun)
        .subscriber(cast::anna())
        .validated()
}

async fn start(config: ValidatedConfig) -> Gateway {
    let options = StartOptions {
        hfa_listen: Some(SocketAddr::new(LOOPBACK, 0)),
        rtp_range: Some(rtp_range(11_000, 64)),
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
