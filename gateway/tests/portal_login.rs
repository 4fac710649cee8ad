//! Logging in to the myPortal to go API over real HTTPS: the proof of the
//! UC password, single-use challenges, the HFA lockout, sessions that
//! expire on the gateway's clock, one session per user.

mod portal_support;

use std::time::Duration;

use portal_support::{
    ANNA, DAN, LAN_IP, MAX_FAILURES, Rig, TempDir, android, office, stored_certificate, temp_dir,
};
use reqwest::StatusCode;
use shared::portal::{ErrorCode, Event, Session};

async fn rig(tag: &str) -> (Rig, TempDir) {
    let dir = temp_dir(tag);
    (Rig::start(office(dir.path(), "")).await, dir)
}

#[tokio::test]
async fn the_right_proof_logs_in_and_a_session_can_be_refreshed_and_ended() {
    let (rig, dir) = rig("login-ok").await;
    let mut app = rig.app_trusting(LAN_IP, &stored_certificate(dir.path()));
    let session = app.login(DAN).await.expect("logged in");
    assert_eq!(
        (session.number.as_str(), session.name.as_str()),
        ("210", "Dan")
    );
    assert_eq!(session.expires_in_s, 3600);
    assert_eq!(session.token.len(), 64);
    let status = rig.gateway.status().to_string();
    assert!(status.contains("myPortal to go: 1 sessions"), "{status}");

    rig.clock.advance(Duration::from_secs(3000));
    let refreshed: Session = app
        .post("session/refresh", &serde_json::json!({}))
        .await
        .expect("refreshed")
        .expect("a body");
    assert_eq!(refreshed.token, session.token);
    rig.clock.advance(Duration::from_secs(3000));
    app.post::<_, Session>("session/refresh", &serde_json::json!({}))
        .await
        .expect("still alive: the refresh moved the expiry");

    app.delete("session").await.expect("logged out");
    let (status, error) = app
        .post::<_, Session>("session/refresh", &serde_json::json!({}))
        .await
        .expect_err("the session is gone");
    assert_eq!(
        (status, error.code),
        (StatusCode::UNAUTHORIZED, ErrorCode::Unauthorized)
    );
    rig.gateway.stop().await;
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_user_fail_alike() {
    let (rig, dir) = rig("login-wrong").await;
    let mut app = rig.app_trusting(LAN_IP, &stored_certificate(dir.path()));
    let (status, wrong) = app
        .login((DAN.0, "Not-Dans-Password1"))
        .await
        .expect_err("refused");
    assert_eq!(
        (status, wrong.code),
        (StatusCode::UNAUTHORIZED, ErrorCode::LoginFailed)
    );
    let (status, unknown) = app
        .login(("299", "Whatever-Pass1"))
        .await
        .expect_err("refused");
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        unknown, wrong,
        "an unknown user reads exactly like a wrong password"
    );
    assert!(!wrong.message.contains(DAN.1));
    rig.gateway.stop().await;
}

#[tokio::test]
async fn an_hfa_client_is_not_a_portal_user() {
    let (rig, dir) = rig("login-kind").await;
    let mut app = rig.app_trusting(LAN_IP, &stored_certificate(dir.path()));
    let (status, error) = app.login(ANNA).await.expect_err("refused");
    assert_eq!(
        (status, error.code),
        (StatusCode::FORBIDDEN, ErrorCode::WrongClientKind)
    );
    rig.gateway.stop().await;
}

#[tokio::test]
async fn repeated_failures_lock_out_even_the_right_password_until_the_lockout_ends() {
    let (rig, dir) = rig("login-lockout").await;
    let mut app = rig.app_trusting(LAN_IP, &stored_certificate(dir.path()));
    for _ in 0..MAX_FAILURES {
        let (_, error) = app
            .login((DAN.0, "Guessing-Pass99"))
            .await
            .expect_err("wrong");
        assert_eq!(error.code, ErrorCode::LoginFailed);
    }
    let (status, error) = app.login(DAN).await.expect_err("locked out");
    assert_eq!(
        (status, error.code),
        (StatusCode::TOO_MANY_REQUESTS, ErrorCode::LockedOut)
    );
    rig.clock.advance(Duration::from_secs(61));
    app.login(DAN).await.expect("the lockout has ended");
    rig.gateway.stop().await;
}

#[tokio::test]
async fn a_challenge_serves_one_login_within_30_seconds() {
    let (rig, dir) = rig("login-challenge").await;
    let mut app = rig.app_trusting(LAN_IP, &stored_certificate(dir.path()));
    let challenge = app.challenge(DAN.0).await;
    assert_eq!((challenge.nonce.len(), challenge.expires_in_s), (64, 30));
    app.answer(DAN.0, DAN.1, &challenge, android("V2R1.61.14"))
        .await
        .expect("first use");
    let (status, error) = app
        .answer(DAN.0, DAN.1, &challenge, android("V2R1.61.14"))
        .await
        .expect_err("second use");
    assert_eq!(
        (status, error.code),
        (StatusCode::UNAUTHORIZED, ErrorCode::ChallengeExpired)
    );

    let late = app.challenge(DAN.0).await;
    rig.clock.advance(Duration::from_secs(31));
    let (_, error) = app
        .answer(DAN.0, DAN.1, &late, android("V2R1.61.14"))
        .await
        .expect_err("expired");
    assert_eq!(error.code, ErrorCode::ChallengeExpired);

    let other = app.challenge("211").await;
    let (_, error) = app
        .answer(DAN.0, DAN.1, &other, android("V2R1.61.14"))
        .await
        .expect_err("a challenge is for the user who asked");
    assert_eq!(error.code, ErrorCode::ChallengeExpired);
    rig.gateway.stop().await;
}

#[tokio::test]
async fn a_session_expires_on_the_gateway_clock_and_its_stream_is_told() {
    let (rig, dir) = rig("login-expiry").await;
    let mut app = rig.app_trusting(LAN_IP, &stored_certificate(dir.path()));
    app.login(DAN).await.expect("logged in");
    let mut events = app.events().await.expect("a stream");
    assert!(matches!(
        events.next().await,
        Some(Event::Registration { .. })
    ));
    assert!(matches!(events.next().await, Some(Event::Call(_))));
    rig.clock.advance(Duration::from_secs(3601));
    assert_eq!(
        events.next().await,
        Some(Event::LoggedOut {
            reason: "session expired".into()
        })
    );
    assert_eq!(
        events.next().await,
        None,
        "the stream ends with the session"
    );
    let (status, _) = app.events().await.expect_err("the token is dead");
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    rig.gateway.stop().await;
}

#[tokio::test]
async fn logging_in_elsewhere_ends_the_first_session() {
    let (rig, dir) = rig("login-elsewhere").await;
    let certificate = stored_certificate(dir.path());
    let mut phone = rig.app_trusting(LAN_IP, &certificate);
    let mut tablet = rig.app_trusting(LAN_IP, &certificate);
    phone.login(DAN).await.expect("logged in");
    let mut events = phone.events().await.expect("a stream");
    events.next().await;
    events.next().await;
    tablet.login(DAN).await.expect("logged in again");
    assert_eq!(
        events.next().await,
        Some(Event::LoggedOut {
            reason: "logged in elsewhere".into()
        })
    );
    let (status, _) = phone
        .post::<_, Session>("session/refresh", &serde_json::json!({}))
        .await
        .expect_err("the first token is dead");
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    tablet
        .post::<_, Session>("session/refresh", &serde_json::json!({}))
        .await
        .expect("the second lives");
    rig.gateway.stop().await;
}
