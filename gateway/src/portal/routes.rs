//! The API's endpoints (`docs/portal-api.md`): JSON in, JSON or 204 out,
//! every refusal an [`ApiFailure`] logged with its reason.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Extension, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::de::DeserializeOwned;
use shared::portal::{
    CallState, ChallengeRequest, DialRequest, DtmfRequest, ErrorCode, Event, LoginRequest,
    RegistrationState, Session, VoipRegistered, VoipRegistration,
};
use tracing::{info, warn};

use super::PortalState;
use super::attachment::PortalAttachment;
use super::error::ApiFailure;
use super::events;
use super::register;
use crate::calls::{DeviceInput, FeatureKey};
use crate::log_limit;

/// Request bodies are small JSON objects.
pub const BODY_LIMIT: usize = 16 * 1024;

/// The peer of the connection a request came on.
#[derive(Debug, Clone, Copy)]
pub struct Peer(pub SocketAddr);

type Reply = Result<Response, ApiFailure>;

/// The login challenge's path: anyone may ask for one.
pub const CHALLENGE_PATH: &str = "/api/v1/login/challenge";

/// Every endpoint, under `/api/v1`.
pub fn router(state: Arc<PortalState>) -> Router {
    Router::new()
        .route(CHALLENGE_PATH, post(challenge))
        .route("/api/v1/login", post(login))
        .route("/api/v1/session/refresh", post(refresh))
        .route("/api/v1/session", axum::routing::delete(logout))
        .route("/api/v1/voip/register", post(register).delete(unregister))
        .route("/api/v1/call/{action}", post(call))
        .route("/api/v1/events", get(events::stream))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(state)
}

/// Parses a JSON body; anything malformed is `bad_request`.
fn body<T: DeserializeOwned>(bytes: &Bytes) -> Result<T, ApiFailure> {
    serde_json::from_slice(bytes).map_err(|error| {
        ApiFailure::new(
            ErrorCode::BadRequest,
            format!("Malformed request: {error}"),
            format!("malformed request body: {error}"),
        )
    })
}

/// The bearer token of a request.
pub fn bearer(headers: &HeaderMap) -> Result<&str, ApiFailure> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|token| !token.is_empty())
        .ok_or_else(unauthorized)
}

pub fn unauthorized() -> ApiFailure {
    ApiFailure::plain(
        ErrorCode::Unauthorized,
        "Not logged in, or the session ended: log in again",
    )
}

/// Logs a refusal (never a password or token) and answers with it.
fn refused(peer: Peer, user: &str, failure: ApiFailure) -> ApiFailure {
    if log_limit::allow("myPortal to go request refused", peer.0.ip()) {
        warn!(
            peer = %peer.0, user, code = ?failure.error.code,
            "myPortal to go request refused: {}", failure.detail
        );
    }
    failure
}

async fn challenge(
    State(state): State<Arc<PortalState>>,
    Extension(peer): Extension<Peer>,
    bytes: Bytes,
) -> Reply {
    let request: ChallengeRequest = body(&bytes).map_err(|f| refused(peer, "", f))?;
    let challenge = state.logins().challenge(state.clock.now(), &request.user);
    Ok(axum::Json(challenge).into_response())
}

async fn login(
    State(state): State<Arc<PortalState>>,
    Extension(peer): Extension<Peer>,
    bytes: Bytes,
) -> Reply {
    let request: LoginRequest = body(&bytes).map_err(|f| refused(peer, "", f))?;
    let user = request.user.as_str();
    let outcome = state
        .logins()
        .login(&state.config, &state.clock, peer.0.ip(), &request);
    let logged_in = match outcome {
        Ok(logged_in) => logged_in,
        Err((failure, lockouts)) => {
            for lockout in lockouts {
                if log_limit::allow("login lockout", peer.0.ip()) {
                    warn!(peer = %peer.0, "{lockout} (possible password guessing)");
                }
            }
            return Err(refused(peer, user, failure));
        }
    };
    if let Some(old) = logged_in.replaced {
        state.end_session(old, "logged in elsewhere");
    }
    info!(peer = %peer.0, user, platform = request.app.platform, version = request.app.version, "myPortal to go login");
    let lifetime = state.logins().lifetime();
    Ok(session_reply(
        &state,
        logged_in.token,
        user.to_owned(),
        lifetime,
    ))
}

/// The `Session` body for `number`'s session `token`, valid `lifetime`.
fn session_reply(
    state: &PortalState,
    token: String,
    number: String,
    lifetime: std::time::Duration,
) -> Response {
    let name = state
        .config
        .client(&number)
        .map(|client| client.name.clone())
        .unwrap_or_default();
    axum::Json(Session {
        token,
        expires_in_s: lifetime.as_secs(),
        number,
        name,
    })
    .into_response()
}

async fn refresh(
    State(state): State<Arc<PortalState>>,
    Extension(peer): Extension<Peer>,
    headers: HeaderMap,
) -> Reply {
    let token = bearer(&headers).map_err(|f| refused(peer, "", f))?;
    let now = state.clock.now();
    let mut logins = state.logins();
    let lifetime = logins.lifetime();
    let session = logins
        .session(now, token)
        .ok_or_else(|| refused(peer, "", unauthorized()))?;
    session.expires = now + lifetime;
    let number = session.number.clone();
    drop(logins);
    Ok(session_reply(&state, token.to_owned(), number, lifetime))
}

async fn logout(
    State(state): State<Arc<PortalState>>,
    Extension(peer): Extension<Peer>,
    headers: HeaderMap,
) -> Reply {
    let token = bearer(&headers).map_err(|f| refused(peer, "", f))?;
    let now = state.clock.now();
    let session = {
        let mut logins = state.logins();
        match logins.session(now, token) {
            Some(_) => logins.end(token),
            None => None,
        }
    };
    let session = session.ok_or_else(|| refused(peer, "", unauthorized()))?;
    state.end_session(session, "logged out");
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn register(
    State(state): State<Arc<PortalState>>,
    Extension(peer): Extension<Peer>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Reply {
    let token = bearer(&headers).map_err(|f| refused(peer, "", f))?;
    let request: VoipRegistration = body(&bytes).map_err(|f| refused(peer, "", f))?;
    let now = state.clock.now();
    let mut logins = state.logins();
    let session = logins
        .session(now, token)
        .ok_or_else(|| refused(peer, "", unauthorized()))?;
    let number = session.number.clone();
    let client = state
        .config
        .client(&number)
        .ok_or_else(|| refused(peer, &number, unauthorized()))?;
    let accepted = register::check(&state.config, client, &session.app, peer.0, &request)
        .map_err(|f| refused(peer, &number, f))?;
    let registration = accepted.registration.clone();
    match session.registration.replace(registration.clone()) {
        None => {
            let sink = PortalAttachment::new(session.id, session.outlet.clone());
            state
                .calls
                .attach(&number, Box::new(sink), registration.origin);
            state.calls.offer_media(&number, registration.offer.clone());
        }
        Some(old) => {
            if old.origin.internet != registration.origin.internet {
                info!(
                    user = number,
                    internet = registration.origin.internet,
                    "myPortal to go moved between the company LAN and the internet: \
                     re-anchoring its calls"
                );
            }
            state
                .calls
                .reregister(&number, registration.offer.clone(), registration.origin);
        }
    }
    session.outlet.publish(Event::Registration {
        state: RegistrationState::Registered,
        reason: None,
    });
    drop(logins);
    info!(
        peer = %peer.0, user = number, rtp = %registration.offer.rtp,
        internet = registration.origin.internet, "myPortal to go VoIP registered"
    );
    Ok(axum::Json(VoipRegistered {
        number,
        codecs: accepted.codecs,
        internet: registration.origin.internet,
    })
    .into_response())
}

async fn unregister(
    State(state): State<Arc<PortalState>>,
    Extension(peer): Extension<Peer>,
    headers: HeaderMap,
) -> Reply {
    let token = bearer(&headers).map_err(|f| refused(peer, "", f))?;
    let now = state.clock.now();
    let mut logins = state.logins();
    let session = logins
        .session(now, token)
        .ok_or_else(|| refused(peer, "", unauthorized()))?;
    let number = session.number.clone();
    if session.registration.take().is_none() {
        return Err(refused(peer, &number, not_registered()));
    }
    let (id, outlet) = (session.id, session.outlet.clone());
    drop(logins);
    state.calls.detach(&number, id.attachment());
    outlet.publish(Event::Registration {
        state: RegistrationState::Unregistered,
        reason: Some("unregistered by the app".into()),
    });
    info!(peer = %peer.0, user = number, "myPortal to go VoIP unregistered");
    Ok(StatusCode::NO_CONTENT.into_response())
}

fn not_registered() -> ApiFailure {
    ApiFailure::plain(
        ErrorCode::NotRegistered,
        "VoIP is not registered: register first",
    )
}

fn no_call(what: &str) -> ApiFailure {
    ApiFailure::new(
        ErrorCode::NoCall,
        format!("No call to {what}"),
        format!("nothing to {what}"),
    )
}

/// The digits of a dial or DTMF request: `0`-`9`, `*`, `#` (and `A`-`D`
/// for DTMF), at most 32.
fn digits(text: &str, dtmf: bool) -> Result<Vec<char>, ApiFailure> {
    let valid =
        |c: char| c.is_ascii_digit() || c == '*' || c == '#' || (dtmf && matches!(c, 'A'..='D'));
    if text.is_empty() || text.len() > 32 || !text.chars().all(valid) {
        return Err(ApiFailure::new(
            ErrorCode::BadRequest,
            format!("Not a number to dial: {text:?}"),
            format!("bad digits {text:?}"),
        ));
    }
    Ok(text.chars().collect())
}

/// `POST /api/v1/call/{action}`: the app's keys, as call control inputs.
async fn call(
    State(state): State<Arc<PortalState>>,
    Extension(peer): Extension<Peer>,
    axum::extract::Path(action): axum::extract::Path<String>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Reply {
    let token = bearer(&headers).map_err(|f| refused(peer, "", f))?;
    let now = state.clock.now();
    let (number, outlet, registered) = {
        let mut logins = state.logins();
        let session = logins
            .session(now, token)
            .ok_or_else(|| refused(peer, "", unauthorized()))?;
        (
            session.number.clone(),
            session.outlet.clone(),
            session.registration.is_some(),
        )
    };
    if !registered {
        return Err(refused(peer, &number, not_registered()));
    }
    let view = outlet.call();
    let inputs = inputs_for(&action, view.state, &bytes).map_err(|f| refused(peer, &number, f))?;
    state.calls.inputs(&number, inputs);
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// What an action means on a line in `state`.
fn inputs_for(
    action: &str,
    state: CallState,
    bytes: &Bytes,
) -> Result<Vec<DeviceInput>, ApiFailure> {
    use CallState::{Calling, Connected, Dialing, Ended, Held, Idle, Ringing};
    let key = DeviceInput::Feature;
    Ok(match (action, state) {
        ("dial", Idle | Ended | Dialing | Held) => {
            let request: DialRequest = body(bytes)?;
            let mut inputs = Vec::new();
            if state == Ended {
                // Clear the failure shown, then dial afresh.
                inputs.push(key(FeatureKey::Release));
            }
            inputs.extend(
                digits(&request.number, false)?
                    .into_iter()
                    .map(DeviceInput::Digit),
            );
            // '#' says the number is complete, as on a phone (harmless
            // once an internal number has been placed).
            inputs.push(DeviceInput::Digit('#'));
            inputs
        }
        ("dial", _) => {
            return Err(ApiFailure::plain(
                ErrorCode::BadRequest,
                "A call is in progress: hang up or hold it first",
            ));
        }
        ("answer", Ringing) => vec![key(FeatureKey::Line)],
        ("answer", _) => return Err(no_call("answer")),
        ("reject", Ringing) => vec![DeviceInput::Reject],
        ("reject", _) => return Err(no_call("reject")),
        ("hangup", Dialing | Calling | Ringing | Connected | Held | Ended) => {
            vec![key(FeatureKey::Release)]
        }
        ("hangup", Idle) => return Err(no_call("hang up")),
        ("hold", Connected) => vec![key(FeatureKey::Hold)],
        ("hold", _) => return Err(no_call("hold")),
        ("retrieve", Held) => vec![key(FeatureKey::Hold)],
        ("retrieve", _) => return Err(no_call("retrieve")),
        ("dtmf", Connected) => {
            let request: DtmfRequest = body(bytes)?;
            digits(&request.digits, true)?
                .into_iter()
                .map(DeviceInput::Digit)
                .collect()
        }
        ("dtmf", _) => return Err(no_call("send digits in")),
        (other, _) => {
            return Err(ApiFailure::new(
                ErrorCode::BadRequest,
                format!("Unknown call action {other:?}"),
                format!("unknown call action {other:?}"),
            ));
        }
    })
}
