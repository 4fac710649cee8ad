//! `[media]`: which codec a call uses when both ends offer several.

use serde::Deserialize;
use shared::hfa::PayloadType;

/// A codec by name, as the configuration writes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CodecName {
    /// Opus (payload type 111): used only when both ends offer it.
    Opus,
    /// G.722 wideband (payload type 9), as OpenStage phones offer it.
    G722,
    /// G.711 A-law.
    Pcma,
    /// G.711 µ-law.
    Pcmu,
}

impl CodecName {
    pub fn payload_type(self) -> PayloadType {
        match self {
            Self::Opus => PayloadType::OPUS,
            Self::G722 => PayloadType::G722,
            Self::Pcma => PayloadType::PCMA,
            Self::Pcmu => PayloadType::PCMU,
        }
    }
}

/// The `[media]` section.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MediaSection {
    /// Codecs in the order the system prefers them. Default: Opus when both
    /// ends offer it, else G.722 (both ends wideband), else G.711 A-law (as
    /// in Europe), else µ-law.
    #[serde(default = "default_preference")]
    pub codec_preference: Vec<CodecName>,
}

fn default_preference() -> Vec<CodecName> {
    vec![
        CodecName::Opus,
        CodecName::G722,
        CodecName::Pcma,
        CodecName::Pcmu,
    ]
}

impl Default for MediaSection {
    fn default() -> Self {
        Self {
            codec_preference: default_preference(),
        }
    }
}
