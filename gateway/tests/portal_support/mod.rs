//! Shared by the `portal_*` tests: a gateway with the myPortal to go server
//! on loopback (its own data directory, a manual clock), and an app that
//! speaks the API over real HTTPS, trusting only the certificate the
//! gateway stored in its data directory.
#![allow(dead_code)]

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::Path;
use std::time::Duration;

use gateway::clock::Clock;
use gateway::config::{RtpRange, Secret, ValidatedConfig};
use gateway::gateway::{Gateway, StartOptions};
use gateway::portal::tls::CERTIFICATE_FILE;
use gateway::testing::{Office, cast};
use reqwest::StatusCode;
use serde::Serialize;
use serde::de::DeserializeOwned;
use shared::portal::{
    ApiError, AppInfo, Challenge, ChallengeRequest, CodecOffer, Event, LoginNonce, LoginRequest,
    Session, VoipRegistered, VoipRegistration, login_proof,
};

/// Inside the test office's LAN (127.0.0.0/24).
pub const LAN_IP: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);
/// Outside it: an app at home.
pub const HOME_IP: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 1, 20));

/// myPortal to go users and their UC passwords.
pub const DAN: (&str, &str) = cast::DAN;
pub const EVE: (&str, &str) = cast::EVE;
/// Not enabled for internet registration (guide 2.2).
pub const GINA: (&str, &str) = cast::GINA;
/// An HFA phone, not a myPortal to go user.
pub const ANNA: (&str, &str) = cast::ANNA;

/// Failed logins before a lockout in the test office.
pub const MAX_FAILURES: u32 = 3;

pub use tempfile::TempDir;

/// A temporary directory for `tag`, removed on drop.
pub fn temp_dir(tag: &str) -> TempDir {
    tempfile::Builder::new()
        .prefix(&format!("portal-{tag}-"))
        .tempdir()
        .expect("create a temporary directory")
}

/// The test office with its data in `data_dir`; `extra` is appended
/// (e.g. a `[portal]` section).
pub fn office(data_dir: &Path, extra: &str) -> ValidatedConfig {
    Office::x3()
        .on_loopback()
        .data_dir(data_dir)
        .section(format!(
            "[security]\nmax_failed_attempts = {MAX_FAILURES}\nlockout_base_seconds = 60"
        ))
        .subscribers([
            cast::dan(),
            cast::eve(),
            cast::gina(),
            cast::anna().in_office_only(),
        ])
        .section(extra)
        .validated()
}

/// A block of RTP proxy ports per gateway, below the ephemeral range (the
/// system's media ends bind ephemeral ports) and apart from the blocks of
/// the other tests and the benches.
fn rtp_range() -> RtpRange {
    gateway::testing::rtp_range(2000, 70)
}

/// A running gateway with its portal.
pub struct Rig {
    pub gateway: Gateway,
    pub clock: Clock,
    pub addr: SocketAddr,
}

impl Rig {
    pub async fn start(config: ValidatedConfig) -> Self {
        let clock = Clock::manual();
        let options = StartOptions {
            hfa_listen: Some(SocketAddr::new(LAN_IP, 0)),
            portal_listen: Some(SocketAddr::new(LAN_IP, 0)),
            clock: clock.clone(),
            rtp_range: Some(rtp_range()),
            ..StartOptions::default()
        };
        let gateway = match Gateway::start(config, options).await {
            Ok(gateway) => gateway,
            Err(error) => panic!("gateway failed to start: {error}"),
        };
        let addr = gateway.portal_addr().expect("the portal runs");
        Self {
            gateway,
            clock,
            addr,
        }
    }

    /// An app connecting from `source`, trusting only `certificate` (PEM).
    pub fn app_trusting(&self, source: IpAddr, certificate: &[u8]) -> App {
        let root = reqwest::Certificate::from_pem(certificate).expect("a PEM certificate");
        let http = reqwest::Client::builder()
            .tls_certs_only([root])
            .local_address(source)
            .timeout(Duration::from_secs(10))
            .build()
            .expect("an HTTPS client");
        App {
            http,
            base: format!("https://{}", self.addr),
            token: None,
        }
    }
}

/// The generated certificate in `data_dir`.
pub fn stored_certificate(data_dir: &Path) -> Vec<u8> {
    std::fs::read(data_dir.join(CERTIFICATE_FILE)).expect("the gateway stored its certificate")
}

/// A refusal as the app sees it.
pub type Refusal = (StatusCode, ApiError);

/// The app's side of the API.
pub struct App {
    http: reqwest::Client,
    base: String,
    pub token: Option<String>,
}

pub fn android(version: &str) -> AppInfo {
    AppInfo {
        platform: "android".into(),
        version: version.into(),
    }
}

/// G.711 A-law, 20 ms.
pub fn pcma() -> CodecOffer {
    codec("PCMA", 8)
}

pub fn codec(name: &str, payload_type: u8) -> CodecOffer {
    CodecOffer {
        name: name.into(),
        payload_type,
        ptime_ms: 20,
    }
}

impl App {
    async fn send<T: DeserializeOwned>(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<Option<T>, Refusal> {
        let request = match &self.token {
            Some(token) => request.bearer_auth(token),
            None => request,
        };
        let response = request.send().await.expect("the gateway answers");
        let status = response.status();
        if status == StatusCode::NO_CONTENT {
            return Ok(None);
        }
        if status.is_success() {
            return Ok(Some(response.json().await.expect("a JSON body")));
        }
        let error: ApiError = response.json().await.expect("an ApiError body");
        Err((status, error))
    }

    pub async fn post<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<Option<T>, Refusal> {
        let url = format!("{}/api/v1/{path}", self.base);
        self.send(self.http.post(url).json(body)).await
    }

    pub async fn challenge(&self, user: &str) -> Challenge {
        self.post(
            "login/challenge",
            &ChallengeRequest {
                user: user.to_owned(),
            },
        )
        .await
        .expect("a challenge")
        .expect("a body")
    }

    /// Answers `challenge` with a proof of `password`.
    pub async fn answer(
        &mut self,
        user: &str,
        password: &str,
        challenge: &Challenge,
        app: AppInfo,
    ) -> Result<Session, Refusal> {
        let server = LoginNonce::from_hex(&challenge.nonce).expect("64 hex digits");
        let client = LoginNonce([0x5a; 32]);
        let request = LoginRequest {
            user: user.to_owned(),
            challenge_id: challenge.challenge_id.clone(),
            client_nonce: client.to_hex(),
            proof: login_proof(&Secret::new(password), user, &server, &client),
            app,
        };
        let session: Session = self.post("login", &request).await?.expect("a session body");
        self.token = Some(session.token.clone());
        Ok(session)
    }

    /// Challenge and login with the current Android app.
    pub async fn login(&mut self, user: (&str, &str)) -> Result<Session, Refusal> {
        self.login_as(user, android("V2R1.61.14")).await
    }

    pub async fn login_as(&mut self, user: (&str, &str), app: AppInfo) -> Result<Session, Refusal> {
        let challenge = self.challenge(user.0).await;
        self.answer(user.0, user.1, &challenge, app).await
    }

    pub async fn register(
        &self,
        rtp: &str,
        codecs: Vec<CodecOffer>,
    ) -> Result<VoipRegistered, Refusal> {
        let request = VoipRegistration {
            rtp: rtp.parse().expect("an address"),
            codecs,
        };
        Ok(self
            .post("voip/register", &request)
            .await?
            .expect("a registration body"))
    }

    /// `POST /api/v1/call/{action}` with `body`.
    pub async fn call(&self, action: &str, body: serde_json::Value) -> Result<(), Refusal> {
        self.post::<_, serde_json::Value>(&format!("call/{action}"), &body)
            .await
            .map(|_| ())
    }

    pub async fn delete(&self, path: &str) -> Result<(), Refusal> {
        let url = format!("{}/api/v1/{path}", self.base);
        self.send::<serde_json::Value>(self.http.delete(url))
            .await
            .map(|_| ())
    }

    /// Opens the event stream.
    pub async fn events(&self) -> Result<Events, Refusal> {
        let url = format!("{}/api/v1/events", self.base);
        let mut request = self
            .http
            .get(url)
            .header("accept", "text/event-stream")
            .timeout(Duration::from_secs(3600));
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.expect("the gateway answers");
        if !response.status().is_success() {
            let status = response.status();
            return Err((status, response.json().await.expect("an ApiError")));
        }
        Ok(Events {
            response,
            buffer: String::new(),
        })
    }
}

/// A server-sent event stream, read as the app reads it.
#[derive(Debug)]
pub struct Events {
    response: reqwest::Response,
    buffer: String,
}

impl Events {
    /// The next event, within 5 s; `None` when the stream ended.
    pub async fn next(&mut self) -> Option<Event> {
        tokio::time::timeout(Duration::from_secs(5), self.read())
            .await
            .expect("an event within 5 s")
    }

    async fn read(&mut self) -> Option<Event> {
        loop {
            while let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let mut name = None;
                let mut data = None;
                for line in block.lines() {
                    if let Some(value) = line.strip_prefix("event:") {
                        name = Some(value.trim().to_owned());
                    } else if let Some(value) = line.strip_prefix("data:") {
                        data = Some(value.trim().to_owned());
                    }
                }
                if let Some(data) = data {
                    let event = Event::from_data(&data).expect("a valid event");
                    assert_eq!(name.as_deref(), Some(event.name()), "event: names the type");
                    return Some(event);
                }
            }
            let chunk = self.response.chunk().await.ok()??;
            self.buffer.push_str(&String::from_utf8_lossy(&chunk));
        }
    }

    /// Skips events until one satisfies `wanted`, and returns it.
    pub async fn until(&mut self, wanted: impl Fn(&Event) -> bool) -> Event {
        loop {
            let event = self.next().await.expect("the stream stays open");
            if wanted(&event) {
                return event;
            }
        }
    }
}
