//! The state call control keeps: one [`Line`] per attached device, one
//! [`Call`] per call, and the reasons a call attempt fails.

use std::net::IpAddr;
use std::time::Instant;

use super::channels::ChannelId;
use super::dialplan::Service;
use super::indication::CallId;
use super::media::MediaOffer;
use super::screen::Screen;
use crate::config::cos::BarReason;

/// One end of a call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Party {
    /// A subscriber's device, by number.
    Device(String),
    /// An external number on the built-in test trunk (one trunk channel).
    Trunk(String),
    /// A service the system answers itself.
    Service(Service),
}

impl Party {
    pub fn device(&self) -> Option<&str> {
        match self {
            Self::Device(number) => Some(number),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallState {
    /// The called party is being alerted until `until` (no-answer timeout,
    /// or the trunk's answer).
    Alerting {
        until: Instant,
    },
    Connected,
}

#[derive(Debug, Clone)]
pub struct Call {
    /// The calling party.
    pub a: Party,
    /// The called party.
    pub b: Party,
    pub state: CallState,
    /// The device that put this call on hold, if any.
    pub held_by: Option<String>,
    /// The subscriber whose forwarding redirected this call to `b`.
    pub via: Option<String>,
    /// The RTP proxy channels this call holds, by the party each anchors.
    pub anchors: Vec<(Party, ChannelId)>,
}

impl Call {
    /// The party across from `number`.
    pub fn other(&self, number: &str) -> &Party {
        if self.a.device() == Some(number) {
            &self.b
        } else {
            &self.a
        }
    }

    /// Whether the call occupies a channel of the trunk.
    pub fn uses_trunk(&self) -> bool {
        matches!(self.a, Party::Trunk(_)) || matches!(self.b, Party::Trunk(_))
    }

    /// The channel that anchors `party` in this call, if any.
    pub fn anchor_of(&self, party: &Party) -> Option<ChannelId> {
        self.anchors
            .iter()
            .find(|(anchored, _)| anchored == party)
            .map(|(_, channel)| *channel)
    }

    pub fn devices(&self) -> impl Iterator<Item = &str> {
        [&self.a, &self.b].into_iter().filter_map(Party::device)
    }
}

/// What a subscriber is dialling digits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// A call (a consultation call when the line holds another).
    Call,
    /// The destination of call forwarding.
    Forward,
}

/// Why a call attempt failed, shown until the user hangs up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// The callee is in a call.
    Busy(String),
    /// No number begins with the digits dialled.
    UnknownNumber,
    /// The class of service or a barred range bars the number (guide 2.2).
    NotAllowed(BarReason),
    /// No RTP proxy channel or no simultaneous internet call is left
    /// (guide 1.3.5, 2.3).
    NoLineFree,
    /// The callee's device is not registered.
    NotReachable(String),
    /// The callee refused the call while it rang.
    Rejected(String),
    /// The callee did not answer in time.
    NoAnswer(String),
    /// The other party ended the call.
    Ended,
}

/// A device's line.
#[derive(Debug, Clone)]
pub enum LineState {
    Idle,
    /// Collecting digits; `deadline` is the inter-digit timeout.
    Dialing {
        digits: String,
        purpose: Purpose,
        deadline: Option<Instant>,
    },
    /// In a call (calling, ringing, connected, or held by the other side).
    InCall(CallId),
    /// Showing why the last attempt failed until the user hangs up; a
    /// handsfree line (on-hook) returns to idle at `until`.
    Failed {
        failure: Failure,
        until: Option<Instant>,
    },
}

/// An attached device and what it shows.
#[derive(Debug, Clone)]
pub struct Line {
    pub name: String,
    /// The handset is lifted.
    pub off_hook: bool,
    pub state: LineState,
    /// A call this line has put on hold to make a consultation call.
    pub held: Option<CallId>,
    /// Call forwarding destination, as dialled.
    pub forward: Option<String>,
    /// What the device shows now.
    pub screen: Option<Screen>,
    /// Where and how the device receives media, as it announced.
    pub media_offer: Option<MediaOffer>,
    /// Where the device registered from.
    pub origin: Origin,
}

/// Where a device registered from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Origin {
    /// The source address of its registration: for a device at home, its
    /// NAT's public address, which its media comes from too (the RTP
    /// proxy learns the device's media from this address only).
    pub ip: IpAddr,
    /// From outside the company LAN: its calls are anchored in the RTP
    /// proxy.
    pub internet: bool,
}

impl Line {
    pub fn new(name: String, origin: Origin) -> Self {
        Self {
            name,
            off_hook: false,
            state: LineState::Idle,
            held: None,
            forward: None,
            screen: None,
            media_offer: None,
            origin,
        }
    }

    /// Free to be called: idle, on-hook, holding nothing.
    pub fn is_free(&self) -> bool {
        matches!(self.state, LineState::Idle) && !self.off_hook && self.held.is_none()
    }
}
