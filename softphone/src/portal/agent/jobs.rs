//! The agent's network requests, each run as its own task so the agent
//! keeps taking commands and events while one is under way: a
//! registration attempt (log in if needed, then register the media
//! address), a session refresh, and a call request.

use std::net::{IpAddr, SocketAddr};

use shared::portal::{AppInfo, ErrorCode, VoipRegistered};
use shared::secret::Secret;

use super::super::client::{CallRequest, ClientError, PortalClient, SessionInfo};
use super::super::selection::AttemptId;
use super::super::settings::ServerAddress;

/// What a finished job reports to the agent.
#[derive(Debug)]
pub enum Done {
    /// A registration attempt ended.
    Attempt {
        attempt: AttemptId,
        result: Result<Registered, ClientError>,
    },
    /// A session refresh ended (for the session of `token`).
    Refreshed {
        token: Secret,
        result: Result<SessionInfo, ClientError>,
    },
    /// A call request ended.
    Request {
        request: CallRequest,
        result: Result<(), ClientError>,
    },
}

/// A successful registration.
#[derive(Debug)]
pub struct Registered {
    pub client: PortalClient,
    /// The session: the one given, or a new one after a login.
    pub session: SessionInfo,
    /// Whether this attempt logged in (a new session).
    pub logged_in: bool,
    pub answer: VoipRegistered,
    /// The RTP address announced.
    pub rtp: SocketAddr,
}

/// Who logs in, and how.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub user: String,
    pub password: Secret,
    pub app: AppInfo,
}

/// Registers through `client`: with `session` if it is still valid,
/// otherwise after logging in. The RTP address announced is `advertise`,
/// or the local address towards the server with `rtp_port`.
pub async fn register(
    client: PortalClient,
    credentials: Credentials,
    session: Option<SessionInfo>,
    advertise: Option<SocketAddr>,
    bind: IpAddr,
    rtp_port: u16,
) -> Result<Registered, ClientError> {
    let rtp = match advertise {
        Some(advertised) => advertised,
        None => SocketAddr::new(local_ip_towards(client.server(), bind).await?, rtp_port),
    };
    if let Some(session) = session {
        match client.register(&session.token, rtp).await {
            Ok(answer) => {
                return Ok(Registered {
                    client,
                    session,
                    logged_in: false,
                    answer,
                    rtp,
                });
            }
            Err(ClientError::Api { error, .. }) if error.code == ErrorCode::Unauthorized => {}
            Err(error) => return Err(error),
        }
    }
    let session = client
        .login(&credentials.user, &credentials.password, &credentials.app)
        .await?;
    let answer = client.register(&session.token, rtp).await?;
    Ok(Registered {
        client,
        session,
        logged_in: true,
        answer,
        rtp,
    })
}

/// The local address the device reaches `server` from: `bind` when set,
/// else what the routing table picks (a UDP socket "connected" towards the
/// server; nothing is sent).
async fn local_ip_towards(server: &ServerAddress, bind: IpAddr) -> Result<IpAddr, ClientError> {
    if !bind.is_unspecified() {
        return Ok(bind);
    }
    let unreachable = |reason: String| ClientError::Unreachable {
        server: server.to_string(),
        reason,
    };
    let target = tokio::net::lookup_host((server.host.as_str(), server.port))
        .await
        .map_err(|error| unreachable(error.to_string()))?
        .next()
        .ok_or_else(|| unreachable("the name has no address".to_owned()))?;
    let any = SocketAddr::new(
        if target.is_ipv4() {
            IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED)
        } else {
            IpAddr::V6(std::net::Ipv6Addr::UNSPECIFIED)
        },
        0,
    );
    let probe = tokio::net::UdpSocket::bind(any)
        .await
        .map_err(|error| unreachable(error.to_string()))?;
    probe
        .connect(target)
        .await
        .map_err(|error| unreachable(error.to_string()))?;
    probe
        .local_addr()
        .map(|local| local.ip())
        .map_err(|error| unreachable(error.to_string()))
}

/// Refreshes the session of `token`.
pub async fn refresh(client: PortalClient, token: Secret) -> Done {
    let result = client.refresh(&token).await;
    Done::Refreshed { token, result }
}

/// Sends a call request.
pub async fn request(client: PortalClient, token: Secret, request: CallRequest) -> Done {
    let result = client.call(&token, &request).await;
    Done::Request { request, result }
}
