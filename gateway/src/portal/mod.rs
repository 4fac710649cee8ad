//! The myPortal to go server (guide 1.3.3, 4.2, 6): HTTPS on TCP 8802, the
//! API of `docs/portal-api.md` (types in `shared::portal`).
//!
//! ```text
//! TCP accept -> TLS (tls) -> HTTP/1.1 or h2 (server) -> routes
//!   login: challenge, proof, lockout, session (login)
//!   voip/register: the guide's rules (register) -> CallService::attach
//!   call/*: DeviceInput on the user's line
//!   events: SSE of the session's Outlet <- PortalAttachment <- indications
//! ```
//!
//! A sweeper ends expired sessions and detaches registrations whose app has
//! had no event stream for [`STREAMLESS_LIMIT`]: their calls end for the
//! other parties, so nothing is left behind when an app vanishes mid-call.

pub mod attachment;
pub mod error;
mod events;
pub mod login;
pub mod register;
mod routes;
pub mod server;
pub mod tls;

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use shared::portal::{Event, RegistrationState};
use tracing::info;

use crate::admission::{Admission, AdmissionCounts};
use crate::calls::CallService;
use crate::clock::Clock;
use crate::config::ValidatedConfig;
use crate::lockout::SharedLoginGuard;
use login::{Logins, SessionRecord};

pub use server::PortalServer;
pub use tls::{PortalTls, TlsError};

/// A VoIP registration whose app has had no event stream this long ends.
pub const STREAMLESS_LIMIT: Duration = Duration::from_secs(30);

/// What the portal's connections share.
#[derive(Debug)]
pub struct PortalState {
    config: ValidatedConfig,
    clock: Clock,
    calls: Arc<CallService>,
    logins: Mutex<Logins>,
    fingerprint: String,
    admission: Arc<Admission>,
}

/// Sessions and registrations, for `gateway status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PortalCounts {
    pub sessions: usize,
    pub registrations: usize,
    /// Sessions with an open event stream.
    pub streams: usize,
}

/// An app with a VoIP registration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegisteredApp {
    pub number: String,
    /// `android` or `ios`.
    pub platform: String,
    pub release: String,
    pub source: std::net::SocketAddr,
    pub internet: bool,
}

impl PortalState {
    pub fn new(
        config: ValidatedConfig,
        clock: Clock,
        calls: Arc<CallService>,
        fingerprint: String,
        guard: SharedLoginGuard,
    ) -> Self {
        Self {
            logins: Mutex::new(Logins::new(&config, guard)),
            config,
            clock,
            calls,
            fingerprint,
            admission: Admission::new(server::LIMITS),
        }
    }

    /// The connections open, refused and closed to make room.
    pub fn connections(&self) -> AdmissionCounts {
        self.admission.counts()
    }

    fn logins(&self) -> MutexGuard<'_, Logins> {
        // Every update completes under the lock.
        self.logins.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The certificate's SHA-256 fingerprint.
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    pub fn counts(&self) -> PortalCounts {
        let mut logins = self.logins();
        let (sessions, registrations) = logins.counts();
        let streams = logins
            .sessions_mut()
            .filter(|session| session.outlet.streamless_since().is_none())
            .count();
        PortalCounts {
            sessions,
            registrations,
            streams,
        }
    }

    /// The apps with a VoIP registration, for `gateway status`.
    pub fn registered_apps(&self) -> Vec<RegisteredApp> {
        let mut logins = self.logins();
        logins
            .sessions_mut()
            .filter_map(|session| {
                let registration = session.registration.as_ref()?;
                Some(RegisteredApp {
                    number: session.number.clone(),
                    platform: session.app.platform.clone(),
                    release: session.app.version.clone(),
                    source: registration.source,
                    internet: registration.origin.internet,
                })
            })
            .collect()
    }

    /// Ends `session` (already out of the table): its registration goes,
    /// its app is told why and its event stream closes.
    fn end_session(&self, session: SessionRecord, reason: &str) {
        if session.registration.is_some() {
            self.calls.detach(&session.number, session.id.attachment());
        }
        info!(
            user = session.number,
            session = session.id.0,
            "myPortal to go session ended: {reason}"
        );
        session.outlet.close(Event::LoggedOut {
            reason: reason.to_owned(),
        });
    }

    /// Ends expired sessions and registrations without an event stream.
    pub fn sweep(&self) {
        let now = self.clock.now();
        let (expired, streamless) = {
            let mut logins = self.logins();
            let expired = logins.expired(now);
            let mut streamless = Vec::new();
            for session in logins.sessions_mut() {
                let gone = session
                    .outlet
                    .streamless_since()
                    .is_some_and(|since| now.duration_since(since) >= STREAMLESS_LIMIT);
                if gone && session.registration.take().is_some() {
                    streamless.push((session.number.clone(), session.id, session.outlet.clone()));
                }
            }
            (expired, streamless)
        };
        for session in expired {
            self.end_session(session, "session expired");
        }
        for (number, id, outlet) in streamless {
            self.calls.detach(&number, id.attachment());
            info!(
                user = number,
                session = id.0,
                "myPortal to go VoIP registration ended: no event stream for {} s",
                STREAMLESS_LIMIT.as_secs()
            );
            outlet.publish(Event::Registration {
                state: RegistrationState::Unregistered,
                reason: Some(format!(
                    "no event stream for {} s",
                    STREAMLESS_LIMIT.as_secs()
                )),
            });
        }
    }

    /// Ends every session (the gateway stops).
    pub fn end_all(&self) {
        let now = self.clock.now();
        let sessions = {
            let mut logins = self.logins();
            for session in logins.sessions_mut() {
                session.expires = now;
            }
            logins.expired(now)
        };
        for session in sessions {
            self.end_session(session, "the system is going down");
        }
    }
}
