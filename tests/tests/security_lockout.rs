//! Issue 11, attacks 2 and 4: the brute-force lockout against an attacker
//! with many addresses, over real TCP on loopback (every 127.0.0.0/8
//! address is a different source to the gateway).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use e2e_tests::logs::LogCapture;
use e2e_tests::raw::RawPhone;
use e2e_tests::{ANNA, HOME_IP, account, phone, start_gateway};
use gateway::clock::Clock;
use shared::hfa::{DeclineCause, Message};
use shared::hfa_engine::phone::PhoneTimers;
use shared::hfa_engine::system::SystemTimers;
use tokio::task::JoinSet;

const ATTACKER: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 3, 1));
const WRONG: &str = "Guess-number-9";

/// The answer to one registration attempt from `from`, as a decline cause
/// (`None`: accepted).
async fn attempt(
    gateway: SocketAddr,
    from: IpAddr,
    credentials: (&str, &str),
) -> Option<DeclineCause> {
    match RawPhone::attempt(gateway, from, credentials).await {
        Some(Message::RegisterResponse(_)) => None,
        Some(Message::RegisterDecline(decline)) => Some(decline.cause),
        other => panic!("from {from}: expected an answer to the Register, got {other:?}"),
    }
}

/// The `i`-th address of a flood, outside the company LAN (127.0.0.0/24).
fn flood_address(i: u32) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(127, 20, (i / 250) as u8, (i % 250 + 1) as u8))
}

/// Attack 2: failures for numbers that are no client, from 5,000
/// addresses, used to push the victim's record (and its lock) out of a
/// 4,096-record table.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lock_survives_5000_unknown_number_failures_from_5000_addresses() {
    const FLOOD: u32 = 5_000;
    const IN_FLIGHT: u32 = 50;
    let gateway = start_gateway(Clock::manual(), SystemTimers::default()).await;
    let addr = gateway.hfa_addr();
    for _ in 0..5 {
        let cause = attempt(addr, ATTACKER, (ANNA.0, WRONG)).await;
        assert_eq!(cause, Some(DeclineCause::WRONG_PASSWORD));
    }
    let stranger = IpAddr::V4(Ipv4Addr::new(127, 0, 3, 200));
    let locked = Some(DeclineCause::TEMPORARILY_LOCKED);
    assert_eq!(attempt(addr, stranger, ANNA).await, locked, "201 is locked");

    let mut unknown_subscriber = 0;
    for batch in 0..FLOOD / IN_FLIGHT {
        let mut flood = JoinSet::new();
        for i in batch * IN_FLIGHT..(batch + 1) * IN_FLIGHT {
            let number = format!("9{i:04}");
            flood.spawn(async move { attempt(addr, flood_address(i), (&number, WRONG)).await });
        }
        while let Some(cause) = flood.join_next().await {
            let cause = cause.expect("a flood attempt panicked");
            assert_eq!(cause, Some(DeclineCause::UNKNOWN_SUBSCRIBER));
            unknown_subscriber += 1;
        }
    }
    assert_eq!(unknown_subscriber, FLOOD, "every failure was counted");

    // The right password, from an address the gateway has never seen.
    let fresh = IpAddr::V4(Ipv4Addr::new(127, 0, 3, 201));
    assert_eq!(
        attempt(addr, fresh, ANNA).await,
        locked,
        "the account's lock outlives the flood"
    );
    assert_eq!(
        attempt(addr, ATTACKER, ("202", WRONG)).await,
        locked,
        "so does the attacker's own source lock"
    );
    gateway.stop().await;
}

/// Attack 4: with one lock per account, an attacker kept a home worker's
/// phone out for good (each lockout twice as long, up to an hour).
#[tokio::test]
async fn the_home_phone_registers_while_an_attacker_keeps_failing() {
    let logs = LogCapture::start();
    let clock = Clock::manual();
    let gateway = start_gateway(clock.clone(), SystemTimers::default()).await;
    let addr = gateway.hfa_addr();
    let register_home_phone = || async {
        let (home, mut events) = phone(account(addr, ANNA, HOME_IP), PhoneTimers::default());
        events.registered().await;
        home.stop().await;
    };
    register_home_phone().await;

    // Three attacker addresses take turns; after five failures in all, 201
    // is locked to strangers and stays so while they keep trying.
    let attackers: Vec<IpAddr> = (1..=3)
        .map(|host| IpAddr::V4(Ipv4Addr::new(127, 0, 3, host)))
        .collect();
    for round in 0..12 {
        let from = attackers[round % attackers.len()];
        let expected = if round < 5 {
            DeclineCause::WRONG_PASSWORD
        } else {
            DeclineCause::TEMPORARILY_LOCKED
        };
        let cause = attempt(addr, from, (ANNA.0, WRONG)).await;
        assert_eq!(cause, Some(expected), "attempt {round} from {from}");
    }
    // The phone that registered last (same address, same MAC) gets in.
    register_home_phone().await;
    assert!(gateway.is_registered(ANNA.0));
    // Nobody else does, not even with the right password.
    let elsewhere = IpAddr::V4(Ipv4Addr::new(127, 0, 3, 50));
    assert_eq!(
        attempt(addr, elsewhere, ANNA).await,
        Some(DeclineCause::TEMPORARILY_LOCKED)
    );

    let status = gateway.status().to_string();
    assert!(status.contains("accounts under attack: 1"), "{status}");
    assert!(
        status.contains(
            "201: strangers locked out for another 30 s (lockout 1); 13 failed or refused \
             attempts, the last from 127.0.3.50; its last registered device"
        ),
        "{status}"
    );

    // The lock runs out, the attacker fails once more and locks it again,
    // for twice as long; the phone still gets in.
    clock.advance(Duration::from_secs(30));
    let cause = attempt(addr, attackers[0], (ANNA.0, WRONG)).await;
    assert_eq!(cause, Some(DeclineCause::WRONG_PASSWORD));
    assert_eq!(
        attempt(addr, attackers[1], (ANNA.0, WRONG)).await,
        Some(DeclineCause::TEMPORARILY_LOCKED)
    );
    register_home_phone().await;

    // The log names the account once per lockout, not once per attempt.
    let log = logs.text();
    let named: Vec<&str> = log
        .lines()
        .filter(|line| line.contains("201 under attack"))
        .collect();
    assert_eq!(named.len(), 2, "{log}");
    assert!(named[0].contains("locked for 30 s"), "{}", named[0]);
    assert!(named[1].contains("locked for 60 s"), "{}", named[1]);
    assert!(
        named[1].contains("only its last registered device (127.0.1.20 with MAC"),
        "{}",
        named[1]
    );
    gateway.stop().await;
}
