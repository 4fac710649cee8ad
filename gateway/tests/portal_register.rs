//! VoIP registration of a logged-in app over real HTTPS: the guide's rules
//! in the HFA registrar's order and words, and what a registration needs.

mod portal_support;

use portal_support::{
    DAN, GINA, HOME_IP, LAN_IP, Rig, TempDir, android, codec, office, pcma, stored_certificate,
    temp_dir,
};
use reqwest::StatusCode;
use shared::portal::{AppInfo, ErrorCode, Event, RegistrationState};

async fn rig(tag: &str) -> (Rig, TempDir) {
    let dir = temp_dir(tag);
    (Rig::start(office(dir.path(), "")).await, dir)
}

#[tokio::test]
async fn a_g711_offer_registers_and_the_stream_says_so() {
    let (rig, dir) = rig("register-ok").await;
    let mut app = rig.app_trusting(LAN_IP, &stored_certificate(dir.path()));
    app.login(DAN).await.expect("logged in");
    let mut events = app.events().await.expect("a stream");
    assert_eq!(
        events.next().await,
        Some(Event::Registration {
            state: RegistrationState::Unregistered,
            reason: None
        })
    );
    events.next().await;
    let registered = app
        .register("127.0.0.1:40000", vec![pcma(), codec("PCMU", 0)])
        .await
        .expect("registered");
    assert_eq!(registered.number, "210");
    assert_eq!(registered.codecs, vec![pcma(), codec("PCMU", 0)]);
    assert!(!registered.internet, "from the company LAN");
    assert_eq!(
        events.next().await,
        Some(Event::Registration {
            state: RegistrationState::Registered,
            reason: None
        })
    );
    let status = rig.gateway.status().to_string();
    assert!(status.contains("1 VoIP registrations"), "{status}");
    app.delete("voip/register").await.expect("unregistered");
    assert!(matches!(
        events.next().await,
        Some(Event::Registration {
            state: RegistrationState::Unregistered,
            ..
        })
    ));
    let (status, error) = app
        .call("dial", serde_json::json!({"number": "211"}))
        .await
        .expect_err("no longer registered");
    assert_eq!(
        (status, error.code),
        (StatusCode::CONFLICT, ErrorCode::NotRegistered)
    );
    rig.gateway.stop().await;
}

#[tokio::test]
async fn any_codec_but_g711_is_refused_by_name() {
    let (rig, dir) = rig("register-codec").await;
    let mut app = rig.app_trusting(LAN_IP, &stored_certificate(dir.path()));
    app.login(DAN).await.expect("logged in");
    let (status, error) = app
        .register("127.0.0.1:40000", vec![pcma(), codec("G729", 18)])
        .await
        .expect_err("refused");
    assert_eq!(
        (status, error.code),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::CodecNotSupported
        )
    );
    assert!(error.message.contains("G729"), "{}", error.message);
    assert!(error.message.contains("G.711"), "{}", error.message);
    assert!(error.message.contains("guide 1.3.3"), "{}", error.message);
    let (_, error) = app
        .register("127.0.0.1:40000", vec![codec("opus", 111)])
        .await
        .expect_err("refused");
    assert!(error.message.contains("opus"), "{}", error.message);
    rig.gateway.stop().await;
}

#[tokio::test]
async fn an_app_older_than_the_guide_minimum_or_on_ios_is_refused_with_the_reason() {
    let (rig, dir) = rig("register-version").await;
    let certificate = stored_certificate(dir.path());
    let mut old = rig.app_trusting(LAN_IP, &certificate);
    old.login_as(DAN, android("V2R1.60.9"))
        .await
        .expect("an old app may log in");
    let (status, error) = old
        .register("127.0.0.1:40000", vec![pcma()])
        .await
        .expect_err("but not register for VoIP");
    assert_eq!(
        (status, error.code),
        (StatusCode::FORBIDDEN, ErrorCode::VersionTooOld)
    );
    assert!(error.message.contains("V2R1.60.9"), "{}", error.message);
    assert!(error.message.contains("V2R1.61.14"), "{}", error.message);
    assert!(error.message.contains("guide 4"), "{}", error.message);

    let mut ios = rig.app_trusting(LAN_IP, &certificate);
    let iphone = AppInfo {
        platform: "ios".into(),
        version: "V2R1.70.0".into(),
    };
    ios.login_as(DAN, iphone).await.expect("logged in");
    let (_, error) = ios
        .register("127.0.0.1:40000", vec![pcma()])
        .await
        .expect_err("no iOS VoIP release");
    assert_eq!(error.code, ErrorCode::VersionTooOld);
    assert!(error.message.contains("iOS"), "{}", error.message);
    assert!(error.message.contains("coming soon"), "{}", error.message);

    let mut current = rig.app_trusting(LAN_IP, &certificate);
    current
        .login_as(DAN, android("V2R1.61.14"))
        .await
        .expect("logged in");
    current
        .register("127.0.0.1:40000", vec![pcma()])
        .await
        .expect("the minimum itself is enough");
    rig.gateway.stop().await;
}

#[tokio::test]
async fn outside_the_lan_only_users_enabled_for_internet_registration_register() {
    let (rig, dir) = rig("register-internet").await;
    let certificate = stored_certificate(dir.path());
    let mut at_home = rig.app_trusting(HOME_IP, &certificate);
    at_home.login(GINA).await.expect("logging in is allowed");
    let (status, error) = at_home
        .register("127.0.1.20:40000", vec![pcma()])
        .await
        .expect_err("VoIP over the internet is off for 213");
    assert_eq!(
        (status, error.code),
        (
            StatusCode::FORBIDDEN,
            ErrorCode::InternetRegistrationDisabled
        )
    );
    assert!(error.message.contains("guide 2.2"), "{}", error.message);

    let mut in_office = rig.app_trusting(LAN_IP, &certificate);
    in_office.login(GINA).await.expect("logged in");
    let registered = in_office
        .register("127.0.0.1:40000", vec![pcma()])
        .await
        .expect("from the LAN");
    assert!(!registered.internet);

    let mut dan = rig.app_trusting(HOME_IP, &certificate);
    dan.login(DAN).await.expect("logged in");
    let registered = dan
        .register("0.0.0.0:40000", vec![pcma()])
        .await
        .expect("210 may register over the internet");
    assert!(registered.internet, "seen as coming over the internet");
    rig.gateway.stop().await;
}

#[tokio::test]
async fn call_requests_need_a_registration_and_a_call() {
    let (rig, dir) = rig("register-calls").await;
    let mut app = rig.app_trusting(LAN_IP, &stored_certificate(dir.path()));
    let (status, error) = app
        .call("answer", serde_json::json!({}))
        .await
        .expect_err("not logged in");
    assert_eq!(
        (status, error.code),
        (StatusCode::UNAUTHORIZED, ErrorCode::Unauthorized)
    );
    app.login(DAN).await.expect("logged in");
    let (_, error) = app
        .call("answer", serde_json::json!({}))
        .await
        .expect_err("not registered");
    assert_eq!(error.code, ErrorCode::NotRegistered);
    app.register("127.0.0.1:40000", vec![pcma()])
        .await
        .expect("registered");
    for action in ["answer", "reject", "hangup", "hold", "retrieve"] {
        let (status, error) = app
            .call(action, serde_json::json!({}))
            .await
            .expect_err("no call");
        assert_eq!(
            (status, error.code),
            (StatusCode::CONFLICT, ErrorCode::NoCall),
            "{action}"
        );
    }
    let (status, error) = app
        .call("dial", serde_json::json!({"number": "2x1"}))
        .await
        .expect_err("not digits");
    assert_eq!(
        (status, error.code),
        (StatusCode::BAD_REQUEST, ErrorCode::BadRequest)
    );
    let (_, error) = app
        .call("dial", serde_json::json!({"nummer": "211"}))
        .await
        .expect_err("unknown field");
    assert_eq!(error.code, ErrorCode::BadRequest);
    rig.gateway.stop().await;
}

/// After a network change the app opens a new event stream in the same
/// session while its old connection may still look open: the new stream
/// replaces the old one (which ends), and gets the current state first.
#[tokio::test]
async fn a_second_event_stream_replaces_the_first_which_ends() {
    let (rig, dir) = rig("stream-replace").await;
    let certificate = stored_certificate(dir.path());
    let mut office_app = rig.app_trusting(LAN_IP, &certificate);
    office_app.login(DAN).await.expect("logged in");
    office_app
        .register("127.0.0.1:40000", vec![pcma()])
        .await
        .expect("registered");
    let mut old = office_app.events().await.expect("a stream");
    assert!(matches!(
        old.next().await,
        Some(Event::Registration {
            state: RegistrationState::Registered,
            ..
        })
    ));
    // The same session from home, the old connection still open.
    let mut home_app = rig.app_trusting(HOME_IP, &certificate);
    home_app.token = office_app.token.clone();
    let mut new = home_app.events().await.expect("the second stream is taken");
    assert!(matches!(
        new.next().await,
        Some(Event::Registration {
            state: RegistrationState::Registered,
            ..
        })
    ));
    // The old stream ends (after what was queued for it).
    while let Some(event) = old.next().await {
        assert!(
            matches!(event, Event::Call(_)),
            "only its first events: {event:?}"
        );
    }
    home_app
        .register("127.0.1.20:40000", vec![pcma()])
        .await
        .expect("registered again from home");
    let status = rig.gateway.status();
    assert_eq!(status.portal.map(|p| (p.sessions, p.streams)), Some((1, 1)));
    home_app
        .delete("voip/register")
        .await
        .expect("unregistered");
    // The new stream is the one told.
    new.until(|event| {
        matches!(
            event,
            Event::Registration {
                state: RegistrationState::Unregistered,
                ..
            }
        )
    })
    .await;
    rig.gateway.stop().await;
}
