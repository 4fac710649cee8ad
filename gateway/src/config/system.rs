//! The OpenScape Business model and what follows from it (guide 1.3.5,
//! 2.5.2), and the LAN interface Device@Home uses (guide 1.3.1, 2).

use std::fmt;

use serde::Deserialize;

/// The system variant. The X models have the same capacity with or without
/// a booster card/server (guide 1.3.5), which is a separate flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum SystemModel {
    /// OpenScape Business X1.
    X1,
    /// OpenScape Business X3.
    X3,
    /// OpenScape Business X5.
    X5,
    /// OpenScape Business X8.
    X8,
    /// OpenScape Business S, the server (softswitch) variant.
    S,
}

/// RTP proxy channels of an X model (guide 1.3.5).
pub const X_RTP_PROXY_CHANNELS: u32 = 60;
/// RTP proxy channels of the S model (guide 1.3.5).
pub const S_RTP_PROXY_CHANNELS: u32 = 180;

impl SystemModel {
    /// Size of the RTP proxy channel pool that all internet calls share:
    /// one channel per ITSP, Circuit or @Home call (guide 1.3.5).
    pub fn rtp_proxy_channels(self) -> u32 {
        match self {
            Self::S => S_RTP_PROXY_CHANNELS,
            _ => X_RTP_PROXY_CHANNELS,
        }
    }

    /// The system's voice payload port range (guide 2.5.2).
    pub fn default_rtp_ports(self) -> RtpRange {
        match self {
            Self::S => RtpRange {
                first: 30528,
                last: 30887,
            },
            _ => RtpRange {
                first: 30274,
                last: 30529,
            },
        }
    }

    /// Whether this is one of the X hardware models (which may have a booster).
    pub fn is_x(self) -> bool {
        self != Self::S
    }
}

impl fmt::Display for SystemModel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::X1 => "X1",
            Self::X3 => "X3",
            Self::X5 => "X5",
            Self::X8 => "X8",
            Self::S => "S",
        })
    }
}

/// A UDP port range for RTP (even ports) and RTCP (the next odd port).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RtpRange {
    /// First port of the range; even, as it carries RTP.
    pub first: u16,
    /// Last port of the range, included.
    pub last: u16,
}

impl RtpRange {
    /// How many ports the range holds (0 when reversed).
    pub fn len(self) -> u32 {
        (u32::from(self.last) + 1).saturating_sub(u32::from(self.first))
    }

    /// Whether the range holds no port.
    pub fn is_empty(self) -> bool {
        self.len() == 0
    }

    /// Whether `port` is in the range.
    pub fn contains(self, port: u16) -> bool {
        (self.first..=self.last).contains(&port)
    }
}

impl fmt::Display for RtpRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.first, self.last)
    }
}

/// A LAN interface of the system. The guide calls LAN1 also "WAN", so both
/// names are accepted for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum LanInterface {
    /// LAN1, the WAN interface: not supported for Device@Home.
    #[serde(rename = "LAN1", alias = "WAN")]
    Lan1,
    /// LAN2: the one interface Device@Home is released for.
    #[serde(rename = "LAN2")]
    Lan2,
}

impl fmt::Display for LanInterface {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Lan1 => "LAN1",
            Self::Lan2 => "LAN2",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn x_models_have_60_channels_and_the_x_range() {
        for model in [
            SystemModel::X1,
            SystemModel::X3,
            SystemModel::X5,
            SystemModel::X8,
        ] {
            assert_eq!(model.rtp_proxy_channels(), 60);
            assert_eq!(
                model.default_rtp_ports(),
                RtpRange {
                    first: 30274,
                    last: 30529
                }
            );
            assert!(model.is_x());
        }
    }

    #[test]
    fn s_has_180_channels_and_exactly_two_ports_each() {
        let range = SystemModel::S.default_rtp_ports();
        assert_eq!(SystemModel::S.rtp_proxy_channels(), 180);
        assert_eq!(range.to_string(), "30528-30887");
        assert_eq!(range.len(), 360);
    }

    #[test]
    fn range_length_and_membership() {
        let range = RtpRange {
            first: 10,
            last: 11,
        };
        assert_eq!(range.len(), 2);
        assert!(range.contains(11) && !range.contains(12));
        assert!(
            RtpRange {
                first: 11,
                last: 10
            }
            .is_empty()
        );
        assert_eq!(
            RtpRange {
                first: 0,
                last: u16::MAX
            }
            .len(),
            65536
        );
    }
}
