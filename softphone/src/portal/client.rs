//! The HTTPS client of the myPortal to go API (`docs/portal-api.md`) for one
//! server of the account, from one local address: login by proof of the UC
//! password, session refresh and logout, VoIP registration (G.711 only),
//! and the call requests. The event stream is in [`super::events`].
//!
//! TLS is rustls with the [`GatewayVerifier`] (handed to reqwest as a
//! preconfigured config); a refused certificate comes back as
//! [`ClientError::Trust`], an answer of the gateway's refusing as
//! [`ClientError::Api`] with its own words.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use reqwest::{RequestBuilder, Response, StatusCode};
use serde::de::DeserializeOwned;
use shared::portal::{
    API_PREFIX, ApiError, AppInfo, Challenge, ChallengeRequest, CodecOffer, DialRequest,
    DtmfRequest, LoginNonce, LoginRequest, PCMA_PAYLOAD_TYPE, PCMU_PAYLOAD_TYPE, Session,
    VoipRegistered, VoipRegistration, login_proof,
};
use shared::secret::Secret;

use shared::capture::Capture;

use super::settings::ServerAddress;
use super::trust::{GatewayVerifier, Trust, TrustError, client_config, provider};
use tap::Tap;

/// How long a request (not the event stream) may take, connection
/// included.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// Silence on the event stream longer than this means it is dead: the
/// gateway sends a comment every 15 s.
pub const STREAM_SILENCE: Duration = Duration::from_secs(45);

/// Why a request did not do what was asked.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ClientError {
    /// The gateway refused, in its words.
    #[error("{error}")]
    Api { status: u16, error: ApiError },
    /// The gateway's certificate is not trusted.
    #[error(transparent)]
    Trust(#[from] TrustError),
    /// No answer: connection refused, unreachable, timed out or reset.
    #[error("{server} did not answer: {reason}")]
    Unreachable { server: String, reason: String },
    /// The gateway answered something the contract does not allow.
    #[error("{server} answered out of contract: {reason}")]
    Protocol { server: String, reason: String },
    /// The client could not be set up (TLS configuration, local address).
    #[error("cannot set up the HTTPS client: {0}")]
    Setup(String),
}

/// A logged-in session: the bearer token (never printed) and who it is.
#[derive(Debug, Clone)]
pub struct SessionInfo {
    pub token: Secret,
    pub expires_in: Duration,
    pub number: String,
    pub name: String,
}

impl From<Session> for SessionInfo {
    fn from(session: Session) -> Self {
        Self {
            token: Secret::new(session.token),
            expires_in: Duration::from_secs(session.expires_in_s),
            number: session.number,
            name: session.name,
        }
    }
}

/// What the app asks of its line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallRequest {
    Dial(String),
    Answer,
    Reject,
    Hangup,
    Hold,
    Retrieve,
    Dtmf(String),
}

impl CallRequest {
    fn path(&self) -> &'static str {
        match self {
            Self::Dial(_) => "/call/dial",
            Self::Answer => "/call/answer",
            Self::Reject => "/call/reject",
            Self::Hangup => "/call/hangup",
            Self::Hold => "/call/hold",
            Self::Retrieve => "/call/retrieve",
            Self::Dtmf(_) => "/call/dtmf",
        }
    }
}

/// The codecs the app offers: G.711 only (guide 1.3.3), A-law first.
pub fn g711_offer() -> Vec<CodecOffer> {
    vec![
        CodecOffer {
            name: "PCMA".to_owned(),
            payload_type: PCMA_PAYLOAD_TYPE,
            ptime_ms: 20,
        },
        CodecOffer {
            name: "PCMU".to_owned(),
            payload_type: PCMU_PAYLOAD_TYPE,
            ptime_ms: 20,
        },
    ]
}

/// The API of one server, reached from one local address.
#[derive(Debug, Clone)]
pub struct PortalClient {
    http: reqwest::Client,
    base: String,
    server: ServerAddress,
    verifier: Arc<GatewayVerifier>,
    /// With `--capture`: the relay that records the HTTPS ([`tap`]).
    tap: Option<Arc<Tap>>,
}

impl PortalClient {
    /// A client of `server`, connecting from `bind` (or wherever the
    /// system chooses), trusting its certificate as `trust` says.
    pub fn new(
        server: &ServerAddress,
        bind: Option<IpAddr>,
        trust: &Trust,
    ) -> Result<Self, ClientError> {
        Self::with_capture(server, bind, trust, None)
    }

    /// As [`Self::new`], its HTTPS connections written to `capture`.
    pub fn with_capture(
        server: &ServerAddress,
        bind: Option<IpAddr>,
        trust: &Trust,
        capture: Option<Capture>,
    ) -> Result<Self, ClientError> {
        let provider = provider();
        let verifier = Arc::new(GatewayVerifier::new(
            server.to_string(),
            trust,
            provider.clone(),
        )?);
        let tls = client_config(verifier.clone(), provider)
            .map_err(|error| ClientError::Setup(error.to_string()))?;
        let tap = capture
            .map(|capture| Tap::start(server, bind, REQUEST_TIMEOUT, capture))
            .transpose()
            .map_err(|error| ClientError::Setup(format!("capture relay: {error}")))?
            .map(Arc::new);
        let builder = reqwest::Client::builder()
            .tls_backend_preconfigured(tls)
            .local_address(bind)
            .connect_timeout(REQUEST_TIMEOUT)
            .read_timeout(STREAM_SILENCE)
            .no_proxy();
        let builder = match &tap {
            Some(tap) => builder.unix_socket(tap.socket()),
            None => builder,
        };
        let http = builder
            .build()
            .map_err(|error| ClientError::Setup(error.to_string()))?;
        Ok(Self {
            http,
            base: format!("https://{server}{API_PREFIX}"),
            server: server.clone(),
            verifier,
            tap,
        })
    }

    pub fn server(&self) -> &ServerAddress {
        &self.server
    }

    /// Challenge, then proof: a session.
    pub async fn login(
        &self,
        user: &str,
        password: &Secret,
        app: &AppInfo,
    ) -> Result<SessionInfo, ClientError> {
        let challenge: Challenge = self
            .json(self.post("/login/challenge", None).json(&ChallengeRequest {
                user: user.to_owned(),
            }))
            .await?;
        let server_nonce = LoginNonce::from_hex(&challenge.nonce)
            .ok_or_else(|| self.protocol("the challenge's nonce is not 64 hex digits"))?;
        let client_nonce = LoginNonce(rand::random());
        let request = LoginRequest {
            user: user.to_owned(),
            challenge_id: challenge.challenge_id,
            client_nonce: client_nonce.to_hex(),
            proof: login_proof(password, user, &server_nonce, &client_nonce),
            app: app.clone(),
        };
        let session: Session = self.json(self.post("/login", None).json(&request)).await?;
        Ok(session.into())
    }

    /// A new expiry for the session.
    pub async fn refresh(&self, token: &Secret) -> Result<SessionInfo, ClientError> {
        let session: Session = self
            .json(self.post("/session/refresh", Some(token)))
            .await?;
        Ok(session.into())
    }

    /// Ends the session (and its VoIP registration).
    pub async fn logout(&self, token: &Secret) -> Result<(), ClientError> {
        self.no_content(self.request(reqwest::Method::DELETE, "/session", Some(token)))
            .await
    }

    /// Registers for VoIP, receiving RTP at `rtp`, offering G.711 only.
    pub async fn register(
        &self,
        token: &Secret,
        rtp: SocketAddr,
    ) -> Result<VoipRegistered, ClientError> {
        let body = VoipRegistration {
            rtp,
            codecs: g711_offer(),
        };
        self.json(self.post("/voip/register", Some(token)).json(&body))
            .await
    }

    /// Ends the VoIP registration, keeping the session.
    pub async fn unregister(&self, token: &Secret) -> Result<(), ClientError> {
        self.no_content(self.request(reqwest::Method::DELETE, "/voip/register", Some(token)))
            .await
    }

    /// Asks the line to do `request`; what follows comes as events.
    pub async fn call(&self, token: &Secret, request: &CallRequest) -> Result<(), ClientError> {
        let builder = self.post(request.path(), Some(token));
        let builder = match request {
            CallRequest::Dial(number) => builder.json(&DialRequest {
                number: number.clone(),
            }),
            CallRequest::Dtmf(digits) => builder.json(&DtmfRequest {
                digits: digits.clone(),
            }),
            _ => builder,
        };
        self.no_content(builder).await
    }

    /// Opens the event stream: the response whose body carries the events.
    pub(super) async fn open_events(&self, token: &Secret) -> Result<Response, ClientError> {
        let request = self
            .request(reqwest::Method::GET, "/events", Some(token))
            .header(reqwest::header::ACCEPT, "text/event-stream");
        let response = self.send(request).await?;
        let is_sse = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .is_some_and(|value| value.starts_with("text/event-stream"));
        if !is_sse {
            return Err(self.protocol("the event stream is not text/event-stream"));
        }
        Ok(response)
    }

    fn request(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&Secret>,
    ) -> RequestBuilder {
        let builder = self.http.request(method, format!("{}{path}", self.base));
        match token {
            Some(token) => builder.bearer_auth(token.expose()),
            None => builder,
        }
    }

    fn post(&self, path: &str, token: Option<&Secret>) -> RequestBuilder {
        self.request(reqwest::Method::POST, path, token)
            .timeout(REQUEST_TIMEOUT)
    }

    /// Sends; a non-2xx answer becomes [`ClientError::Api`].
    async fn send(&self, request: RequestBuilder) -> Result<Response, ClientError> {
        // The URL and method only: the bearer token is a header.
        let (method, path) = request
            .try_clone()
            .and_then(|clone| clone.build().ok())
            .map(|built| (built.method().to_string(), built.url().path().to_owned()))
            .unwrap_or_default();
        let response = request.send().await.map_err(|error| {
            let error = self.transport(&error);
            tracing::warn!(server = %self.server, %method, %path, %error, "portal request failed");
            error
        })?;
        let status = response.status();
        tracing::debug!(server = %self.server, %method, %path, status = status.as_u16(), "portal request");
        if status.is_success() {
            return Ok(response);
        }
        let body = response
            .bytes()
            .await
            .map_err(|error| self.transport(&error))?;
        match serde_json::from_slice::<ApiError>(&body) {
            Ok(error) => Err(ClientError::Api {
                status: status.as_u16(),
                error,
            }),
            Err(_) => Err(self.protocol(&format!("HTTP {status} without an error body"))),
        }
    }

    async fn json<T: DeserializeOwned>(&self, request: RequestBuilder) -> Result<T, ClientError> {
        let response = self.send(request).await?;
        let body = response
            .bytes()
            .await
            .map_err(|error| self.transport(&error))?;
        serde_json::from_slice(&body).map_err(|error| self.protocol(&format!("body: {error}")))
    }

    async fn no_content(&self, request: RequestBuilder) -> Result<(), ClientError> {
        let response = self.send(request).await?;
        if response.status() == StatusCode::NO_CONTENT || response.status() == StatusCode::OK {
            Ok(())
        } else {
            Err(self.protocol(&format!(
                "HTTP {} where 204 was expected",
                response.status()
            )))
        }
    }

    /// A failed exchange: the certificate's refusal if that was it.
    pub(super) fn transport(&self, error: &reqwest::Error) -> ClientError {
        if let Some(refusal) = self.verifier.take_refusal() {
            return ClientError::Trust(refusal);
        }
        // Through the capture's relay, the server's refusal is the relay's.
        let relay_failure = self.tap.as_ref().and_then(|tap| tap.take_failure());
        ClientError::Unreachable {
            server: self.server.to_string(),
            reason: relay_failure.unwrap_or_else(|| describe(error)),
        }
    }

    pub(super) fn protocol(&self, reason: &str) -> ClientError {
        ClientError::Protocol {
            server: self.server.to_string(),
            reason: reason.to_owned(),
        }
    }
}

/// reqwest's message with its causes (its own says only "error sending
/// request").
fn describe(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

pub mod tap;
#[cfg(test)]
mod tests;
