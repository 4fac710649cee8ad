//! The codecs of a call and their choice: G.711 A-law and µ-law
//! (`audio-codec-algorithms`), G.722 wideband (`ezk-g722`) and Opus
//! (`audiopus`, the system libopus).
//!
//! Opus is used only when both ends announce it (payload type 111), at
//! narrowband (8 kHz PCM) or wideband (16 kHz); otherwise G.722 or G.711 in
//! the configured preference order, G.722 then A-law first by default (as
//! OpenStage phones and European PBXs). Whatever the PCM rate, Opus RTP
//! timestamps count at 48 kHz (RFC 7587); G.722's count at 8 kHz for its
//! 16 kHz audio (RFC 3551 §4.5.2), 160 per 20 ms.

use std::time::Duration;

use super::error::MediaError;
use super::ids::PayloadType;

/// How wide Opus runs, which is also the PCM rate of the session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum OpusBandwidth {
    /// 4 kHz audio band, PCM at 8 kHz: the same device path as G.711.
    Narrowband,
    /// 8 kHz audio band, PCM at 16 kHz.
    Wideband,
}

/// A codec of a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Codec {
    /// G.711 A-law (PCMA), payload type 8.
    Pcma,
    /// G.711 µ-law (PCMU), payload type 0.
    Pcmu,
    /// G.722 at 64 kbit/s, payload type 9: 16 kHz PCM, 8 kHz RTP clock.
    G722,
    /// Opus, payload type 111, mono, VoIP mode with in-band FEC.
    Opus(OpusBandwidth),
}

impl Codec {
    /// G.722, then G.711 in the order a European system prefers it.
    pub const DEFAULT_PREFERENCE: [Self; 3] = [Self::G722, Self::Pcma, Self::Pcmu];

    /// The PCM sample rate the device path runs at.
    pub fn pcm_rate(self) -> u32 {
        match self {
            Self::Pcma | Self::Pcmu | Self::Opus(OpusBandwidth::Narrowband) => 8000,
            Self::G722 | Self::Opus(OpusBandwidth::Wideband) => 16_000,
        }
    }

    /// The RTP timestamp rate: 8 kHz for G.711 and G.722 (RFC 3551 keeps
    /// G.722's at 8 kHz, half its sampling rate), always 48 kHz for Opus.
    pub fn rtp_clock_rate(self) -> u32 {
        match self {
            Self::Pcma | Self::Pcmu | Self::G722 => 8000,
            Self::Opus(_) => 48_000,
        }
    }

    /// The payload type this project announces for the codec.
    pub fn payload_type(self) -> PayloadType {
        match self {
            Self::Pcma => PayloadType::PCMA,
            Self::Pcmu => PayloadType::PCMU,
            Self::G722 => PayloadType::G722,
            Self::Opus(_) => PayloadType::OPUS,
        }
    }

    /// The SDP encoding name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Pcma => "PCMA",
            Self::Pcmu => "PCMU",
            Self::G722 => "G722",
            Self::Opus(_) => "opus",
        }
    }

    /// True for Opus.
    pub fn is_opus(self) -> bool {
        matches!(self, Self::Opus(_))
    }

    /// Checks that the codec can packetise `ptime`: 10 to 60 ms in steps of
    /// 10 ms for G.711 and G.722 (RFC 3551 packet sizes), 10, 20, 40 or 60 ms for Opus
    /// (its frame sizes of at least 10 ms, the ones FEC works with).
    pub fn check_ptime(self, ptime: Duration) -> Result<(), MediaError> {
        let ms = ptime.as_millis();
        let exact = ptime.subsec_nanos().is_multiple_of(1_000_000);
        let ok = exact
            && match self {
                Self::Pcma | Self::Pcmu | Self::G722 => {
                    ms.is_multiple_of(10) && (10..=60).contains(&ms)
                }
                Self::Opus(_) => matches!(ms, 10 | 20 | 40 | 60),
            };
        if ok {
            Ok(())
        } else {
            Err(MediaError::UnsupportedPtime {
                ms,
                codec: self.name(),
            })
        }
    }

    /// PCM samples in one packet of `ptime`.
    pub fn samples_per_frame(self, ptime: Duration) -> usize {
        let samples = u128::from(self.pcm_rate()) * ptime.as_micros() / 1_000_000;
        usize::try_from(samples).unwrap_or(usize::MAX)
    }

    /// RTP timestamp units in one packet of `ptime`.
    pub fn timestamp_per_frame(self, ptime: Duration) -> u32 {
        let units = u128::from(self.rtp_clock_rate()) * ptime.as_micros() / 1_000_000;
        u32::try_from(units).unwrap_or(u32::MAX)
    }
}

/// Chooses the codec of a call from what both ends offer.
///
/// Opus when both offer it, at the narrower of the two bandwidths offered
/// (the wider of each side's own offers). Otherwise the first codec of
/// `preference` that both offer, then the first of `ours` that they offer
/// (so a common codec is always found); `None` when there is none.
pub fn negotiate(ours: &[Codec], theirs: &[Codec], preference: &[Codec]) -> Option<Codec> {
    let widest = |offer: &[Codec]| {
        offer
            .iter()
            .filter_map(|codec| match codec {
                Codec::Opus(bandwidth) => Some(*bandwidth),
                _ => None,
            })
            .max()
    };
    if let (Some(a), Some(b)) = (widest(ours), widest(theirs)) {
        return Some(Codec::Opus(a.min(b)));
    }
    let common =
        |codec: &&Codec| !codec.is_opus() && ours.contains(codec) && theirs.contains(codec);
    preference
        .iter()
        .find(common)
        .or_else(|| ours.iter().find(common))
        .copied()
}

#[cfg(test)]
mod tests {
    use super::*;
    use Codec::*;
    use OpusBandwidth::*;

    #[test]
    fn rates_and_payload_types() {
        assert_eq!((Pcma.pcm_rate(), Pcma.rtp_clock_rate()), (8000, 8000));
        assert_eq!(Opus(Wideband).pcm_rate(), 16_000);
        assert_eq!(Opus(Narrowband).rtp_clock_rate(), 48_000);
        assert_eq!(Pcmu.payload_type(), PayloadType(0));
        assert_eq!(Opus(Narrowband).payload_type(), PayloadType(111));
        let ptime = Duration::from_millis(20);
        assert_eq!(Pcma.samples_per_frame(ptime), 160);
        assert_eq!(Opus(Wideband).samples_per_frame(ptime), 320);
        assert_eq!(Opus(Wideband).timestamp_per_frame(ptime), 960);
        assert_eq!((G722.pcm_rate(), G722.rtp_clock_rate()), (16_000, 8000));
        assert_eq!(G722.payload_type(), PayloadType(9));
        assert_eq!(G722.samples_per_frame(ptime), 320);
        assert_eq!(
            G722.timestamp_per_frame(ptime),
            160,
            "RFC 3551: 8 kHz clock"
        );
    }

    #[test]
    fn ptime_must_suit_the_codec() {
        let ms = Duration::from_millis;
        assert!(Pcma.check_ptime(ms(30)).is_ok());
        assert!(Pcma.check_ptime(ms(25)).is_err());
        assert!(Pcma.check_ptime(ms(0)).is_err());
        assert!(Opus(Narrowband).check_ptime(ms(40)).is_ok());
        assert!(Opus(Narrowband).check_ptime(ms(30)).is_err());
        assert!(Pcmu.check_ptime(Duration::from_micros(20_500)).is_err());
    }

    #[test]
    fn opus_only_when_both_offer_it() {
        let pref = Codec::DEFAULT_PREFERENCE;
        assert_eq!(
            negotiate(
                &[Opus(Wideband), Pcma],
                &[Opus(Wideband), Pcmu, Pcma],
                &pref
            ),
            Some(Opus(Wideband))
        );
        assert_eq!(
            negotiate(&[Opus(Wideband), Pcma], &[Opus(Narrowband), Pcma], &pref),
            Some(Opus(Narrowband))
        );
        assert_eq!(
            negotiate(&[Opus(Wideband), Pcmu, Pcma], &[Pcmu, Pcma], &pref),
            Some(Pcma)
        );
    }

    #[test]
    fn g722_before_g711_only_when_both_offer_it() {
        let pref = Codec::DEFAULT_PREFERENCE;
        assert_eq!(
            negotiate(&[G722, Pcma, Pcmu], &[Pcma, G722], &pref),
            Some(G722)
        );
        assert_eq!(
            negotiate(&[G722, Pcma, Pcmu], &[Pcma, Pcmu], &pref),
            Some(Pcma)
        );
        assert_eq!(negotiate(&[Pcma], &[G722, Pcma], &pref), Some(Pcma));
        assert_eq!(
            negotiate(
                &[Opus(Wideband), G722, Pcma],
                &[Opus(Wideband), G722],
                &pref
            ),
            Some(Opus(Wideband))
        );
        assert_eq!(
            negotiate(&[G722, Pcma], &[G722, Pcma], &[Pcma, G722]),
            Some(Pcma),
            "the configured preference rules"
        );
    }

    #[test]
    fn g711_follows_the_preference_then_our_order() {
        assert_eq!(
            negotiate(&[Pcmu, Pcma], &[Pcmu, Pcma], &[Pcma, Pcmu]),
            Some(Pcma)
        );
        assert_eq!(
            negotiate(&[Pcmu, Pcma], &[Pcmu, Pcma], &[Pcmu, Pcma]),
            Some(Pcmu)
        );
        assert_eq!(negotiate(&[Pcmu, Pcma], &[Pcma], &[Pcmu]), Some(Pcma));
        assert_eq!(negotiate(&[Pcmu, Pcma], &[Pcmu, Pcma], &[]), Some(Pcmu));
        assert_eq!(
            negotiate(&[Pcma], &[Pcmu], &Codec::DEFAULT_PREFERENCE),
            None
        );
        assert_eq!(
            negotiate(&[Opus(Narrowband)], &[Pcmu], &[Opus(Narrowband)]),
            None
        );
    }
}
