//! The RTP proxy's capacity as the guide counts it (1.3.5, 2.3): on an X
//! model 60 channels, one per anchored leg, so a call between two phones
//! at home takes two channels and two simultaneous internet calls, and the
//! 61st leg is refused with "No line free" before anything rings. Real
//! HFA phones over TCP on loopback, each registered from its own address
//! outside the company LAN.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use e2e_tests::{Handset, LAN_IP, Office, Subscriber, account, start_gateway_with};
use gateway::clock::Clock;
use gateway::config::ValidatedConfig;
use gateway::gateway::Gateway;
use shared::hfa_engine::phone::PhoneTimers;
use shared::hfa_engine::system::SystemTimers;
use softphone::hfa::indicators::ToneKind;

/// The X model's pool (guide 1.3.5).
const X_CHANNELS: usize = 60;
/// Phones at home: two more than the pool has channels.
const PHONES: usize = X_CHANNELS + 2;

fn number(index: usize) -> String {
    format!("{}", 301 + index)
}

/// Each client's own password (the guide asks for individual ones), with
/// letters for the index so it never holds the call number.
fn password(index: usize) -> String {
    let letter = |n: usize| char::from(b'a' + (n % 26) as u8);
    format!("Kx7#mQ2!vLp-{}{}", letter(index / 26), letter(index))
}

/// An X3 office of `PHONES` HFA clients, each allowed in from the internet,
/// with as many simultaneous internet calls as channels.
fn office() -> ValidatedConfig {
    Office::x3()
        .listen_address("127.0.0.1")
        .public_address("127.0.0.1")
        .company_lan(&["127.0.0.0/24"])
        .simultaneous_calls(X_CHANNELS)
        .subscribers((0..PHONES).map(|index| {
            Subscriber::hfa(&number(index), "Home", "OpenStage 60")
                .licensed()
                .at_home()
                .password(&password(index))
        }))
        .validated()
}

async fn start_gateway() -> Gateway {
    let listen = SocketAddr::new(LAN_IP, 0);
    start_gateway_with(office(), listen, Clock::system(), SystemTimers::default()).await
}

/// Phone `index` at home: its own address in 127.0.3.0/24, outside the
/// company LAN.
async fn phone_at_home(gateway: &Gateway, index: usize) -> Handset {
    let from = IpAddr::V4(Ipv4Addr::new(127, 0, 3, 10 + index as u8));
    let number = number(index);
    let mut phone = Handset::register(
        account(gateway.hfa_addr(), (&number, &password(index)), from),
        PhoneTimers::default(),
    )
    .await;
    phone
        .until("the idle screen", |m| m.label(5) == Some("Release"))
        .await;
    phone
}

/// `caller` dials `callee` and `callee` answers.
async fn connect(caller: &mut Handset, callee: &mut Handset, callee_number: &str) {
    caller.press("h");
    caller
        .until("dial tone", |m| m.tone() == Some(ToneKind::Dial))
        .await;
    caller.press(callee_number);
    callee.until("the ringer", |m| m.ringer()).await;
    callee.press("h");
    caller
        .until("connected", |m| m.display_row(1) == "Connected")
        .await;
}

#[tokio::test]
async fn the_61st_leg_at_home_on_an_x_model_is_refused_and_each_call_of_two_homes_counts_two() {
    let gateway = start_gateway().await;
    let mut phones = Vec::with_capacity(PHONES);
    for index in 0..PHONES {
        phones.push(phone_at_home(&gateway, index).await);
    }

    // 30 calls between two phones at home: 60 legs, every channel.
    for pair in 0..X_CHANNELS / 2 {
        let (left, right) = phones.split_at_mut(2 * pair + 1);
        connect(&mut left[2 * pair], &mut right[0], &number(2 * pair + 1)).await;
        let figures = gateway.status().channels;
        assert_eq!(
            (figures.in_use, figures.internet_calls),
            (2 * (pair + 1), 2 * (pair + 1)),
            "after call {}: two channels and two internet calls per call of two homes",
            pair + 1
        );
    }
    let figures = gateway.status().channels;
    assert_eq!((figures.in_use, figures.capacity), (X_CHANNELS, X_CHANNELS));

    // The 31st call would need the 61st and 62nd legs.
    let (left, right) = phones.split_at_mut(PHONES - 1);
    let caller = &mut left[PHONES - 2];
    caller.press("h");
    caller
        .until("dial tone", |m| m.tone() == Some(ToneKind::Dial))
        .await;
    caller.press(&number(PHONES - 1));
    caller
        .until("the refusal", |m| m.display_row(0) == "No line free")
        .await;
    let callee = &right[0];
    assert!(!callee.model.ringer(), "nothing rang at the callee");
    let figures = gateway.status().channels;
    assert_eq!(figures.in_use, X_CHANNELS, "the refused call took nothing");
    assert_eq!(figures.refused_no_channel, 1);
    assert_eq!(gateway.calls().calls(), X_CHANNELS / 2);

    // One call of two homes ends: its two channels come back and the
    // refused phone gets through.
    phones[0].press("u");
    phones[1]
        .until("the busy tone", |m| m.tone() == Some(ToneKind::Busy))
        .await;
    phones[1].press("u");
    let caller = PHONES - 2;
    phones[caller].press("u");
    phones[caller]
        .until("idle", |m| m.display_row(0).starts_with(&number(caller)))
        .await;
    let (left, right) = phones.split_at_mut(PHONES - 1);
    connect(&mut left[PHONES - 2], &mut right[0], &number(PHONES - 1)).await;
    assert_eq!(gateway.status().channels.in_use, X_CHANNELS);

    for phone in phones {
        phone.client.stop().await;
    }
    gateway.stop().await;
}
