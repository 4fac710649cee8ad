//! Logins (guide 6: "Authentication via encrypted UC password"):
//! single-use challenges, the HMAC proof of the UC password, the same
//! lockout as HFA, and the sessions that follow.
//!
//! Order, as for an HFA Register: a locked-out source or user is refused
//! before anything else is looked at; then the challenge (single use,
//! 30 s, for this user); then the proof (an unknown user and a wrong proof
//! are the same `login_failed`); then the client's kind. Tokens are kept
//! only as their SHA-256, so a lookup compares no secret and a memory dump
//! holds no usable token.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::Rng;
use sha2::{Digest, Sha256};
use shared::portal::{AppInfo, Challenge, ErrorCode, LoginNonce, LoginRequest, verify_login_proof};

use super::attachment::{Outlet, PortalSessionId};
use super::error::ApiFailure;
use crate::calls::Origin;
use crate::calls::media::MediaOffer;
use crate::clock::Clock;
use crate::config::{ClientKind, ValidatedConfig};
use crate::lockout::{Device, Lockout, LoginGuard, SharedLoginGuard};

/// How long a challenge can be answered.
pub const CHALLENGE_LIFETIME: Duration = Duration::from_secs(30);
/// Challenges outstanding at most: a flood of requests cannot grow memory.
pub const MAX_CHALLENGES: usize = 1024;

/// The SHA-256 of a session token.
type TokenHash = [u8; 32];

#[derive(Debug)]
struct PendingChallenge {
    user: String,
    nonce: LoginNonce,
    expires: Instant,
}

/// A VoIP registration of a session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registration {
    /// Where the app registered from.
    pub origin: Origin,
    /// The address and port the registration request came from.
    pub source: SocketAddr,
    pub offer: MediaOffer,
}

/// One logged-in app.
#[derive(Debug)]
pub struct SessionRecord {
    pub id: PortalSessionId,
    pub number: String,
    pub app: AppInfo,
    pub expires: Instant,
    pub outlet: Arc<Outlet>,
    pub registration: Option<Registration>,
}

/// A new session: the token (given to the app once) and the session it
/// replaced, if the user was logged in elsewhere.
#[derive(Debug)]
pub struct LoggedIn {
    pub token: String,
    pub replaced: Option<SessionRecord>,
}

/// Challenges, sessions and the failed-login memory of one gateway.
#[derive(Debug)]
pub struct Logins {
    challenges: HashMap<String, PendingChallenge>,
    sessions: HashMap<TokenHash, SessionRecord>,
    by_user: HashMap<String, TokenHash>,
    guard: SharedLoginGuard,
    next_session: u64,
    lifetime: Duration,
}

fn hash(token: &str) -> TokenHash {
    Sha256::digest(token.as_bytes()).into()
}

fn random_hex<const N: usize>() -> String {
    let mut bytes = [0u8; N];
    rand::rng().fill(&mut bytes);
    hex::encode(bytes)
}

impl Logins {
    /// Logins keeping their failures in `guard` (shared with the HFA
    /// registrar).
    pub fn new(config: &ValidatedConfig, guard: SharedLoginGuard) -> Self {
        Self {
            challenges: HashMap::new(),
            sessions: HashMap::new(),
            by_user: HashMap::new(),
            guard,
            next_session: 0,
            lifetime: config.config().portal.session_lifetime(),
        }
    }

    /// How long a session lasts unless refreshed.
    pub fn lifetime(&self) -> Duration {
        self.lifetime
    }

    /// A new challenge for `user` (whoever asks: a challenge reveals
    /// nothing). When the table is full, expired ones go first, then the
    /// one closest to expiry.
    pub fn challenge(&mut self, now: Instant, user: &str) -> Challenge {
        if self.challenges.len() >= MAX_CHALLENGES {
            self.challenges.retain(|_, pending| pending.expires > now);
        }
        if self.challenges.len() >= MAX_CHALLENGES {
            let oldest = self
                .challenges
                .iter()
                .min_by_key(|(_, pending)| pending.expires)
                .map(|(id, _)| id.clone());
            if let Some(oldest) = oldest {
                self.challenges.remove(&oldest);
            }
        }
        let mut nonce = [0u8; 32];
        rand::rng().fill(&mut nonce);
        let nonce = LoginNonce(nonce);
        let id = random_hex::<16>();
        self.challenges.insert(
            id.clone(),
            PendingChallenge {
                user: user.to_owned(),
                nonce,
                expires: now + CHALLENGE_LIFETIME,
            },
        );
        Challenge {
            challenge_id: id,
            nonce: nonce.to_hex(),
            expires_in_s: CHALLENGE_LIFETIME.as_secs(),
        }
    }

    /// Checks a login; on success the user's earlier session (if any) is
    /// ended and returned. The lockouts a failure starts are returned too,
    /// for the log.
    pub fn login(
        &mut self,
        config: &ValidatedConfig,
        clock: &Clock,
        source: IpAddr,
        request: &LoginRequest,
    ) -> Result<LoggedIn, (ApiFailure, Vec<Lockout>)> {
        let now = clock.now();
        let user = request.user.as_str();
        // An app has no MAC: the known device is the source address of the
        // user's last successful login.
        let device = Device::new(source, None);
        let mut guard = LoginGuard::lock(&self.guard);
        if let Err(lockout) = guard.check(now, device, user) {
            let detail = format!(
                "{}; attempt refused without checking the proof",
                lockout.refusal(now)
            );
            let message = "Too many failed logins: try again later".to_owned();
            return Err((
                ApiFailure::new(ErrorCode::LockedOut, message, detail),
                Vec::new(),
            ));
        }
        let challenge = self
            .challenges
            .remove(&request.challenge_id)
            .filter(|pending| pending.expires > now && pending.user == user);
        let Some(challenge) = challenge else {
            let failure = ApiFailure::new(
                ErrorCode::ChallengeExpired,
                "The login challenge is unknown, used or expired: ask for a new one".into(),
                format!("login for {user} with an unknown, used or expired challenge"),
            );
            return Err((failure, Vec::new()));
        };
        let failed = |guard: &mut LoginGuard, detail: String| {
            let lockouts = guard.record_failure(now, device, user);
            let message = "Login failed: wrong user or password".to_owned();
            (
                ApiFailure::new(ErrorCode::LoginFailed, message, detail),
                lockouts,
            )
        };
        let Some(client) = config.client(user) else {
            return Err(failed(
                &mut guard,
                format!("no client {user} is configured"),
            ));
        };
        let proven = LoginNonce::from_hex(&request.client_nonce).is_some_and(|client_nonce| {
            client.password.as_ref().is_some_and(|password| {
                verify_login_proof(
                    password,
                    user,
                    &challenge.nonce,
                    &client_nonce,
                    &request.proof,
                )
            })
        });
        if !proven {
            return Err(failed(
                &mut guard,
                format!("wrong proof of the UC password for {}", client.label()),
            ));
        }
        guard.record_success(device, user);
        drop(guard);
        if client.kind != ClientKind::MyPortalToGo {
            let failure = ApiFailure::new(
                ErrorCode::WrongClientKind,
                format!("{user} is not a myPortal to go user"),
                format!(
                    "{} is a {}, not myPortal to go",
                    client.label(),
                    client.kind
                ),
            );
            return Err((failure, Vec::new()));
        }
        let replaced = self
            .by_user
            .remove(user)
            .and_then(|old| self.sessions.remove(&old));
        let token = random_hex::<32>();
        self.next_session += 1;
        let record = SessionRecord {
            id: PortalSessionId(self.next_session),
            number: user.to_owned(),
            app: request.app.clone(),
            expires: now + self.lifetime,
            outlet: Outlet::new(clock.clone()),
            registration: None,
        };
        let key = hash(&token);
        self.sessions.insert(key, record);
        self.by_user.insert(user.to_owned(), key);
        Ok(LoggedIn { token, replaced })
    }

    /// The live session of `token`; an expired one is `None` (and is left
    /// for [`Self::expired`] to end).
    pub fn session(&mut self, now: Instant, token: &str) -> Option<&mut SessionRecord> {
        self.sessions
            .get_mut(&hash(token))
            .filter(|session| session.expires > now)
    }

    /// Ends the session of `token`.
    pub fn end(&mut self, token: &str) -> Option<SessionRecord> {
        let session = self.sessions.remove(&hash(token))?;
        self.by_user.remove(&session.number);
        Some(session)
    }

    /// Removes and returns every session expired at `now`.
    pub fn expired(&mut self, now: Instant) -> Vec<SessionRecord> {
        let keys: Vec<TokenHash> = self
            .sessions
            .iter()
            .filter(|(_, session)| session.expires <= now)
            .map(|(key, _)| *key)
            .collect();
        let mut ended = Vec::new();
        for key in keys {
            if let Some(session) = self.sessions.remove(&key) {
                self.by_user.remove(&session.number);
                ended.push(session);
            }
        }
        ended
    }

    /// Every live session.
    pub fn sessions_mut(&mut self) -> impl Iterator<Item = &mut SessionRecord> {
        self.sessions.values_mut()
    }

    /// Sessions, and how many of them have a VoIP registration.
    pub fn counts(&self) -> (usize, usize) {
        let registered = self
            .sessions
            .values()
            .filter(|session| session.registration.is_some())
            .count();
        (self.sessions.len(), registered)
    }

    /// Challenges outstanding (tests: the table stays bounded).
    pub fn pending_challenges(&self) -> usize {
        self.challenges.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config;
    use crate::lockout::LockoutPolicy;
    use crate::testing::{Office, Subscriber, cast};
    use shared::portal::login_proof;

    fn office() -> ValidatedConfig {
        Office::x3()
            .loopback_lan()
            .subscriber(Subscriber::portal(cast::DAN.0, "Dan").password(cast::DAN.1))
            .validated()
    }

    fn logins(config: &ValidatedConfig) -> Logins {
        let numbers = config.clients().iter().map(|client| client.number.clone());
        Logins::new(
            config,
            LoginGuard::shared(LockoutPolicy::from_settings(config.lockout()), numbers),
        )
    }

    fn login_request(challenge: &Challenge, password: &str) -> LoginRequest {
        let server = LoginNonce::from_hex(&challenge.nonce).expect("hex");
        let client = LoginNonce([1; 32]);
        LoginRequest {
            user: "210".into(),
            challenge_id: challenge.challenge_id.clone(),
            client_nonce: client.to_hex(),
            proof: login_proof(&config::Secret::new(password), "210", &server, &client),
            app: AppInfo {
                platform: "android".into(),
                version: "V2R1.61.14".into(),
            },
        }
    }

    #[test]
    fn a_flood_of_challenges_keeps_the_table_bounded_and_new_ones_usable() {
        let config = office();
        let mut logins = logins(&config);
        let clock = Clock::manual();
        for _ in 0..MAX_CHALLENGES + 100 {
            logins.challenge(clock.now(), "210");
        }
        assert_eq!(logins.pending_challenges(), MAX_CHALLENGES);
        let fresh = logins.challenge(clock.now(), "210");
        let source = "127.0.0.1".parse().expect("ip");
        let request = login_request(&fresh, "Dan*portal-0815");
        logins
            .login(&config, &clock, source, &request)
            .expect("the newest challenge survives the flood");
    }

    #[test]
    fn tokens_are_found_by_hash_and_a_second_login_replaces_the_first() {
        let config = office();
        let mut logins = logins(&config);
        let clock = Clock::manual();
        let source = "127.0.0.1".parse().expect("ip");
        let first = logins.challenge(clock.now(), "210");
        let first = logins
            .login(
                &config,
                &clock,
                source,
                &login_request(&first, "Dan*portal-0815"),
            )
            .expect("logged in");
        assert!(first.replaced.is_none());
        assert!(logins.session(clock.now(), &first.token).is_some());
        assert!(logins.session(clock.now(), "not-a-token").is_none());
        let second = logins.challenge(clock.now(), "210");
        let second = logins
            .login(
                &config,
                &clock,
                source,
                &login_request(&second, "Dan*portal-0815"),
            )
            .expect("logged in again");
        assert!(
            second.replaced.is_some(),
            "the first session is handed back to end"
        );
        assert!(logins.session(clock.now(), &first.token).is_none());
        assert_eq!(logins.counts(), (1, 0));
        clock.advance(logins.lifetime());
        assert!(logins.session(clock.now(), &second.token).is_none());
        assert_eq!(logins.expired(clock.now()).len(), 1);
        assert_eq!(logins.counts(), (0, 0));
    }

    /// The portal's known device is the address of the user's last
    /// successful login (an app has no MAC).
    #[test]
    fn the_address_of_the_last_login_gets_in_while_strangers_are_locked_out() {
        let config = office();
        let mut logins = logins(&config);
        let clock = Clock::manual();
        let mut login_from = |source: &str, password: &str| {
            let challenge = logins.challenge(clock.now(), "210");
            let request = login_request(&challenge, password);
            let source = source.parse().expect("ip");
            logins
                .login(&config, &clock, source, &request)
                .map(|_| ())
                .map_err(|(failure, _)| failure.error.code)
        };
        login_from("198.51.100.20", "Dan*portal-0815").expect("Dan's app logs in");
        for attacker in 1..=5 {
            let source = format!("203.0.113.{attacker}");
            let refused = login_from(&source, "Guessing-Pass99");
            assert_eq!(refused, Err(ErrorCode::LoginFailed));
        }
        assert_eq!(
            login_from("203.0.113.77", "Dan*portal-0815"),
            Err(ErrorCode::LockedOut),
            "strangers are locked out, even with the right password"
        );
        login_from("198.51.100.20", "Dan*portal-0815").expect("Dan's app still gets in");
    }
}
