//! Calls end to end: two softphone engines and the gateway over real TCP on
//! loopback; what each user sees comes from the stimuli the gateway sent.

use e2e_tests::relay::Relay;
use e2e_tests::{
    ANNA, BEN, HOME_IP, Handset, LAN_IP, account, fast_phone_timers, fast_system_timers,
    start_gateway,
};
use gateway::clock::Clock;
use shared::hfa_engine::phone::PhoneTimers;
use shared::hfa_engine::system::SystemTimers;
use softphone::hfa::indicators::ToneKind;
use softphone::hfa::phone_model::Change;

#[tokio::test]
async fn a_call_from_home_to_the_office_and_back_to_idle() {
    let gateway = start_gateway(Clock::system(), SystemTimers::default()).await;
    let mut anna = Handset::register(
        account(gateway.hfa_addr(), ANNA, HOME_IP),
        PhoneTimers::default(),
    )
    .await;
    let mut ben = Handset::register(
        account(gateway.hfa_addr(), BEN, LAN_IP),
        PhoneTimers::default(),
    )
    .await;
    // The idle screen is complete once the last key is labelled.
    anna.until("the idle screen", |m| m.label(5) == Some("Release"))
        .await;
    ben.until("the idle screen", |m| m.label(5) == Some("Release"))
        .await;
    assert_eq!(ben.top(), "202 Ben");
    let ben_idle = ben.changes.len();

    anna.press("h");
    anna.until("dial tone", |m| m.tone() == Some(ToneKind::Dial))
        .await;
    anna.press("202");
    anna.until("ring-back", |m| m.tone() == Some(ToneKind::RingBack))
        .await;
    assert_eq!(anna.top(), "Calling 202 Ben");
    ben.until("the ringer", |m| m.ringer()).await;
    assert_eq!(ben.top(), "Call from 201 Anna");
    // What Ben's phone was told, in order: the caller on the top row (the
    // idle date still below it), the date wiped as the clock goes, the
    // flashing line key, and the ringer last.
    let ringing: Vec<String> = ben.changes[ben_idle..]
        .iter()
        .map(ToString::to_string)
        .collect();
    assert!(
        ringing[0].starts_with("display: Call from 201 Anna | "),
        "{ringing:?}"
    );
    assert_eq!(
        ringing[1..],
        [
            "display: Call from 201 Anna |",
            "clock: hidden",
            "led: FPK1 Line flashing",
            "ringer: on"
        ]
    );

    ben.press("h");
    ben.until("media", |m| m.media().is_some()).await;
    anna.until("media", |m| m.media().is_some()).await;
    assert_eq!(anna.model.display_row(1), "Connected");
    assert_eq!(gateway.calls().calls(), 1);

    anna.press("u");
    ben.until("the busy tone", |m| m.tone() == Some(ToneKind::Busy))
        .await;
    assert_eq!(ben.top(), "Call ended");
    assert!(ben.changes.contains(&Change::Media(None)));
    ben.press("u");
    ben.until("the idle screen", |m| m.display_row(0) == "202 Ben")
        .await;
    assert_eq!(gateway.calls().calls(), 0, "no call left behind");
    anna.client.stop().await;
    ben.client.stop().await;
    gateway.stop().await;
}

#[tokio::test]
async fn a_refused_number_shows_the_reason_and_plays_congestion() {
    let gateway = start_gateway(Clock::system(), SystemTimers::default()).await;
    let mut anna = Handset::register(
        account(gateway.hfa_addr(), ANNA, HOME_IP),
        PhoneTimers::default(),
    )
    .await;
    // Anna's class of service is internal only in the test office.
    anna.press("h04711#");
    anna.until("congestion", |m| m.tone() == Some(ToneKind::Congestion))
        .await;
    assert_eq!(anna.top(), "Not allowed");
    anna.press("u");
    anna.until("idle", |m| m.display_row(0) == "201 Anna").await;
    assert_eq!(gateway.calls().calls(), 0);
    anna.client.stop().await;
    gateway.stop().await;
}

#[tokio::test]
async fn a_phone_vanishing_mid_call_releases_the_other_party() {
    let gateway = start_gateway(Clock::system(), fast_system_timers()).await;
    // Ben's path to the gateway will go silent, as a home router losing
    // power would leave it: no FIN, no RST.
    let relay = Relay::start(gateway.hfa_addr()).await;
    let mut anna = Handset::register(
        account(gateway.hfa_addr(), ANNA, HOME_IP),
        fast_phone_timers(),
    )
    .await;
    let mut ben =
        Handset::register(account(relay.addr(), BEN, LAN_IP), PhoneTimers::default()).await;
    anna.press("h202");
    ben.until("the ringer", |m| m.ringer()).await;
    ben.press("h");
    anna.until("media", |m| m.media().is_some()).await;
    relay.blackhole(true);
    anna.until("the call to end", |m| m.display_row(0) == "Call ended")
        .await;
    assert_eq!(gateway.calls().calls(), 0);
    assert!(!gateway.is_registered("202"));
    anna.client.stop().await;
    ben.client.stop().await;
    gateway.stop().await;
}
