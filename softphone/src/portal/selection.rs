//! Which server the app registers through, as a sans-IO engine (guide 4.2):
//! time is an input, decisions are polled, nothing here touches a socket.
//!
//! - company WiFi: the LAN server; if it does not answer within
//!   [`SelectionTimers::lan_timeout`], the WAN server;
//! - remote WiFi: the WAN server, only with "Use VoIP in remote WiFi
//!   networks" on;
//! - mobile data, or "VoIP" off: no VoIP.
//!
//! Its driver carries out [`Action`]s (register through a server, or
//! unregister), reports how each attempt went, and shows the
//! [`StatusChange`]s: the status field's text and how long the
//! (re-)registration took since what triggered it.
//!
//! ```text
//! selection.set_network(now, network) / set_flags / lost
//! selection.registered(now, attempt) / failed(now, attempt, failure)
//! selection.handle_timeout(now)
//! selection.poll_action()  -> Register { attempt, route, server } | Unregister
//! selection.poll_event()   -> StatusChange
//! selection.poll_timeout() -> when to call handle_timeout next
//! ```

use std::collections::VecDeque;
use std::fmt;
use std::time::{Duration, Instant};

use super::settings::{Network, ServerAddress, VoipFlags};

/// Through which of the account's servers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Route {
    Lan,
    Wan,
}

impl fmt::Display for Route {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Lan => "LAN",
            Self::Wan => "WAN",
        })
    }
}

/// Names one registration attempt, so a late answer to an abandoned one is
/// told apart from the current one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AttemptId(pub u64);

/// What the driver is asked to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Drop any other attempt or registration, then log in and register
    /// through `server` from the device's current network.
    Register {
        attempt: AttemptId,
        route: Route,
        server: ServerAddress,
    },
    /// End the registration (or the attempt) and stay unregistered.
    Unregister,
}

/// How an attempt through one server failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerFailure {
    /// No answer: timed out, unreachable, connection refused or reset.
    NoAnswer,
    /// The server (or its certificate) refused, in words.
    Refused(String),
}

/// Why VoIP is not available on this network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Unavailable {
    /// The "VoIP" flag is off.
    VoipOff,
    /// On a remote WiFi with "Use VoIP in remote WiFi networks" off.
    RemoteWifiOff,
    /// On mobile data (guide 4.2, note).
    MobileData,
}

/// The status field of the VoIP settings menu.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    /// An attempt through `server` is under way.
    Registering {
        route: Route,
        server: ServerAddress,
    },
    Registered {
        route: Route,
        server: ServerAddress,
    },
    Unavailable(Unavailable),
    /// The gateway ended the session (the user logged in on another
    /// device): no retry until the user asks for one.
    LoggedOut(String),
    /// Every server tried failed; a retry follows.
    Failed(Vec<(Route, ServerAddress, ServerFailure)>),
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Registering { route, server } => {
                write!(f, "Registering via {route} server {server}")
            }
            Self::Registered { route, server } => {
                write!(f, "Registered via {route} server {server}")
            }
            Self::Unavailable(Unavailable::VoipOff) => f.write_str("Not registered: VoIP is off"),
            Self::Unavailable(Unavailable::RemoteWifiOff) => {
                f.write_str("Not registered: VoIP in remote WiFi networks is off")
            }
            Self::Unavailable(Unavailable::MobileData) => {
                f.write_str("Not registered: VoIP is not available on mobile data")
            }
            Self::LoggedOut(reason) => write!(f, "Not registered: logged out: {reason}"),
            Self::Failed(failures) => {
                f.write_str("Not registered: ")?;
                for (index, (route, server, failure)) in failures.iter().enumerate() {
                    if index > 0 {
                        f.write_str(", ")?;
                    }
                    match failure {
                        ServerFailure::NoAnswer => {
                            write!(f, "{route} server {server} did not answer")?;
                        }
                        ServerFailure::Refused(reason) => {
                            write!(f, "{route} server {server} refused: {reason}")?;
                        }
                    }
                }
                Ok(())
            }
        }
    }
}

/// A new status, and how long it took since what triggered it (start,
/// network change, flag change, registration lost): for `Registered`, the
/// (re-)registration time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusChange {
    pub status: Status,
    pub elapsed: Duration,
}

/// How long to wait for each server, and before retrying after a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SelectionTimers {
    /// The LAN server must answer (log in and register) within this, or
    /// the WAN server is tried.
    pub lan_timeout: Duration,
    /// The WAN server must answer within this.
    pub wan_timeout: Duration,
    /// After every server failed, try again this much later; the wait
    /// doubles with each failure in a row, up to `retry_max`, ±25 % jitter
    /// (so apps turned away together do not come back together). A
    /// server that answers again is found within the current wait.
    pub retry_first: Duration,
    pub retry_max: Duration,
}

impl Default for SelectionTimers {
    fn default() -> Self {
        Self {
            lan_timeout: Duration::from_secs(3),
            wan_timeout: Duration::from_secs(10),
            retry_first: Duration::from_secs(1),
            retry_max: Duration::from_secs(30),
        }
    }
}

impl SelectionTimers {
    /// The wait after the `failures`-th failure in a row (from 1), before
    /// jitter.
    pub fn retry_after(&self, failures: u32) -> Duration {
        let doublings = failures.saturating_sub(1).min(16);
        self.retry_first
            .saturating_mul(1 << doublings)
            .min(self.retry_max)
    }
}

/// Where the engine is.
#[derive(Debug, Clone, PartialEq, Eq)]
enum State {
    /// Not trying: VoIP unavailable.
    Idle,
    Trying {
        attempt: AttemptId,
        route: Route,
        deadline: Instant,
        /// The LAN server's failure, while the WAN server is tried.
        earlier: Option<(Route, ServerAddress, ServerFailure)>,
    },
    Registered {
        attempt: AttemptId,
    },
    Failed {
        retry_at: Instant,
    },
    /// Logged out by the gateway: waits for [`Selection::retry`].
    LoggedOut,
}

/// The server selection engine.
#[derive(Debug)]
pub struct Selection {
    wan: ServerAddress,
    lan: Option<ServerAddress>,
    flags: VoipFlags,
    network: Network,
    timers: SelectionTimers,
    state: State,
    /// When the current (re-)registration was triggered.
    trigger_at: Instant,
    next_attempt: u64,
    /// Rounds in a row in which every server failed.
    failures: u32,
    status: Option<Status>,
    actions: VecDeque<Action>,
    events: VecDeque<StatusChange>,
}

impl Selection {
    /// Starts on `network` with `flags`: the first action is already queued.
    pub fn new(
        wan: ServerAddress,
        lan: Option<ServerAddress>,
        flags: VoipFlags,
        network: Network,
        timers: SelectionTimers,
        now: Instant,
    ) -> Self {
        let mut selection = Self {
            wan,
            lan,
            flags,
            network,
            timers,
            state: State::Idle,
            trigger_at: now,
            next_attempt: 0,
            failures: 0,
            status: None,
            actions: VecDeque::new(),
            events: VecDeque::new(),
        };
        selection.start(now);
        selection
    }

    /// The device moved to `network`: re-register through the right server
    /// (the local address changed even when the server did not).
    pub fn set_network(&mut self, now: Instant, network: Network) {
        if network == self.network {
            return;
        }
        self.network = network;
        if self.state == State::LoggedOut {
            return;
        }
        self.trigger_at = now;
        self.start(now);
    }

    /// The device's address changed on the same kind of network (another
    /// remote WiFi): register again through the same server, unless VoIP
    /// is unavailable here.
    pub fn address_changed(&mut self, now: Instant) {
        if self.first_route().is_ok() && self.state != State::LoggedOut {
            self.trigger_at = now;
            self.start(now);
        }
    }

    /// The network the device is on.
    pub fn network(&self) -> Network {
        self.network
    }

    /// The user changed the VoIP flags: re-register only if the server to
    /// use (or whether VoIP is available) changed.
    pub fn set_flags(&mut self, now: Instant, flags: VoipFlags) {
        let before = self.first_route();
        self.flags = flags;
        if self.state == State::LoggedOut
            || self.first_route() == before && !matches!(self.state, State::Failed { .. })
        {
            return;
        }
        self.trigger_at = now;
        self.start(now);
    }

    /// The registration ended without being asked to (session or event
    /// stream lost): register again.
    pub fn lost(&mut self, now: Instant) {
        if matches!(self.state, State::Registered { .. }) {
            self.trigger_at = now;
            self.start(now);
        }
    }

    /// The gateway logged this session out because the user logged in on
    /// another device. Logging straight back in would log that device out,
    /// and so on for ever: stay unregistered until the user retries.
    pub fn logged_out(&mut self, now: Instant, reason: String) {
        self.state = State::LoggedOut;
        self.trigger_at = now;
        self.show(now, Status::LoggedOut(reason));
    }

    /// Try again now rather than at the retry time (after the user
    /// accepted a certificate, or logged in again after being logged out);
    /// nothing unless every server failed or the gateway logged us out.
    pub fn retry(&mut self, now: Instant) {
        if matches!(self.state, State::Failed { .. } | State::LoggedOut) {
            self.trigger_at = now;
            self.start(now);
        }
    }

    /// `attempt` succeeded.
    pub fn registered(&mut self, now: Instant, attempt: AttemptId) {
        let State::Trying {
            attempt: current,
            route,
            ..
        } = self.state
        else {
            return;
        };
        if current != attempt {
            return;
        }
        self.state = State::Registered { attempt };
        self.failures = 0;
        let server = self.server(route).clone();
        self.show(now, Status::Registered { route, server });
    }

    /// `attempt` failed.
    pub fn failed(&mut self, now: Instant, attempt: AttemptId, failure: ServerFailure) {
        match &self.state {
            State::Trying {
                attempt: current, ..
            } if *current == attempt => self.attempt_failed(now, failure),
            // A registration that worked and then broke is "lost".
            State::Registered { attempt: current } if *current == attempt => self.lost(now),
            _ => {}
        }
    }

    /// Time passed: an attempt's deadline or a retry.
    pub fn handle_timeout(&mut self, now: Instant) {
        match self.state {
            State::Trying { deadline, .. } if now >= deadline => {
                self.attempt_failed(now, ServerFailure::NoAnswer);
            }
            State::Failed { retry_at } if now >= retry_at => self.start(now),
            _ => {}
        }
    }

    /// When to call [`Selection::handle_timeout`] next.
    pub fn poll_timeout(&self) -> Option<Instant> {
        match self.state {
            State::Trying { deadline, .. } => Some(deadline),
            State::Failed { retry_at } => Some(retry_at),
            State::Idle | State::Registered { .. } | State::LoggedOut => None,
        }
    }

    /// The next thing for the driver to do.
    pub fn poll_action(&mut self) -> Option<Action> {
        self.actions.pop_front()
    }

    /// The next status change to show.
    pub fn poll_event(&mut self) -> Option<StatusChange> {
        self.events.pop_front()
    }

    /// The status field now.
    pub fn status(&self) -> Option<&Status> {
        self.status.as_ref()
    }

    /// The server to try first, or why there is none.
    fn first_route(&self) -> Result<Route, Unavailable> {
        if !self.flags.voip {
            return Err(Unavailable::VoipOff);
        }
        match self.network {
            Network::Mobile => Err(Unavailable::MobileData),
            Network::RemoteWifi if !self.flags.remote_wifi => Err(Unavailable::RemoteWifiOff),
            Network::RemoteWifi => Ok(Route::Wan),
            Network::CompanyWifi if self.lan.is_some() => Ok(Route::Lan),
            Network::CompanyWifi => Ok(Route::Wan),
        }
    }

    fn server(&self, route: Route) -> &ServerAddress {
        match (route, &self.lan) {
            (Route::Lan, Some(lan)) => lan,
            _ => &self.wan,
        }
    }

    /// (Re)starts from the first server, or unregisters.
    fn start(&mut self, now: Instant) {
        match self.first_route() {
            Ok(route) => self.try_route(now, route, None),
            Err(why) => {
                if self.state != State::Idle {
                    self.actions.push_back(Action::Unregister);
                }
                self.state = State::Idle;
                self.show(now, Status::Unavailable(why));
            }
        }
    }

    fn try_route(
        &mut self,
        now: Instant,
        route: Route,
        earlier: Option<(Route, ServerAddress, ServerFailure)>,
    ) {
        self.next_attempt += 1;
        let attempt = AttemptId(self.next_attempt);
        let timeout = match route {
            Route::Lan => self.timers.lan_timeout,
            Route::Wan => self.timers.wan_timeout,
        };
        let server = self.server(route).clone();
        self.state = State::Trying {
            attempt,
            route,
            deadline: now + timeout,
            earlier,
        };
        self.actions.push_back(Action::Register {
            attempt,
            route,
            server: server.clone(),
        });
        self.show(now, Status::Registering { route, server });
    }

    fn attempt_failed(&mut self, now: Instant, failure: ServerFailure) {
        let State::Trying { route, earlier, .. } = std::mem::replace(&mut self.state, State::Idle)
        else {
            return;
        };
        let this = (route, self.server(route).clone(), failure);
        // Only a LAN server that does not answer sends the app to the WAN
        // server: one that refuses (wrong password) would be refused there
        // too.
        if route == Route::Lan && this.2 == ServerFailure::NoAnswer {
            self.try_route(now, Route::Wan, Some(this));
            return;
        }
        let failures = earlier.into_iter().chain([this]).collect();
        self.failures = self.failures.saturating_add(1);
        let wait = self.timers.retry_after(self.failures);
        self.state = State::Failed {
            retry_at: now + wait.mul_f64(rand::random_range(0.75..1.25)),
        };
        self.show(now, Status::Failed(failures));
    }

    fn show(&mut self, now: Instant, status: Status) {
        if self.status.as_ref() == Some(&status) {
            return;
        }
        self.status = Some(status.clone());
        self.events.push_back(StatusChange {
            status,
            elapsed: now.saturating_duration_since(self.trigger_at),
        });
    }
}

#[cfg(test)]
mod tests;
