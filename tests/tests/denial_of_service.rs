//! Cheap denial of service against the real gateway over loopback: a
//! thousand half-open TLS handshakes on the myPortal to go port and twenty
//! thousand idle connections on the HFA port, from many addresses outside
//! the company LAN, held open; meanwhile a real HFA phone and a real
//! myPortal to go app must still register. And the app, turned away by a
//! server with no room, must come back by itself once the server answers.
//!
//! What is asserted is the property, not a time: while the flood is held
//! open the gateway still lets the real clients in (so they are registered
//! when it ends), and an app the gateway turned away retries with a bounded
//! backoff (at most a second here), so it is back within that bound of
//! the server answering again. [`PATIENCE`] only limits a failing test.

use std::net::SocketAddr;
use std::time::Duration;

use e2e_tests::flood::{Flood, Hold, attacker_addresses};
use e2e_tests::portal::{App, PortForward, PortalOffice, WAN_IP};
use e2e_tests::{ANNA, HOME_IP, PATIENCE, account, fast_phone_timers, phone};
use gateway::hfa::UNREGISTERED_ROOM;
use gateway::portal::server::MAX_CONNECTIONS;
use shared::hfa_engine::phone::{PhoneEvent, PhoneTimers};
use shared::hfa_engine::system::SystemTimers;
use softphone::audio::NullBackend;
use softphone::media::MediaOptions;
use softphone::portal::agent::{AgentEvent, AgentTimers};
use softphone::portal::selection::SelectionTimers;
use softphone::portal::{Network, Status};

/// The flood test loads both cores: the other test waits for it.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

const HALF_OPEN_TLS: usize = 1_000;
const IDLE_HFA: usize = 20_000;
/// Opening twenty thousand connections in a debug build on two cores.
const FLOOD_PATIENCE: Duration = Duration::from_secs(240);
/// The clients of the test office: each has a place of its own.
const CLIENTS: usize = 4;
/// Connections the gateway closed whose end the attacker has not read yet.
const IN_FLIGHT: usize = 128;

/// Quick to reconnect, but patient with a gateway busy turning a flood
/// away: what is tested is that it gets in, not how fast it answers.
fn patient_phone_timers() -> PhoneTimers {
    PhoneTimers {
        reply_timeout: PATIENCE,
        ..fast_phone_timers()
    }
}

fn quiet() -> MediaOptions {
    MediaOptions::g711(Box::new(NullBackend))
}

/// The soft open-file limit raised to the hard one: the floods, the
/// gateway's side of what it keeps, and the real clients share it.
fn raise_open_file_limit() {
    let limit = rlimit::increase_nofile_limit(u64::MAX).expect("raise the open-file limit");
    assert!(
        limit >= 8192,
        "the open-file limit is {limit}: the flood test needs 8192 (`ulimit -Hn`)"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_clients_register_while_floods_of_connections_are_held_open() {
    let _serial = ONE_AT_A_TIME.lock().await;
    raise_open_file_limit();
    let office = PortalOffice::start(SystemTimers::default()).await;
    let hfa_addr = office.gateway.hfa_addr();

    // 64 addresses × 16 (the per-source share) > 512 portal places, and
    // 128 × 16 > the HFA room (1,024 besides the clients' places): the
    // totals are what must protect.
    let mut tls = Flood::start(
        office.portal,
        &attacker_addresses(3, 64),
        HALF_OPEN_TLS,
        Hold::HalfOpenTls,
    );
    let mut hfa = Flood::start(hfa_addr, &attacker_addresses(4, 128), IDLE_HFA, Hold::Idle);
    tls.all_attempted(FLOOD_PATIENCE).await;
    hfa.all_attempted(FLOOD_PATIENCE).await;
    eprintln!(
        "flood held: {} half-open TLS connections ({:?} opened, failed), {} idle HFA \
         connections ({:?})",
        tls.open(),
        tls.opened_and_failed(),
        hfa.open(),
        hfa.opened_and_failed()
    );

    // Held open, the floods still leave room for the company's users: the
    // phone and the app get in at their first try.
    let (client, mut events) = phone(account(hfa_addr, ANNA, HOME_IP), patient_phone_timers());
    let first = events
        .until("the phone's first try", |event| {
            matches!(
                event,
                PhoneEvent::Registered { .. } | PhoneEvent::ConnectionLost(_)
            )
        })
        .await;
    assert!(
        matches!(first, PhoneEvent::Registered { .. }),
        "the phone was turned away: {first:?}"
    );
    let mut settings = office.dan(office.portal, None, Network::RemoteWifi, HOME_IP);
    settings.flags.remote_wifi = true;
    let timers = AgentTimers {
        selection: SelectionTimers {
            retry_first: Duration::from_millis(200),
            retry_max: Duration::from_secs(1),
            ..SelectionTimers::default()
        },
        ..AgentTimers::default()
    };
    let mut app = App::start(settings, quiet(), timers).await;
    let first = app
        .events
        .until("the app's first try", |event| {
            matches!(event, AgentEvent::Status(change) if matches!(change.status, Status::Registered { .. } | Status::Failed(_)))
        })
        .await;
    assert!(
        matches!(&first, AgentEvent::Status(change) if matches!(change.status, Status::Registered { .. })),
        "the app was turned away: {first:?}"
    );

    // The floods were really held, and the gateway kept only its room of
    // them: it was full, so it closed the biggest holders' oldest
    // connections to let others in. Spread over this many addresses, no
    // source reaches its share: the totals protect.
    let (hfa_held, tls_held) = (hfa.open(), tls.open());
    let hfa_counts = office.gateway.hfa_connections();
    let portal_counts = office
        .gateway
        .portal_connections()
        .expect("the portal runs");
    eprintln!("HFA {hfa_counts:?}, portal {portal_counts:?}");
    let hfa_room = UNREGISTERED_ROOM + CLIENTS;
    assert!(
        (hfa_room - 1..=hfa_room + IN_FLIGHT).contains(&hfa_held),
        "the gateway kept {hfa_held} idle HFA connections (its room: {hfa_room})"
    );
    assert!(
        (MAX_CONNECTIONS - 1..=MAX_CONNECTIONS + IN_FLIGHT).contains(&tls_held),
        "the gateway kept {tls_held} half-open TLS connections (its room: {MAX_CONNECTIONS})"
    );
    for counts in [hfa_counts, portal_counts] {
        assert!(counts.evicted > 0, "the total was reached: {counts:?}");
    }
    // Nor did the flood run the descriptors out (gateway and attacker share
    // this process's): every connection could be opened.
    assert_eq!(hfa.opened_and_failed().1, 0, "HFA connections not opened");
    assert_eq!(tls.opened_and_failed().1, 0, "TLS connections not opened");

    tls.stop().await;
    hfa.stop().await;
    // Every place the floods held is given back: what is left open is the
    // phone's and the app's, proven.
    let settled = tokio::time::timeout(PATIENCE, async {
        loop {
            let hfa = office.gateway.hfa_connections();
            let portal = office.gateway.portal_connections().unwrap_or_default();
            if hfa.open == 1 && hfa.unproven == 0 && portal.unproven == 0 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    assert!(
        settled.is_ok(),
        "places left after the flood: HFA {:?}, portal {:?}",
        office.gateway.hfa_connections(),
        office.gateway.portal_connections()
    );
    assert!(office.gateway.is_registered(ANNA.0));

    app.agent.stop().await;
    client.stop().await;
    office.stop().await;
}

/// The app's default timers: the first retry after about a second.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_app_turned_away_comes_back_by_itself_once_the_server_answers() {
    let _serial = ONE_AT_A_TIME.lock().await;
    let office = PortalOffice::start(SystemTimers::default()).await;
    let router = PortForward::start(SocketAddr::new(WAN_IP, 0), office.portal).await;
    router.refuse(true);
    let mut settings = office.dan(router.addr(), None, Network::RemoteWifi, HOME_IP);
    settings.flags.remote_wifi = true;
    let mut app = App::start(settings, quiet(), AgentTimers::default()).await;

    // Turned away twice: each time the app says so and tries again.
    for round in 1..=2 {
        let status = app.events.failed_status().await;
        eprintln!("round {round}: {status}");
    }
    router.refuse(false);
    let event = app
        .events
        .until("the registration once the server answers", |event| {
            matches!(event, AgentEvent::Status(change) if matches!(change.status, Status::Registered { .. } | Status::Failed(_)))
        })
        .await;
    // At most one more round may fail (the one under way when the server
    // came back); the app must not give up.
    if matches!(&event, AgentEvent::Status(change) if matches!(change.status, Status::Failed(_))) {
        app.events.registered_status().await;
    }

    app.agent.stop().await;
    router.stop().await;
    office.stop().await;
}
