//! The client against the real gateway's portal over real TLS on loopback;
//! a TLS listener of our own only for malformed event data, which the
//! gateway never sends.

use shared::portal::{CallState, ErrorCode, Event, RegistrationState};

use super::*;
use crate::portal::events::{Backoff, EventStream, StreamEvent};
use crate::portal::testing::{
    DAN, HOME_IP, LAN_IP, OtherApp, PATIENCE, TestCert, TestGateway, TlsListener, android,
};

fn fast() -> Backoff {
    Backoff {
        first: Duration::from_millis(10),
        max: Duration::from_millis(40),
    }
}

async fn next(events: &mut tokio::sync::mpsc::UnboundedReceiver<StreamEvent>) -> StreamEvent {
    tokio::time::timeout(PATIENCE, events.recv())
        .await
        .expect("an event in time")
        .expect("stream task alive")
}

#[tokio::test]
async fn login_proves_the_password_from_the_bound_address_and_a_wrong_one_is_refused() {
    let gateway = TestGateway::start().await;
    let client = gateway.client(gateway.lan, Some(HOME_IP));
    let session = client
        .login(DAN.0, &Secret::new(DAN.1), &android())
        .await
        .expect("the gateway checked the proof");
    assert!(
        !format!("{session:?}").contains(session.token.expose()),
        "the token never prints"
    );
    assert_eq!(session.expires_in, Duration::from_secs(3600));
    assert_eq!((session.number.as_str(), session.name.as_str()), DAN_NAME);
    // The gateway saw the home address: outside the company LAN.
    let rtp: SocketAddr = SocketAddr::new(HOME_IP, 40000);
    let registered = client
        .register(&session.token, rtp)
        .await
        .expect("registered");
    assert!(registered.internet, "bound to the home address");

    let refused = client
        .login(DAN.0, &Secret::new("Dan*wrong"), &android())
        .await
        .expect_err("wrong password");
    let ClientError::Api { status, error } = &refused else {
        panic!("an API error, got {refused:?}");
    };
    assert_eq!((*status, error.code), (401, ErrorCode::LoginFailed));
    assert_eq!(refused.to_string(), "Login failed: wrong user or password");
}

const DAN_NAME: (&str, &str) = ("210", "Dan");

#[tokio::test]
async fn registration_offers_g711_and_call_requests_act_or_are_refused_in_the_gateways_words() {
    let gateway = TestGateway::start().await;
    let mut eve = OtherApp::register(&gateway, crate::portal::testing::EVE).await;
    let client = gateway.client(gateway.lan, Some(LAN_IP));
    let session = client
        .login(DAN.0, &Secret::new(DAN.1), &android())
        .await
        .expect("logged in");
    let token = session.token;
    let not_yet = client
        .call(&token, &CallRequest::Dial("211".into()))
        .await
        .expect_err("not registered");
    assert!(
        matches!(&not_yet, ClientError::Api { status: 409, error } if error.code == ErrorCode::NotRegistered),
        "{not_yet:?}"
    );
    let rtp: SocketAddr = SocketAddr::new(LAN_IP, 40000);
    let registered = client.register(&token, rtp).await.expect("registered");
    assert_eq!(registered.codecs, g711_offer(), "G.711 offered, all taken");
    assert!(!registered.internet);

    let no_call = client
        .call(&token, &CallRequest::Hold)
        .await
        .expect_err("nothing to hold");
    assert!(matches!(&no_call, ClientError::Api { error, .. } if error.code == ErrorCode::NoCall));
    assert_eq!(no_call.to_string(), "No call to hold");

    client
        .call(&token, &CallRequest::Dial("211".into()))
        .await
        .expect("dial taken");
    let ringing = eve.call(|view| view.state == CallState::Ringing).await;
    assert_eq!(
        ringing.peer.as_deref(),
        Some("210 Dan"),
        "the dial reached Eve"
    );
    eve.request(CallRequest::Answer).await;
    let connected = eve.call(|view| view.state == CallState::Connected).await;
    let media = connected.media.expect("media to Dan");
    assert_eq!(media.rtp, rtp, "LAN to LAN: directly to Dan's RTP");
    assert_eq!(media.rtcp_port, rtp.port() + 1, "RTCP is RTP + 1");
    client
        .call(&token, &CallRequest::Dtmf("12#".into()))
        .await
        .expect("dtmf taken while connected");
    let bad = client
        .call(&token, &CallRequest::Dtmf("x".into()))
        .await
        .expect_err("not a digit");
    assert!(
        matches!(&bad, ClientError::Api { status: 400, error } if error.code == ErrorCode::BadRequest),
        "{bad:?}"
    );
    client
        .call(&token, &CallRequest::Hangup)
        .await
        .expect("hung up");
    let ended = eve.call(|view| view.state == CallState::Ended).await;
    assert_eq!(ended.reason.as_deref(), Some("Call ended"));

    let expired = client
        .call(&Secret::new("not-a-session"), &CallRequest::Hangup)
        .await
        .expect_err("unauthorised");
    assert!(
        matches!(&expired, ClientError::Api { status: 401, error } if error.code == ErrorCode::Unauthorized),
        "{expired:?}"
    );
    gateway.gateway.stop().await;
}

#[tokio::test]
async fn a_wrong_certificate_and_a_closed_port_are_told_apart() {
    let gateway = TestGateway::start().await;
    let other = TestCert::self_signed();
    let server = ServerAddress::parse(&gateway.lan.to_string()).expect("server");
    let pinned_other =
        PortalClient::new(&server, None, &Trust::Pin(other.fingerprint())).expect("client");
    let refused = pinned_other
        .login(DAN.0, &Secret::new(DAN.1), &android())
        .await
        .expect_err("not the pinned certificate");
    assert!(
        matches!(refused, ClientError::Trust(TrustError::PinMismatch { .. })),
        "{refused:?}"
    );

    let closed = std::net::TcpListener::bind((LAN_IP, 0)).expect("bind");
    let port = closed.local_addr().expect("address").port();
    drop(closed);
    let server = ServerAddress::parse(&format!("127.0.0.1:{port}")).expect("server");
    let nobody = PortalClient::new(&server, None, &gateway.trust()).expect("client");
    let unreachable = nobody
        .login(DAN.0, &Secret::new(DAN.1), &android())
        .await
        .expect_err("nobody listens");
    assert!(
        matches!(unreachable, ClientError::Unreachable { .. }),
        "{unreachable:?}"
    );
}

#[tokio::test]
async fn the_event_stream_tells_the_state_and_ends_when_the_user_logs_in_elsewhere() {
    let gateway = TestGateway::start().await;
    let client = gateway.client(gateway.lan, Some(LAN_IP));
    let session = client
        .login(DAN.0, &Secret::new(DAN.1), &android())
        .await
        .expect("logged in");
    let (_stream, mut events) = EventStream::spawn(client.clone(), session.token.clone(), fast());
    assert!(matches!(next(&mut events).await, StreamEvent::Connected));
    assert!(matches!(
        next(&mut events).await,
        StreamEvent::Event(Event::Registration {
            state: RegistrationState::Unregistered,
            ..
        })
    ));
    let StreamEvent::Event(Event::Call(idle)) = next(&mut events).await else {
        panic!("the line's call second");
    };
    assert_eq!(idle.state, CallState::Idle);
    client
        .register(&session.token, SocketAddr::new(LAN_IP, 40000))
        .await
        .expect("registered");
    assert!(matches!(
        next(&mut events).await,
        StreamEvent::Event(Event::Registration {
            state: RegistrationState::Registered,
            ..
        })
    ));

    // The same user logs in on another device: this session ends, its
    // stream says why and closes; reopening it is refused for good.
    gateway
        .client(gateway.lan, Some(LAN_IP))
        .login(DAN.0, &Secret::new(DAN.1), &android())
        .await
        .expect("logged in elsewhere");
    let StreamEvent::Event(Event::LoggedOut { reason }) = next(&mut events).await else {
        panic!("logged_out first");
    };
    assert_eq!(reason, "logged in elsewhere");
    assert!(matches!(
        next(&mut events).await,
        StreamEvent::Disconnected(_)
    ));
    assert!(matches!(
        next(&mut events).await,
        StreamEvent::Ended(ClientError::Api { status: 401, .. })
    ));
    assert!(events.recv().await.is_none(), "no reopening");
}

/// Stays a fake: the gateway only ever sends well-formed events, and the
/// client must skip a malformed one without losing the stream.
#[tokio::test]
async fn the_event_stream_skips_malformed_data() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let cert = TestCert::self_signed();
    let listener = TlsListener::start(LAN_IP, &cert, |mut tls| async move {
        let mut request = [0u8; 4096];
        let _ = tls.read(&mut request).await;
        let reply = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n\
                     : keepalive\n\n\
                     event: call\ndata: {\"type\":\"call\",\"state\":\n\n\
                     event: call\ndata: {\"type\":\"call\",\"state\":\"ringing\",\"peer\":\"201 Anna\"}\n\n";
        let _ = tls.write_all(reply.as_bytes()).await;
        let _ = tls.shutdown().await;
    })
    .await;
    let server = ServerAddress::parse(&listener.address.to_string()).expect("server");
    let client = PortalClient::new(&server, None, &Trust::Pin(cert.fingerprint())).expect("client");
    let (_stream, mut events) = EventStream::spawn(client, Secret::new("tok"), fast());
    assert!(matches!(next(&mut events).await, StreamEvent::Connected));
    assert!(matches!(next(&mut events).await, StreamEvent::Malformed(_)));
    let StreamEvent::Event(Event::Call(view)) = next(&mut events).await else {
        panic!("the call event after the malformed one");
    };
    assert_eq!(view.state, CallState::Ringing);
    // The server closed the stream: reported, then reopened.
    assert!(matches!(
        next(&mut events).await,
        StreamEvent::Disconnected(_)
    ));
    assert!(matches!(next(&mut events).await, StreamEvent::Connected));
}

#[tokio::test]
async fn through_the_capture_relay_logins_refusals_and_closed_ports_read_as_without() {
    let gateway = TestGateway::start().await;
    let dir = tempfile::tempdir().expect("a temp dir");
    let capture = Capture::create(&dir.path().join("app.pcapng")).expect("a capture");
    let server = ServerAddress::parse(&gateway.lan.to_string()).expect("server");
    let client = PortalClient::with_capture(
        &server,
        Some(HOME_IP),
        &gateway.trust(),
        Some(capture.clone()),
    )
    .expect("client");
    client
        .login(DAN.0, &Secret::new(DAN.1), &android())
        .await
        .expect("logged in through the relay");

    let other = TestCert::self_signed();
    let pinned_other = PortalClient::with_capture(
        &server,
        None,
        &Trust::Pin(other.fingerprint()),
        Some(capture.clone()),
    )
    .expect("client");
    let refused = pinned_other
        .login(DAN.0, &Secret::new(DAN.1), &android())
        .await
        .expect_err("not the pinned certificate");
    assert!(
        matches!(refused, ClientError::Trust(TrustError::PinMismatch { .. })),
        "the certificate is still checked: {refused:?}"
    );

    let closed = std::net::TcpListener::bind((LAN_IP, 0)).expect("bind");
    let port = closed.local_addr().expect("address").port();
    drop(closed);
    let server = ServerAddress::parse(&format!("127.0.0.1:{port}")).expect("server");
    let nobody =
        PortalClient::with_capture(&server, None, &gateway.trust(), Some(capture)).expect("client");
    let unreachable = nobody
        .login(DAN.0, &Secret::new(DAN.1), &android())
        .await
        .expect_err("nobody listens");
    assert!(
        matches!(&unreachable, ClientError::Unreachable { reason, .. } if reason.contains("Connection refused")),
        "the server's refusal in words: {unreachable:?}"
    );
    gateway.gateway.stop().await;
}
