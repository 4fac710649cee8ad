//! One side of a load call: an HFA phone (keys and the hook switch, its
//! screen) or a myPortal to go app (API requests, its line's call
//! events), with the steps a call needs in the words of each.

use std::time::Instant;

use serde::Serialize;
use shared::hfa::DeclineCause;
use shared::media::StreamStats;
use shared::portal::CallState;

use super::app::App;
use super::phone::{Phone, call_ended};
use super::stats::Tally;
use crate::hfa::Hook;
use crate::portal::client::CallRequest;

/// Why a party was not ready (registered, its screen or event stream
/// up) by its deadline.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotReady {
    /// The gateway declined the phone.
    #[error("declined: {}", .0.describe())]
    Declined(DeclineCause),
    /// The app's registration was refused: the gateway's words, or the
    /// status that ended it.
    #[error("{0}")]
    Refused(String),
    /// The phone's client task ended.
    #[error("the client stopped")]
    ClientStopped,
    /// The app's agent task ended.
    #[error("the app stopped")]
    AppStopped,
    /// `trouble`: the last connection loss or status, if there was one.
    #[error("not registered in time{}", bracketed(trouble))]
    NotRegistered { trouble: Option<String> },
    /// The phone registered, its idle screen did not come.
    #[error("registered but no idle screen in time{}", bracketed(trouble))]
    NoIdleScreen { trouble: Option<String> },
    /// The app registered, its event stream did not open.
    #[error("registered but no event stream in time")]
    NoEventStream,
}

/// " (trouble)", or nothing.
fn bracketed(trouble: &Option<String>) -> String {
    trouble
        .as_ref()
        .map(|trouble| format!(" ({trouble})"))
        .unwrap_or_default()
}

/// What a party is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Phone,
    App,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Self::Phone => "phone",
            Self::App => "app",
        }
    }
}

/// A phone or an app of the load.
#[derive(Debug)]
pub enum Party {
    Phone(Phone),
    App(App),
}

impl Party {
    pub fn kind(&self) -> Kind {
        match self {
            Self::Phone(_) => Kind::Phone,
            Self::App(_) => Kind::App,
        }
    }

    pub fn number(&self) -> &str {
        match self {
            Self::Phone(phone) => &phone.number,
            Self::App(app) => &app.number,
        }
    }

    /// Connections lost, registrations lost, requests refused, by reason.
    pub fn lost(&self) -> &Tally {
        match self {
            Self::Phone(phone) => &phone.lost,
            Self::App(app) => &app.lost,
        }
    }

    /// From here on, the waits below look at what the gateway shows after
    /// this moment (an app's event stream may repeat the line as it was).
    pub fn mark(&mut self) {
        if let Self::App(app) = self {
            app.mark();
        }
    }

    /// Phone: off-hook and the digits; app: the dial request.
    pub fn dial(&mut self, number: &str) {
        match self {
            Self::Phone(phone) => {
                phone.press("h");
                phone.press(number);
            }
            Self::App(app) => app.request(CallRequest::Dial(number.to_owned())),
        }
    }

    /// Phone: the ringer on; app: the line ringing.
    pub async fn until_ringing(&mut self, deadline: Instant) -> Option<Instant> {
        match self {
            Self::Phone(phone) => phone.until(deadline, |m| m.ringer()).await,
            Self::App(app) => {
                app.until(deadline, |line| line.state == CallState::Ringing)
                    .await
            }
        }
    }

    /// Phone: off-hook; app: the answer request.
    pub fn answer(&mut self) {
        match self {
            Self::Phone(phone) => phone.press("h"),
            Self::App(app) => app.request(CallRequest::Answer),
        }
    }

    /// Media started: the phone's Set Payload, the app's connected line
    /// with its media target.
    pub async fn until_media(&mut self, deadline: Instant) -> Option<Instant> {
        match self {
            Self::Phone(phone) => phone.until(deadline, |m| m.media().is_some()).await,
            Self::App(app) => {
                let connected =
                    |line: &shared::portal::CallView| line.state == CallState::Connected;
                if connected(&app.line) && app.line.media.is_some() {
                    return Some(Instant::now());
                }
                app.until(deadline, |line| connected(line) && line.media.is_some())
                    .await
            }
        }
    }

    /// Phone: on-hook; app: the hang-up request.
    pub fn hang_up(&mut self) {
        match self {
            Self::Phone(phone) => phone.press("u"),
            Self::App(app) => app.request(CallRequest::Hangup),
        }
    }

    /// The other side hung up: the phone shows "Call ended" with busy
    /// tone, the app's line ended (or already idle).
    pub async fn until_ended_shown(&mut self, deadline: Instant) -> Option<Instant> {
        match self {
            Self::Phone(phone) => phone.until(deadline, call_ended).await,
            Self::App(app) => {
                app.until(deadline, |line| {
                    matches!(line.state, CallState::Ended | CallState::Idle)
                })
                .await
            }
        }
    }

    /// After the other side hung up: the phone goes on-hook; the app's
    /// line clears by itself.
    pub fn put_down(&mut self) {
        if let Self::Phone(phone) = self {
            phone.press("u");
        }
    }

    /// Back to idle: the phone's idle screen, the app's idle line.
    pub async fn until_idle(&mut self, deadline: Instant) -> Option<Instant> {
        match self {
            Self::Phone(phone) => phone.until_idle(deadline).await,
            Self::App(app) => app.until_idle(deadline).await,
        }
    }

    /// After an anomaly: whatever is going on, end it.
    pub fn abandon(&mut self) {
        match self {
            Self::Phone(phone) if phone.model.hook() == Hook::OffHook => phone.press("u"),
            Self::Phone(_) => {}
            Self::App(app) if app.line.state != CallState::Idle => {
                app.request(CallRequest::Hangup);
            }
            Self::App(_) => {}
        }
    }

    /// Applies what is already queued, without waiting.
    pub fn catch_up(&mut self) {
        match self {
            Self::Phone(phone) => phone.catch_up(),
            Self::App(app) => app.catch_up(),
        }
    }

    /// Ends the party; the final figures of its calls' media streams.
    pub async fn stop(self) -> Vec<StreamStats> {
        match self {
            Self::Phone(phone) => phone.stop().await,
            Self::App(app) => app.stop().await,
        }
    }
}
