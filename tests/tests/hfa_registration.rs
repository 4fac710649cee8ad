//! HFA registration end to end: softphone engine ↔ gateway over real TCP on
//! loopback, with the test office of `e2e_tests::office_config`.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use e2e_tests::raw::RawPhone;
use e2e_tests::{
    ANNA, BEN, CLARA, DAN, HOME_IP, LAN_IP, account, fast_phone_timers, fast_system_timers, phone,
    start_gateway, start_gateway_on,
};
use gateway::clock::Clock;
use shared::hfa::{DeclineCause, Message};
use shared::hfa_engine::phone::{ConnectionLoss, PhoneEvent, PhoneState, PhoneTimers};
use shared::hfa_engine::system::SystemTimers;
use shared::version::SoftwareVersion;

#[tokio::test]
async fn phones_register_from_the_lan_and_from_the_internet() {
    let gateway = start_gateway(Clock::system(), SystemTimers::default()).await;
    let (anna, mut anna_events) = phone(
        account(gateway.hfa_addr(), ANNA, HOME_IP),
        PhoneTimers::default(),
    );
    let (ben, mut ben_events) = phone(
        account(gateway.hfa_addr(), BEN, LAN_IP),
        PhoneTimers::default(),
    );
    anna_events.registered().await;
    ben_events.registered().await;
    assert!(gateway.is_registered("201") && gateway.is_registered("202"));
    assert_eq!(gateway.registered_phones(), 2);
    anna.stop().await;
    ben.stop().await;
    gateway.stop().await;
}

#[tokio::test]
async fn every_refusal_reaches_the_phone_in_words() {
    let gateway = start_gateway(Clock::system(), SystemTimers::default()).await;
    let addr = gateway.hfa_addr();
    let mut old_firmware = account(addr, ANNA, HOME_IP);
    old_firmware.software_version = SoftwareVersion::new(3, 0, 9, 0);
    let cases = [
        (
            account(addr, ("299", "Whatever-123!"), LAN_IP),
            DeclineCause::UNKNOWN_SUBSCRIBER,
            "Unknown subscriber",
        ),
        (
            account(addr, (ANNA.0, "Wrong-pass-123"), HOME_IP),
            DeclineCause::WRONG_PASSWORD,
            "Wrong password",
        ),
        (
            account(addr, BEN, HOME_IP),
            DeclineCause::INTERNET_REGISTRATION_DISABLED,
            "Internet Registration with internal SBC",
        ),
        (
            old_firmware,
            DeclineCause::FIRMWARE_TOO_OLD,
            "firmware update",
        ),
        (
            account(addr, CLARA, LAN_IP),
            DeclineCause::NO_LICENSE,
            "license",
        ),
        (
            account(addr, DAN, LAN_IP),
            DeclineCause::WRONG_CLIENT_KIND,
            "not configured as an HFA phone",
        ),
    ];
    for (account, cause, words) in cases {
        let number = account.number.clone();
        let (client, mut events) = phone(account, PhoneTimers::default());
        let state = events.declined().await;
        assert_eq!(state, PhoneState::Declined { cause }, "{number}");
        let shown = state.to_string();
        assert!(
            shown.contains(words),
            "{number}: {shown:?} should say {words:?}"
        );
        client.stop().await;
    }
    assert_eq!(gateway.registered_phones(), 0);
    gateway.stop().await;
}

#[tokio::test]
async fn a_phone_below_the_minimum_is_updated_in_the_company_lan_and_then_works_from_home() {
    let gateway = start_gateway(Clock::system(), SystemTimers::default()).await;
    let addr = gateway.hfa_addr();
    let old = SoftwareVersion::new(3, 0, 9, 0);
    // Connected internally once (guide 1.3.4): registered and updated.
    let mut in_the_office = account(addr, ANNA, LAN_IP);
    in_the_office.software_version = old;
    let (client, mut events) = phone(in_the_office, PhoneTimers::default());
    let update = events
        .until("the software delivery", |event| {
            matches!(event, PhoneEvent::SoftwareUpdated { .. })
        })
        .await;
    let delivered = shared::version::OPENSTAGE_HFA_MIN;
    assert_eq!(
        update,
        PhoneEvent::SoftwareUpdated {
            from: old,
            to: delivered
        },
        "the release the system's minimum names"
    );
    events.registered().await;
    assert!(gateway.is_registered(ANNA.0));
    client.stop().await;

    // At home with the release it remembers: registered.
    let mut at_home = account(addr, ANNA, HOME_IP);
    at_home.software_version = delivered;
    let (client, mut events) = phone(at_home, PhoneTimers::default());
    events.registered().await;
    client.stop().await;

    // The same old firmware from home is still refused, in words.
    let mut not_updated = account(addr, ANNA, HOME_IP);
    not_updated.software_version = old;
    let (client, mut events) = phone(not_updated, PhoneTimers::default());
    assert_eq!(
        events.declined().await,
        PhoneState::Declined {
            cause: DeclineCause::FIRMWARE_TOO_OLD
        }
    );
    client.stop().await;
    gateway.stop().await;
}

#[tokio::test]
async fn a_replayed_register_is_refused() {
    let gateway = start_gateway(Clock::system(), SystemTimers::default()).await;
    // A genuine registration, captured on the wire.
    let mut genuine = RawPhone::connect(gateway.hfa_addr()).await;
    let challenge = genuine.request_challenge().await;
    let captured = genuine.register(challenge, ANNA).await;
    assert!(matches!(
        genuine.recv().await,
        Some(Message::RegisterResponse(_))
    ));
    // The same bytes on an attacker's connection, after asking for a
    // challenge (a fresh random one: the captured one was bound to the
    // genuine connection and is used up).
    let mut attacker = RawPhone::connect(gateway.hfa_addr()).await;
    attacker.request_challenge().await;
    attacker.send_bytes(&captured).await;
    let answer = attacker.recv().await;
    assert!(
        matches!(&answer, Some(Message::RegisterDecline(decline)) if decline.cause == DeclineCause::CHALLENGE_INVALID),
        "{answer:?}"
    );
    assert!(
        attacker.recv().await.is_none(),
        "the connection is closed after the decline"
    );
    gateway.stop().await;
}

#[tokio::test]
async fn five_failures_lock_out_until_the_backoff_has_passed() {
    let clock = Clock::manual();
    let gateway = start_gateway(clock.clone(), SystemTimers::default()).await;
    let addr = gateway.hfa_addr();
    for attempt in 1..=5 {
        let (client, mut events) = phone(
            account(addr, (ANNA.0, "Guess-number-9"), HOME_IP),
            PhoneTimers::default(),
        );
        let state = events.declined().await;
        assert_eq!(
            state,
            PhoneState::Declined {
                cause: DeclineCause::WRONG_PASSWORD
            },
            "attempt {attempt}"
        );
        client.stop().await;
    }
    // Locked: even the right password is refused, without being checked.
    let (client, mut events) = phone(account(addr, ANNA, HOME_IP), PhoneTimers::default());
    assert_eq!(
        events.declined().await,
        PhoneState::Declined {
            cause: DeclineCause::TEMPORARILY_LOCKED
        }
    );
    client.stop().await;
    clock.advance(Duration::from_secs(29));
    let (client, mut events) = phone(account(addr, ANNA, HOME_IP), PhoneTimers::default());
    assert_eq!(
        events.declined().await,
        PhoneState::Declined {
            cause: DeclineCause::TEMPORARILY_LOCKED
        }
    );
    client.stop().await;
    // After the 30 s lockout the right password works again.
    clock.advance(Duration::from_secs(1));
    let (client, mut events) = phone(account(addr, ANNA, HOME_IP), PhoneTimers::default());
    events.registered().await;
    client.stop().await;
    gateway.stop().await;
}

#[tokio::test]
async fn a_vanished_phone_is_detected_and_unregistered() {
    let gateway = start_gateway(Clock::system(), fast_system_timers()).await;
    let mut silent = RawPhone::connect(gateway.hfa_addr()).await;
    let challenge = silent.request_challenge().await;
    silent.register(challenge, ANNA).await;
    assert!(matches!(
        silent.recv().await,
        Some(Message::RegisterResponse(_))
    ));
    assert!(gateway.is_registered("201"));
    // The phone never answers the gateway's Alive Requests again.
    loop {
        match silent.recv().await {
            // The idle screen, and keepalives it never answers.
            Some(Message::AliveRequest(_) | Message::Stimulus(_) | Message::SetPayload(_)) => {
                continue;
            }
            None => break,
            Some(other) => panic!("unexpected {other:?}"),
        }
    }
    assert!(
        !gateway.is_registered("201"),
        "a dead phone's registration is removed"
    );
    gateway.stop().await;
}

#[tokio::test]
async fn a_silent_gateway_is_detected_and_the_phone_registers_again_after_a_restart() {
    let first = start_gateway(Clock::system(), fast_system_timers()).await;
    let addr = first.hfa_addr();
    let (client, mut events) = phone(account(addr, ANNA, HOME_IP), fast_phone_timers());
    events.registered().await;
    // The system goes down: the phone notices and keeps trying.
    first.stop().await;
    let lost = events
        .until("the connection loss", |event| {
            matches!(event, PhoneEvent::ConnectionLost(_))
        })
        .await;
    assert_eq!(
        lost,
        PhoneEvent::ConnectionLost(ConnectionLoss::ClosedByGateway)
    );
    events
        .until("a failed reconnection", |event| {
            matches!(
                event,
                PhoneEvent::ConnectionLost(ConnectionLoss::ConnectFailed(_))
            )
        })
        .await;
    // It comes back on the same port: the phone registers by itself.
    let second = start_gateway_on(addr, Clock::system(), fast_system_timers()).await;
    events.registered().await;
    assert!(second.is_registered("201"));
    client.stop().await;
    second.stop().await;
}

#[tokio::test]
async fn a_gateway_that_stops_answering_is_declared_dead() {
    let gateway = start_gateway(Clock::system(), SystemTimers::default()).await;
    // A relay in front of the gateway that can swallow everything.
    let relay = e2e_tests::relay::Relay::start(gateway.hfa_addr()).await;
    let (client, mut events) = phone(account(relay.addr(), ANNA, HOME_IP), fast_phone_timers());
    events.registered().await;
    relay.blackhole(true);
    let lost = events
        .until("the connection loss", |event| {
            matches!(event, PhoneEvent::ConnectionLost(_))
        })
        .await;
    assert_eq!(
        lost,
        PhoneEvent::ConnectionLost(ConnectionLoss::GatewaySilent)
    );
    relay.blackhole(false);
    events.registered().await;
    client.stop().await;
    gateway.stop().await;
}

#[tokio::test]
async fn a_second_registration_of_a_number_replaces_the_first() {
    let gateway = start_gateway(Clock::system(), SystemTimers::default()).await;
    let (first, mut first_events) = phone(
        account(gateway.hfa_addr(), ANNA, HOME_IP),
        PhoneTimers::default(),
    );
    first_events.registered().await;
    let elsewhere = IpAddr::V4(Ipv4Addr::new(127, 0, 1, 21));
    let (second, mut second_events) = phone(
        account(gateway.hfa_addr(), ANNA, elsewhere),
        PhoneTimers::default(),
    );
    second_events.registered().await;
    assert_eq!(
        first_events.declined().await,
        PhoneState::Declined {
            cause: DeclineCause::REPLACED
        }
    );
    assert!(gateway.is_registered("201"));
    assert_eq!(gateway.registered_phones(), 1);
    first.stop().await;
    second.stop().await;
    gateway.stop().await;
}

#[tokio::test]
async fn garbage_on_the_hfa_port_closes_only_that_connection() {
    let gateway = start_gateway(Clock::system(), SystemTimers::default()).await;
    let (client, mut events) = phone(
        account(gateway.hfa_addr(), ANNA, HOME_IP),
        PhoneTimers::default(),
    );
    events.registered().await;
    let mut attacker = RawPhone::connect(gateway.hfa_addr()).await;
    attacker
        .send_bytes(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .await;
    assert!(attacker.recv().await.is_none(), "closed");
    assert!(
        gateway.is_registered("201"),
        "the registered phone is unaffected"
    );
    client.stop().await;
    gateway.stop().await;
}
