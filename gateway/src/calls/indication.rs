//! What call control tells a device to show and play, independent of how
//! the device is attached. The HFA attachment renders each indication as
//! stimuli (`crate::hfa::render`); the myPortal to go attachment will render
//! them as events of its own.

use std::fmt;

use super::media::RemoteMedia;

/// Display rows of a phone (OpenStage phones show at least two).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DisplayRow {
    /// Who: own number and name when idle, the other party in a call.
    Top,
    /// What: the call's state, a reason, the digits dialled.
    Bottom,
}

/// The function keys call control uses, each on a fixed programmable key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FeatureKey {
    /// The line key: LED shows the line state; pressing it answers, seizes
    /// or releases (handsfree).
    Line,
    /// Hold the call and get dial tone for a consultation call; pressed
    /// again (labelled "Retrieve") ends the consultation and returns.
    Hold,
    /// Connect the held party with the consultation call.
    Transfer,
    /// Program or clear call forwarding.
    Forward,
    /// End the current call (like going on-hook).
    Release,
}

impl FeatureKey {
    /// Every feature key, in key order.
    pub const ALL: [Self; 5] = [
        Self::Line,
        Self::Hold,
        Self::Transfer,
        Self::Forward,
        Self::Release,
    ];

    /// The label shown next to the key.
    pub fn label(self) -> &'static str {
        match self {
            Self::Line => "Line",
            Self::Hold => "Hold",
            Self::Transfer => "Transfer",
            Self::Forward => "Forward",
            Self::Release => "Release",
        }
    }
}

/// A key's LED.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lamp {
    Off,
    /// Steady: in use (dialling, connected, forwarding active).
    On,
    /// Flashing: an incoming call is ringing.
    Flashing,
    /// Slow flashing: a call on hold.
    Winking,
}

/// Call-progress tones, as a European PBX plays them (425 Hz).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Tone {
    /// No tone.
    Silence,
    /// Continuous: ready to dial.
    Dial,
    /// 1 s on, 4 s off: the other side is ringing.
    RingBack,
    /// 480 ms on and off: busy, or the call has ended.
    Busy,
    /// 240 ms on and off: refused (not allowed, no line free, unknown number).
    Congestion,
}

/// One instruction to one device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Indication {
    /// Replace the text of a display row.
    Display { row: DisplayRow, text: String },
    /// Play a tone (or stop with [`Tone::Silence`]).
    Tone(Tone),
    /// Start (`true`) or stop alerting.
    Ringer(bool),
    /// Set a key's LED.
    Lamp { key: FeatureKey, lamp: Lamp },
    /// Label a function key (sent when the device attaches; the Hold key is
    /// relabelled "Retrieve" while a call is held).
    Label { key: FeatureKey, text: String },
    /// The call's media starts (connected) or stops.
    Media(MediaIndication),
    /// What runs at the right of the bottom row: the time of day (idle),
    /// a call timer counting from zero (connected), or nothing.
    Clock(ClockKind),
}

/// The running clock a phone shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ClockKind {
    /// No clock.
    Hidden,
    /// The date and time of day (the idle screen).
    TimeOfDay,
    /// The duration of the current call, from zero when shown.
    CallTimer,
}

/// The media path of a device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MediaIndication {
    /// Connected: send and receive media of `call`; `remote` says where and
    /// how to send, when both ends announced their media.
    Start {
        call: CallId,
        remote: Option<RemoteMedia>,
    },
    /// No media (released, or held).
    Stop,
}

/// Identifies one call for the life of the gateway.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CallId(pub u64);

impl fmt::Display for CallId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "call {}", self.0)
    }
}
