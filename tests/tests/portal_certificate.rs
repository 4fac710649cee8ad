//! The app and the gateway's certificate, end to end over real HTTPS: trust
//! on first use, the same certificate after a restart of the gateway, and a
//! different certificate at the same address refused loudly, both by the
//! trust-on-first-use store and by a pinned fingerprint (guide 6:
//! signalling encrypted with SSL; the app must not talk to an impostor).

use e2e_tests::LAN_IP;
use e2e_tests::portal::{App, PortalOffice, temp_dir};
use shared::hfa_engine::system::SystemTimers;
use softphone::audio::NullBackend;
use softphone::media::MediaOptions;
use softphone::portal::agent::AgentTimers;
use softphone::portal::{Fingerprint, Network, PortalSettings, Trust};

fn quiet() -> MediaOptions {
    MediaOptions::g711(Box::new(NullBackend))
}

fn pinned(office: &PortalOffice) -> Fingerprint {
    match &office.trust {
        Trust::Pin(fingerprint) => *fingerprint,
        other => panic!("the office pins its certificate: {other:?}"),
    }
}

/// Dan in the company WiFi, through the portal's address, trusting `trust`.
fn dan(office: &PortalOffice, trust: Trust) -> PortalSettings {
    let mut settings = office.dan(office.portal, None, Network::CompanyWifi, LAN_IP);
    settings.trust = trust;
    settings
}

async fn status_with(settings: PortalSettings, registered: bool) -> String {
    let mut app = App::start(settings, quiet(), AgentTimers::default()).await;
    let status = if registered {
        app.events.registered_status().await
    } else {
        app.events.failed_status().await
    };
    app.agent.stop().await;
    status
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_use_restart_and_an_impostor_at_the_same_address() {
    let known = temp_dir("known-gateways");
    let store = known.path().join("known-gateways.toml");
    let tofu = |accept: Option<Fingerprint>| Trust::Tofu {
        store: store.clone(),
        accept,
    };

    let office = PortalOffice::start(SystemTimers::default()).await;
    let portal = office.portal;
    let genuine = pinned(&office);
    // First contact: refused until the user accepts the fingerprint shown.
    let status = status_with(dan(&office, tofu(None)), false).await;
    assert!(
        status.contains("not known yet") && status.contains(&genuine.to_string()),
        "{status}"
    );
    assert!(
        !store.exists(),
        "nothing is remembered before the user accepts"
    );
    let status = status_with(dan(&office, tofu(Some(genuine))), true).await;
    assert_eq!(status, format!("Registered via WAN server {portal}"));
    let remembered = std::fs::read_to_string(&store).expect("the accepted certificate is stored");
    assert!(remembered.contains(&genuine.to_string()), "{remembered}");

    // The gateway restarts with its data directory: the same certificate,
    // known without asking, and the pin still holds.
    let data = office.stop_keeping_data().await;
    let office = PortalOffice::start_with(SystemTimers::default(), data, portal).await;
    assert_eq!(
        pinned(&office),
        genuine,
        "the certificate is kept across a restart"
    );
    let status = status_with(dan(&office, tofu(None)), true).await;
    assert_eq!(status, format!("Registered via WAN server {portal}"));
    let status = status_with(dan(&office, Trust::Pin(genuine)), true).await;
    assert_eq!(status, format!("Registered via WAN server {portal}"));
    office.stop().await;

    // Another gateway (a new certificate) at the same address.
    let impostor =
        PortalOffice::start_with(SystemTimers::default(), temp_dir("impostor"), portal).await;
    let other = pinned(&impostor);
    assert_ne!(other, genuine);
    let status = status_with(dan(&impostor, tofu(None)), false).await;
    assert!(
        status.contains("CERTIFICATE CHANGED")
            && status.contains(&genuine.to_string())
            && status.contains(&other.to_string()),
        "{status}"
    );
    // Accepting a fingerprint does not overrule a remembered one.
    let status = status_with(dan(&impostor, tofu(Some(other))), false).await;
    assert!(status.contains("CERTIFICATE CHANGED"), "{status}");
    assert_eq!(
        std::fs::read_to_string(&store).expect("the store"),
        remembered,
        "a changed certificate is never written over the known one"
    );
    let status = status_with(dan(&impostor, Trust::Pin(genuine)), false).await;
    assert!(status.contains("not the pinned one"), "{status}");
    impostor.stop().await;
}
