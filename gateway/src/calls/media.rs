//! Which codec a call's media uses and where each side sends it.
//!
//! Devices announce what they can receive (an HFA phone's Codec
//! Capabilities); when a call connects, the system picks one codec both
//! ends offer, in its order of preference, and tells each end the other's
//! address. Opus is an extension of ours that real systems do not offer, so
//! it is used only when both ends announce it (payload type 111); otherwise
//! G.722 when both ends are wideband (OpenStage phones), else G.711, A-law
//! first as in Europe unless configured otherwise.

use std::net::SocketAddr;

use shared::hfa::PayloadType;

/// Packetisation time when an offer does not say (ms).
pub const DEFAULT_PACKET_MS: u8 = 20;

/// What a device can receive, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaOffer {
    /// Where to send RTP; RTCP goes to `rtcp_port` on the same address.
    pub rtp: SocketAddr,
    pub rtcp_port: u16,
    /// Payload types with the packet size each wants (ms), in the
    /// device's order.
    pub codecs: Vec<(PayloadType, u8)>,
}

/// The media of one side of a connected call: where to send, and how.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RemoteMedia {
    pub rtp: SocketAddr,
    pub rtcp_port: u16,
    pub payload_type: PayloadType,
    pub packet_ms: u8,
}

/// The system's media settings.
#[derive(Debug, Clone)]
pub struct MediaPolicy {
    /// Payload types in the order the system prefers them.
    pub preference: Vec<PayloadType>,
    /// Where the system's own media endpoints receive.
    pub services: ServiceEndpoints,
}

impl Default for MediaPolicy {
    fn default() -> Self {
        Self {
            preference: vec![
                PayloadType::OPUS,
                PayloadType::G722,
                PayloadType::PCMA,
                PayloadType::PCMU,
            ],
            services: ServiceEndpoints::default(),
        }
    }
}

/// The system's media endpoints (none until the gateway binds them).
#[derive(Debug, Clone, Default)]
pub struct ServiceEndpoints {
    pub echo_test: Option<MediaOffer>,
    pub announcement: Option<MediaOffer>,
    /// The built-in test trunk's far end.
    pub trunk: Option<MediaOffer>,
}

impl MediaPolicy {
    /// The configured preference; no service endpoints yet.
    pub fn from_config(config: &crate::config::ValidatedConfig) -> Self {
        let preference = config
            .config()
            .media
            .codec_preference
            .iter()
            .map(|codec| codec.payload_type())
            .collect();
        Self {
            preference,
            services: ServiceEndpoints::default(),
        }
    }

    /// The media `local` sends to `remote`: the most preferred payload type
    /// both offer, at the packet size the receiving side asked for.
    pub fn leg(&self, local: &MediaOffer, remote: &MediaOffer) -> Option<RemoteMedia> {
        self.preference.iter().find_map(|payload_type| {
            offered(local, *payload_type)?;
            let (_, packet_ms) = offered(remote, *payload_type)?;
            Some(RemoteMedia {
                rtp: remote.rtp,
                rtcp_port: remote.rtcp_port,
                payload_type: *payload_type,
                packet_ms: if *packet_ms == 0 {
                    DEFAULT_PACKET_MS
                } else {
                    *packet_ms
                },
            })
        })
    }
}

fn offered(offer: &MediaOffer, payload_type: PayloadType) -> Option<&(PayloadType, u8)> {
    offer.codecs.iter().find(|(pt, _)| *pt == payload_type)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offer(port: u16, codecs: &[PayloadType]) -> MediaOffer {
        MediaOffer {
            rtp: SocketAddr::from(([192, 168, 178, 20], port)),
            rtcp_port: port + 1,
            codecs: codecs.iter().map(|pt| (*pt, 20)).collect(),
        }
    }

    #[test]
    fn opus_only_when_both_offer_it() {
        let policy = MediaPolicy::default();
        let both = offer(4000, &[PayloadType::OPUS, PayloadType::PCMA]);
        let g711 = offer(5000, &[PayloadType::PCMU, PayloadType::PCMA]);
        assert_eq!(
            policy.leg(&both, &both).map(|m| m.payload_type),
            Some(PayloadType::OPUS)
        );
        let leg = policy.leg(&both, &g711).expect("a common codec");
        assert_eq!(leg.payload_type, PayloadType::PCMA, "A-law first");
        assert_eq!((leg.rtp.port(), leg.rtcp_port), (5000, 5001));
    }

    #[test]
    fn g722_before_g711_only_when_both_ends_are_wideband() {
        let policy = MediaPolicy::default();
        let openstage = offer(
            4000,
            &[PayloadType::G722, PayloadType::PCMA, PayloadType::PCMU],
        );
        let app = offer(5000, &[PayloadType::PCMA, PayloadType::PCMU]);
        let leg = |a: &MediaOffer, b: &MediaOffer| policy.leg(a, b).map(|m| m.payload_type);
        assert_eq!(leg(&openstage, &openstage), Some(PayloadType::G722));
        assert_eq!(leg(&openstage, &app), Some(PayloadType::PCMA));
        assert_eq!(leg(&app, &openstage), Some(PayloadType::PCMA));
    }

    #[test]
    fn the_configured_order_wins_and_nothing_in_common_is_none() {
        let policy = MediaPolicy {
            preference: vec![PayloadType::PCMU, PayloadType::PCMA],
            ..MediaPolicy::default()
        };
        let a = offer(4000, &[PayloadType::PCMA, PayloadType::PCMU]);
        assert_eq!(
            policy.leg(&a, &a).map(|m| m.payload_type),
            Some(PayloadType::PCMU)
        );
        let g729 = offer(6000, &[PayloadType::G729]);
        assert_eq!(policy.leg(&a, &g729), None);
    }
}
