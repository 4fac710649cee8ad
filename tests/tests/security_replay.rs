//! Issue 11, attack 3: a Register captured on the wire (HFA signalling is
//! not encrypted, guide section 6) replayed after a gateway restart, over
//! real TCP on loopback.
//!
//! When the challenge was the wall-clock second, bumped by one per request,
//! an attacker could run the challenges ahead of the clock before the phone
//! registered, and after a restart ask for challenges until the gateway
//! handed out the captured one again.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use e2e_tests::raw::RawPhone;
use e2e_tests::relay::Relay;
use e2e_tests::{
    ANNA, HOME_IP, LAN_IP, account, fast_phone_timers, office, phone, start_gateway_with,
};
use gateway::clock::Clock;
use gateway::config::ValidatedConfig;
use shared::hfa::{DeclineCause, FrameDecoder, Message, Timestamp};
use shared::hfa_engine::system::SystemTimers;

const ATTACKER: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 2, 66));
/// How far the attacker runs the challenges ahead before the capture.
const RUN_AHEAD: usize = 100;
/// Challenges the attacker asks for after the restart, at most.
const SEARCH: usize = 400;

/// The first Register frame in `stream` and its challenge.
fn register_frame(stream: &[u8]) -> (Vec<u8>, Timestamp) {
    let mut decoder = FrameDecoder::new();
    let mut rest = stream;
    loop {
        let before = rest.len();
        match decoder.decode(&mut rest) {
            Ok(Some(frame)) => {
                let start = stream.len() - before;
                let end = stream.len() - rest.len();
                if let Message::Register(register) = frame.message {
                    return (stream[start..end].to_vec(), register.registration.challenge);
                }
            }
            other => panic!("no Register in the capture ({other:?})"),
        }
    }
}

/// Asks `gateway` for up to `count` challenges from `from`, on as many
/// connections as it takes. Returns the connection on which `wanted` was
/// issued, if it was.
async fn ask_for_challenges(
    gateway: SocketAddr,
    from: IpAddr,
    count: usize,
    wanted: Option<Timestamp>,
) -> Option<RawPhone> {
    let mut connection = RawPhone::connect_from(gateway, from).await;
    for _ in 0..count {
        match connection.try_request_challenge().await {
            Some(challenge) if Some(challenge) == wanted => return Some(connection),
            Some(_) => {}
            // The gateway hands out only a few challenges per connection.
            None => connection = RawPhone::connect_from(gateway, from).await,
        }
    }
    None
}

#[tokio::test]
async fn a_register_captured_before_a_restart_is_refused_after_it() {
    let data = tempfile::tempdir().expect("a data directory");
    let config = || -> ValidatedConfig { office().data_dir(data.path()).validated() };
    let first = start_gateway_with(
        config(),
        SocketAddr::new(LAN_IP, 0),
        Clock::manual(),
        SystemTimers::default(),
    )
    .await;
    let addr = first.hfa_addr();
    ask_for_challenges(addr, ATTACKER, RUN_AHEAD, None).await;

    // The real phone registers through a path the attacker listens on.
    let wire = Relay::start(addr).await;
    let (home, mut events) = phone(account(wire.addr(), ANNA, HOME_IP), fast_phone_timers());
    events.registered().await;
    let (captured, challenge) = register_frame(&wire.captured_from_clients());

    // The gateway restarts on the same port with the same data directory;
    // the phone registers again by itself.
    first.stop().await;
    let second = start_gateway_with(config(), addr, Clock::manual(), SystemTimers::default()).await;
    events.registered().await;

    // The attacker, elsewhere on the internet, asks until it is handed the
    // captured challenge (or gives up), then replays the Register.
    let mut replay = match ask_for_challenges(addr, ATTACKER, SEARCH, Some(challenge)).await {
        Some(connection) => connection,
        None => {
            let mut connection = RawPhone::connect_from(addr, ATTACKER).await;
            connection.request_challenge().await;
            connection
        }
    };
    replay.send_bytes(&captured).await;
    let answer = replay.recv().await;
    assert!(
        matches!(&answer, Some(Message::RegisterDecline(decline)) if decline.cause == DeclineCause::CHALLENGE_INVALID),
        "the replayed Register got {answer:?}"
    );
    assert!(
        second.is_registered(ANNA.0),
        "the real phone stays registered"
    );
    home.stop().await;
    second.stop().await;
}
