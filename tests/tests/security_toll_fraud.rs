//! Issue 11, attack 6: toll fraud through the international format. A
//! client allowed international calls dials the system's own premium-rate
//! numbers with the international prefix and its country code (0 0049 900
//! ...) instead of nationally (0 0900 ...), or an IRSF range (+881, +882,
//! +979, ...), or programs call forwarding to them; real HFA phones dial
//! through the built-in test trunk (trunk access code 0) of a gateway on
//! loopback, and read on their displays why they were refused.

use std::net::SocketAddr;

use e2e_tests::{
    EVE_ABROAD as EVE, HOME_IP, Handset, LAN_IP, Subscriber, account, eve_abroad, office,
    start_gateway_with,
};
use gateway::clock::Clock;
use gateway::gateway::Gateway;
use shared::hfa_engine::phone::PhoneTimers;
use shared::hfa_engine::system::SystemTimers;
use softphone::hfa::{Led, ToneKind, press_feature};

/// 205 Eve may call abroad and registers from home: the account an
/// attacker who learnt her password uses. 206 Fritz may also call
/// premium-rate numbers.
fn international_subscribers() -> Vec<Subscriber> {
    vec![
        eve_abroad().at_home(),
        Subscriber::hfa(FRITZ.0, "Fritz", "OpenStage 40")
            .licensed()
            .password(FRITZ.1)
            .class_of_service("international")
            .allow_premium(),
    ]
}

const FRITZ: (&str, &str) = ("206", "Fritz+premium77");
const GRETA: (&str, &str) = ("207", "Greta/satellite9");

async fn gateway(subscribers: Vec<Subscriber>) -> Gateway {
    start_gateway_with(
        office().subscribers(subscribers).validated(),
        SocketAddr::new(LAN_IP, 0),
        Clock::system(),
        SystemTimers::default(),
    )
    .await
}

async fn phone(gateway: &Gateway, who: (&str, &str), from: std::net::IpAddr) -> Handset {
    let mut phone = Handset::register(
        account(gateway.hfa_addr(), who, from),
        PhoneTimers::default(),
    )
    .await;
    phone
        .until("the idle screen", |m| m.label(5) == Some("Release"))
        .await;
    phone
}

/// Dials `digits` off-hook and `#`; returns both display rows once the
/// call is refused (congestion) or connected, then hangs up.
async fn dial(phone: &mut Handset, digits: &str) -> (String, String) {
    let idle = phone.top();
    // The dial tone comes last of the dialling screen: what the phone
    // showed before is overwritten by then.
    phone.press("h");
    phone
        .until("dial tone", |m| m.tone() == Some(ToneKind::Dial))
        .await;
    phone.press(&format!("{digits}#"));
    phone
        .until("a refusal or a connected call", |m| {
            m.tone() == Some(ToneKind::Congestion) || m.display_row(1) == "Connected"
        })
        .await;
    let shown = (phone.top(), phone.model.display_row(1));
    phone.press("u");
    phone
        .until("the idle screen again", |m| m.display_row(0) == idle)
        .await;
    shown
}

fn refused(why: &str) -> (String, String) {
    ("Not allowed".into(), why.into())
}

fn connected(dialled: &str) -> (String, String) {
    (dialled.into(), "Connected".into())
}

#[tokio::test]
async fn premium_numbers_are_refused_in_national_and_international_format() {
    let gateway = gateway(international_subscribers()).await;
    let mut eve = phone(&gateway, EVE, HOME_IP).await;
    // 0 is the trunk access code; 0900 the national premium-rate prefix,
    // 00 49 the international prefix and the system's own country.
    for premium in ["0049900123456", "00490900123456", "0900123456"] {
        let shown = dial(&mut eve, &format!("0{premium}")).await;
        assert_eq!(shown, refused("Premium-rate number"), "0 {premium}");
    }
    // The trunk never took a channel: nothing was dialled out.
    assert_eq!(gateway.calls().channel_figures().peak, 0);
    // Her class of service still reaches other countries.
    let shown = dial(&mut eve, "000441234567").await;
    assert_eq!(shown, connected("00441234567"));
    eve.client.stop().await;
    gateway.stop().await;
}

#[tokio::test]
async fn a_client_allowed_premium_numbers_is_let_through_in_both_formats() {
    let gateway = gateway(international_subscribers()).await;
    let mut fritz = phone(&gateway, FRITZ, LAN_IP).await;
    for premium in ["0900123456", "0049900123456"] {
        let shown = dial(&mut fritz, &format!("0{premium}")).await;
        assert_eq!(shown, connected(premium));
    }
    fritz.client.stop().await;
    gateway.stop().await;
}

#[tokio::test]
async fn the_irsf_ranges_are_refused_to_an_international_client() {
    let gateway = gateway(international_subscribers()).await;
    let mut eve = phone(&gateway, EVE, HOME_IP).await;
    let mut fritz = phone(&gateway, FRITZ, LAN_IP).await;
    // Satellite phones, international networks, international premium rate.
    for irsf in [
        "008816123456",
        "00882161234",
        "00883512345",
        "00979123456",
        "00870773111",
    ] {
        assert_eq!(
            dial(&mut eve, &format!("0{irsf}")).await,
            refused("High-risk destination"),
            "0 {irsf}"
        );
        // Being allowed premium-rate numbers is not being allowed these.
        assert_eq!(
            dial(&mut fritz, &format!("0{irsf}")).await,
            refused("High-risk destination"),
            "0 {irsf}"
        );
    }
    // The trunk never took a channel: nothing was dialled out.
    assert_eq!(gateway.calls().channel_figures().peak, 0);
    eve.client.stop().await;
    fritz.client.stop().await;
    gateway.stop().await;
}

#[tokio::test]
async fn a_client_explicitly_allowed_the_irsf_ranges_reaches_them() {
    let greta = Subscriber::hfa(GRETA.0, "Greta", "OpenStage 60")
        .licensed()
        .password(GRETA.1)
        .class_of_service("international")
        .allow_irsf();
    let gateway = gateway(vec![greta]).await;
    let mut greta = phone(&gateway, GRETA, LAN_IP).await;
    assert_eq!(
        dial(&mut greta, "0008816123456").await,
        connected("008816123456")
    );
    // Still no premium-rate numbers of its own country.
    assert_eq!(
        dial(&mut greta, "00049900123456").await,
        refused("Premium-rate number")
    );
    greta.client.stop().await;
    gateway.stop().await;
}

#[tokio::test]
async fn forwarding_to_a_premium_number_in_international_format_is_refused() {
    let gateway = gateway(international_subscribers()).await;
    let mut eve = phone(&gateway, EVE, HOME_IP).await;
    let forward = (1..=20u8)
        .find(|n| eve.model.label(*n) == Some("Forward"))
        .expect("a Forward key");
    for destination in ["00049900666666", "0008816123456"] {
        eve.client
            .send(press_feature(forward).expect("a function key"));
        eve.until("the forwarding prompt", |m| {
            m.display_row(0) == "Forward to:"
        })
        .await;
        eve.press(&format!("{destination}#"));
        eve.until("a refusal or forwarding on", |m| {
            m.tone() == Some(ToneKind::Congestion) || m.led(forward) == Led::On
        })
        .await;
        assert_eq!(eve.top(), "Not allowed", "{destination}");
        assert_eq!(eve.model.led(forward), Led::Off, "{destination}");
        eve.press("u");
        eve.until("idle again", |m| m.display_row(0) == "205 Eve")
            .await;
    }
    eve.client.stop().await;
    gateway.stop().await;
}
