//! The client against a fake portal over real TLS on loopback.

use std::net::Ipv4Addr;

use shared::portal::{CallState, ErrorCode, Event, LoginRequest, verify_login_proof};

use super::*;
use crate::portal::events::{Backoff, EventStream, StreamEvent};
use crate::portal::testing::{FakePortal, Reply, Request, TestCert};

const PASSWORD: &str = "Portal-Pass-2026!";
const SERVER_NONCE: LoginNonce = LoginNonce([0x5a; 32]);
const HOME: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 1, 20));
const LOOPBACK: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

fn api_error(status: u16, code: &str, message: &str) -> Reply {
    Reply::Json(
        status,
        format!(r#"{{"code":"{code}","message":"{message}"}}"#),
    )
}

/// Answers like the gateway's contract for user 210.
fn portal(request: &Request) -> Reply {
    let authorised = request.header("authorization") == Some("Bearer tok-1");
    match (request.method.as_str(), request.path.as_str()) {
        ("POST", "/api/v1/login/challenge") => Reply::Json(
            200,
            format!(
                r#"{{"challenge_id":"c1","nonce":"{}","expires_in_s":30}}"#,
                SERVER_NONCE.to_hex()
            ),
        ),
        ("POST", "/api/v1/login") => {
            let login: LoginRequest = request.json();
            let client = LoginNonce::from_hex(&login.client_nonce).expect("client nonce");
            let password = Secret::new(PASSWORD);
            if verify_login_proof(&password, &login.user, &SERVER_NONCE, &client, &login.proof) {
                Reply::Json(
                    200,
                    r#"{"token":"tok-1","expires_in_s":3600,"number":"210","name":"Dan"}"#.into(),
                )
            } else {
                api_error(
                    401,
                    "login_failed",
                    "Login failed: unknown user or wrong password",
                )
            }
        }
        _ if !authorised => api_error(401, "unauthorized", "Session ended"),
        ("POST", "/api/v1/voip/register") => {
            let offer: VoipRegistration = request.json();
            Reply::Json(
                200,
                serde_json::json!({"number": "210", "codecs": offer.codecs, "internet": true})
                    .to_string(),
            )
        }
        ("POST", "/api/v1/call/hold") => api_error(409, "no_call", "There is no call to hold"),
        ("POST", path) if path.starts_with("/api/v1/call/") => Reply::Empty(204),
        ("GET", "/api/v1/events") => {
            let (chunks, stream) = tokio::sync::mpsc::unbounded_channel();
            for chunk in [
                ": keepalive\n\n",
                "event: registration\ndata: {\"type\":\"registration\",\"state\":\"registered\"}\n\n",
                "event: call\ndata: {\"type\":\"call\",\"state\":\n\n",
                "event: call\ndata: {\"type\":\"call\",\"state\":\"ringing\",\"peer\":\"201 Anna\"}\n\n",
            ] {
                let _ = chunks.send(chunk.to_owned());
            }
            // Dropping the sender closes the stream after these events.
            Reply::Sse(stream)
        }
        _ => api_error(404, "bad_request", "no such endpoint"),
    }
}

async fn start() -> (TestCert, FakePortal) {
    let cert = TestCert::self_signed();
    let fake = FakePortal::start(LOOPBACK, &cert, portal).await;
    (cert, fake)
}

fn client(fake: &FakePortal, cert: &TestCert, bind: Option<IpAddr>) -> PortalClient {
    let server = ServerAddress::parse(&fake.address().to_string()).expect("server");
    PortalClient::new(&server, bind, &Trust::Pin(cert.fingerprint())).expect("client")
}

fn app() -> AppInfo {
    AppInfo {
        platform: "android".into(),
        version: "V2R1.61.14".into(),
    }
}

#[tokio::test]
async fn login_proves_the_password_without_sending_it_from_the_bound_address() {
    let (cert, fake) = start().await;
    let client = client(&fake, &cert, Some(HOME));
    let session = client
        .login("210", &Secret::new(PASSWORD), &app())
        .await
        .expect("logged in");
    assert_eq!(session.token.expose(), "tok-1");
    assert!(
        !format!("{session:?}").contains("tok-1"),
        "the token never prints"
    );
    assert_eq!(session.expires_in, Duration::from_secs(3600));
    assert_eq!(session.name, "Dan");
    let login = fake.requests_to("/api/v1/login");
    assert_eq!(login.len(), 1);
    assert_eq!(login[0].peer.ip(), HOME, "bound to the home address");
    let body = String::from_utf8_lossy(&login[0].body).into_owned();
    assert!(!body.contains(PASSWORD));
    let request: LoginRequest = login[0].json();
    assert_eq!(request.challenge_id, "c1");
    assert_eq!(request.app, app());

    let refused = client
        .login("210", &Secret::new("wrong"), &app())
        .await
        .expect_err("wrong password");
    let ClientError::Api { status, error } = &refused else {
        panic!("an API error, got {refused:?}");
    };
    assert_eq!((*status, error.code), (401, ErrorCode::LoginFailed));
    assert_eq!(
        refused.to_string(),
        "Login failed: unknown user or wrong password"
    );
}

#[tokio::test]
async fn registration_offers_g711_only_and_calls_reach_their_endpoints() {
    let (cert, fake) = start().await;
    let client = client(&fake, &cert, None);
    let token = Secret::new("tok-1");
    let rtp: SocketAddr = "127.0.0.1:40000".parse().expect("address");
    let registered = client.register(&token, rtp).await.expect("registered");
    assert_eq!(registered.codecs, g711_offer());
    let sent: VoipRegistration = fake.requests_to("/api/v1/voip/register")[0].json();
    assert_eq!(sent.rtp, rtp);
    assert!(
        sent.codecs
            .iter()
            .all(|codec| [0, 8].contains(&codec.payload_type))
    );

    client
        .call(&token, &CallRequest::Dial("201".into()))
        .await
        .expect("dial taken");
    let dial: DialRequest = fake.requests_to("/api/v1/call/dial")[0].json();
    assert_eq!(dial.number, "201");
    client
        .call(&token, &CallRequest::Dtmf("12#".into()))
        .await
        .expect("dtmf taken");
    let dtmf: DtmfRequest = fake.requests_to("/api/v1/call/dtmf")[0].json();
    assert_eq!(dtmf.digits, "12#");
    let no_call = client
        .call(&token, &CallRequest::Hold)
        .await
        .expect_err("nothing to hold");
    assert_eq!(no_call.to_string(), "There is no call to hold");
    let expired = client
        .call(&Secret::new("old"), &CallRequest::Hangup)
        .await
        .expect_err("unauthorised");
    assert!(matches!(expired, ClientError::Api { status: 401, .. }));
}

#[tokio::test]
async fn a_wrong_certificate_and_a_closed_port_are_told_apart() {
    let (_cert, fake) = start().await;
    let other = TestCert::self_signed();
    let pinned_other = client(&fake, &other, None);
    let refused = pinned_other
        .login("210", &Secret::new(PASSWORD), &app())
        .await
        .expect_err("not the pinned certificate");
    assert!(
        matches!(refused, ClientError::Trust(TrustError::PinMismatch { .. })),
        "{refused:?}"
    );

    let closed = std::net::TcpListener::bind((LOOPBACK, 0)).expect("bind");
    let port = closed.local_addr().expect("address").port();
    drop(closed);
    let server = ServerAddress::parse(&format!("127.0.0.1:{port}")).expect("server");
    let nobody =
        PortalClient::new(&server, None, &Trust::Pin(other.fingerprint())).expect("client");
    let unreachable = nobody
        .login("210", &Secret::new(PASSWORD), &app())
        .await
        .expect_err("nobody listens");
    assert!(
        matches!(unreachable, ClientError::Unreachable { .. }),
        "{unreachable:?}"
    );
}

#[tokio::test]
async fn the_event_stream_skips_malformed_data_and_reopens_after_a_close() {
    let (cert, fake) = start().await;
    let client = client(&fake, &cert, None);
    let fast = Backoff {
        first: Duration::from_millis(10),
        max: Duration::from_millis(40),
    };
    let (_stream, mut events) = EventStream::spawn(client.clone(), Secret::new("tok-1"), fast);
    let mut next = async || {
        tokio::time::timeout(Duration::from_secs(5), events.recv())
            .await
            .expect("an event in time")
            .expect("stream task alive")
    };
    assert!(matches!(next().await, StreamEvent::Connected));
    assert!(matches!(
        next().await,
        StreamEvent::Event(Event::Registration { .. })
    ));
    assert!(matches!(next().await, StreamEvent::Malformed(_)));
    let StreamEvent::Event(Event::Call(view)) = next().await else {
        panic!("the call event after the malformed one");
    };
    assert_eq!(view.state, CallState::Ringing);
    assert_eq!(view.peer.as_deref(), Some("201 Anna"));
    // The gateway closed the stream: reported, then reopened.
    assert!(matches!(next().await, StreamEvent::Disconnected(_)));
    assert!(matches!(next().await, StreamEvent::Connected));

    let (_ended, mut refused) = EventStream::spawn(client, Secret::new("expired"), fast);
    let end = tokio::time::timeout(Duration::from_secs(5), refused.recv())
        .await
        .expect("in time");
    assert!(matches!(
        end,
        Some(StreamEvent::Ended(ClientError::Api { status: 401, .. }))
    ));
    assert!(refused.recv().await.is_none(), "no reopening");
}
