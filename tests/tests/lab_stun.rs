//! STUN through the lab's real NAT, against coturn on the lab's internet
//! (two addresses, two ports: RFC 5780): the gateway learns the company
//! router's public address and checks its NAT (guide 2.4, 3.3), and finds
//! a new one on its refresh timer, which a registered phone's next call
//! then uses; from home,
//! our NAT behaviour discovery (`softphone nat-check`) classifies the home
//! router exactly as coturn's own `turnutils_natdiscovery -m -f` does, in
//! each of the three home router modes. Needs root.

use std::future::Future;
use std::net::{IpAddr, SocketAddr};

use std::time::{Duration, Instant};

use e2e_tests::netlab::office::Office;
use e2e_tests::netlab::{COMPANY_PUBLIC, HOME_PUBLIC, HomeNat, Host, Lab, STUN_PORT, STUN_PRIMARY};
use e2e_tests::{ANNA, BEN, PATIENCE};
use gateway::config::net::StunServer;
use gateway::public_ip::RefreshTimers;
use shared::stun::{Filtering, Mapping, NatBehaviour, Retransmission};
use softphone::audio::NullBackend;
use softphone::media::MediaOptions;
use softphone::media::call::MediaReport;

/// The company line's address after the change.
const RENUMBERED: std::net::Ipv4Addr = std::net::Ipv4Addr::new(203, 0, 113, 11);

fn stun_server() -> SocketAddr {
    SocketAddr::from((STUN_PRIMARY, STUN_PORT))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_gateway_learns_its_public_address_from_coturn_and_checks_the_company_router() {
    let office =
        Office::start_with(HomeNat::EndpointIndependent, None, RefreshTimers::default()).await;
    assert_eq!(
        office.gateway.public_ip(),
        Some(IpAddr::V4(COMPANY_PUBLIC)),
        "Set Payload announces the company router's public address"
    );
    let server = StunServer::parse(&stun_server().to_string()).expect("a STUN server");
    let behaviour = office
        .company
        .run(async move { gateway::stun::nat_check(&server).await })
        .await
        .expect("the company router's NAT check");
    let report = behaviour.report(gateway::stun::COMPANY_ROUTER);
    eprintln!("{}", report.join("\n"));
    assert_eq!(behaviour.mapping, Ok(Mapping::EndpointIndependent));
    assert!(!behaviour.is_symmetric());
    assert_eq!(
        behaviour.public.map(|public| public.ip()),
        Some(IpAddr::V4(COMPANY_PUBLIC))
    );
    office.stop().await;
}

/// The company's line gets a new public address while a phone at home is
/// registered: the gateway's STUN refresh finds it, and the phone's next
/// call sends its media there (Set Payload announces it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_public_address_reaches_a_registered_phones_next_call() {
    let refresh = RefreshTimers {
        interval: Duration::from_millis(300),
        retry: Duration::from_millis(300),
    };
    let office = Office::start_with(HomeNat::EndpointIndependent, None, refresh).await;
    assert_eq!(office.gateway.public_ip(), Some(IpAddr::V4(COMPANY_PUBLIC)));
    let mut anna = office
        .phone_at_home(ANNA, MediaOptions::g711(Box::new(NullBackend)))
        .await;
    let mut ben = office
        .phone_in_office(BEN, MediaOptions::g711(Box::new(NullBackend)))
        .await;

    office
        .lab
        .renumber_company(RENUMBERED)
        .expect("the company router's new address");
    // The refresh timer's next lookups: a bounded wait for the change.
    let deadline = Instant::now() + PATIENCE;
    while office.gateway.public_ip() != Some(IpAddr::V4(RENUMBERED)) {
        assert!(
            Instant::now() < deadline,
            "the gateway learns {RENUMBERED}: still {:?}",
            office.gateway.public_ip()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    anna.press("h202");
    ben.until("the ringer", |m| m.ringer()).await;
    ben.press("h");
    let started = anna
        .media_report("media", |r| matches!(r, MediaReport::Started { .. }))
        .await;
    let MediaReport::Started { remote, .. } = started else {
        unreachable!("filtered above")
    };
    assert_eq!(
        remote.ip(),
        IpAddr::V4(RENUMBERED),
        "Anna sends to the new address"
    );
    let quality = ben
        .media_report(
            "Ben hears Anna",
            |r| matches!(r, MediaReport::Quality(stats) if stats.received > 0),
        )
        .await;
    eprintln!("after the change Anna sends to {remote}; Ben: {quality:?}");
    anna.press("u");
    ben.press("u");
    anna.client.stop().await;
    ben.client.stop().await;
    office.stop().await;
}

/// coturn's verdict, from its client's last lines ("NAT with Endpoint
/// Independent Mapping!").
fn coturn_verdict(output: &str) -> (Option<Mapping>, Option<Filtering>) {
    let said = |what: &str, kind: &str| output.contains(&format!("NAT with {what} {kind}!"));
    let mapping = if said("Endpoint Independent", "Mapping") {
        Some(Mapping::EndpointIndependent)
    } else if said("Address and Port Dependent", "Mapping") {
        Some(Mapping::AddressAndPortDependent)
    } else if said("Address Dependent", "Mapping") {
        Some(Mapping::AddressDependent)
    } else {
        None
    };
    let filtering = if said("Endpoint Independent", "Filtering") {
        Some(Filtering::EndpointIndependent)
    } else if said("Address and Port Dependent", "Filtering") {
        Some(Filtering::AddressAndPortDependent)
    } else if said("Address Dependent", "Filtering") {
        Some(Filtering::AddressDependent)
    } else {
        None
    };
    (mapping, filtering)
}

/// Ours and coturn's classification of the home router in `mode`, each
/// from the home PC (run one after the other, on fresh sockets).
async fn classify(mode: HomeNat) -> (NatBehaviour, (Option<Mapping>, Option<Filtering>)) {
    let lab =
        Lab::start(mode).unwrap_or_else(|error| panic!("the lab must come up (as root): {error}"));
    let home = lab.runtime(Host::HomeLan).expect("a runtime at home");
    let ours = home
        .run(gateway::stun::nat_behaviour(
            stun_server(),
            Retransmission::DISCOVERY,
        ))
        .await
        .unwrap_or_else(|error| panic!("{mode}: our NAT check: {error}"));
    drop(home);
    let theirs = tokio::task::spawn_blocking(move || {
        let output = lab
            .run_in(
                Host::HomeLan,
                "turnutils_natdiscovery",
                &["-m", "-f", &STUN_PRIMARY.to_string()],
            )
            .unwrap_or_else(|error| panic!("{mode}: turnutils_natdiscovery: {error}"));
        drop(lab);
        output
    })
    .await
    .expect("coturn's client");
    (ours, coturn_verdict(&theirs))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn our_nat_classification_equals_coturns_in_every_home_router_mode() {
    let expected = [
        (
            HomeNat::EndpointIndependent,
            Mapping::EndpointIndependent,
            Filtering::AddressAndPortDependent,
        ),
        (
            HomeNat::Symmetric,
            Mapping::AddressAndPortDependent,
            Filtering::AddressAndPortDependent,
        ),
        (
            HomeNat::FullCone,
            Mapping::EndpointIndependent,
            Filtering::EndpointIndependent,
        ),
    ];
    // One lab per mode, all at once: coturn's client waits out its
    // timeouts (~6 s), ours too.
    let results = futures_join(expected.map(|(mode, _, _)| classify(mode))).await;
    for ((mode, mapping, filtering), (ours, theirs)) in expected.into_iter().zip(results) {
        eprintln!(
            "{mode}: ours {:?} / {:?}, coturn {:?} / {:?}",
            ours.mapping, ours.filtering, theirs.0, theirs.1
        );
        assert_eq!(
            (ours.mapping.clone().ok(), ours.filtering.clone().ok()),
            theirs,
            "{mode}: ours and coturn's agree"
        );
        assert_eq!(
            theirs,
            (Some(mapping), Some(filtering)),
            "{mode} as netlab.md found"
        );
        assert_eq!(
            ours.public.map(|public| public.ip()),
            Some(IpAddr::V4(HOME_PUBLIC))
        );
        assert_eq!(ours.is_symmetric(), mode == HomeNat::Symmetric);
    }
}

/// Awaits three futures concurrently (each on its own task).
async fn futures_join<F>(futures: [F; 3]) -> [F::Output; 3]
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let [a, b, c] = futures.map(tokio::spawn);
    let (a, b, c) = tokio::join!(a, b, c);
    [
        a.expect("a classification"),
        b.expect("a classification"),
        c.expect("a classification"),
    ]
}
