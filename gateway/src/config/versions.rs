//! Minimum client software versions (guide 4, 1.3.4).
//!
//! The guide's minimums are the defaults; a configuration may raise them
//! (e.g. to the firmware delivered with the installed system) but never
//! lower them, which validation refuses.

use serde::Deserialize;
use shared::version::{
    DESKPHONE_IP_HFA_MIN, MYPORTAL_TO_GO_ANDROID_MIN, OPENSTAGE_HFA_MIN, SoftwareVersion,
};

use super::client::{ClientKind, HfaFamily};

/// The `[min_versions]` section as written (strings such as `"V3R0.33.1"`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MinVersionsSection {
    /// OpenStage HFA phones.
    #[serde(default = "openstage")]
    pub openstage_hfa: String,
    /// Desk Phone IP HFA phones.
    #[serde(default = "deskphone")]
    pub deskphone_ip_hfa: String,
    /// myPortal to go (Android) with VoIP.
    #[serde(default = "myportal")]
    pub myportal_to_go_android: String,
}

fn openstage() -> String {
    OPENSTAGE_HFA_MIN.to_string()
}

fn deskphone() -> String {
    DESKPHONE_IP_HFA_MIN.to_string()
}

fn myportal() -> String {
    MYPORTAL_TO_GO_ANDROID_MIN.to_string()
}

impl Default for MinVersionsSection {
    fn default() -> Self {
        Self {
            openstage_hfa: openstage(),
            deskphone_ip_hfa: deskphone(),
            myportal_to_go_android: myportal(),
        }
    }
}

/// The validated minimums, each at least the guide's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MinVersions {
    /// OpenStage HFA phones.
    pub openstage_hfa: SoftwareVersion,
    /// Desk Phone IP HFA phones.
    pub deskphone_ip_hfa: SoftwareVersion,
    /// myPortal to go (Android) with VoIP.
    pub myportal_to_go_android: SoftwareVersion,
}

impl MinVersions {
    /// The minimum for a kind of client; `None` for SIP devices, for which
    /// the guide names no version.
    pub fn minimum_for(&self, kind: ClientKind) -> Option<SoftwareVersion> {
        match kind {
            ClientKind::Hfa(device) => Some(match device.family() {
                HfaFamily::OpenStage => self.openstage_hfa,
                HfaFamily::DeskPhoneIp => self.deskphone_ip_hfa,
            }),
            ClientKind::MyPortalToGo => Some(self.myportal_to_go_android),
            ClientKind::Sip => None,
        }
    }

    /// Whether a client of `kind` running `version` may register.
    pub fn admits(&self, kind: ClientKind, version: SoftwareVersion) -> bool {
        self.minimum_for(kind)
            .is_none_or(|minimum| version >= minimum)
    }
}
