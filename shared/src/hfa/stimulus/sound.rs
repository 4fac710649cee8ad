//! Stimulus bodies for the ringer and tones. Each `Codec` impl
//! reads and writes the bytes after the request code.

use bytes::{Buf, BufMut};

use crate::hfa::coding::{Codec, get_array};
use crate::hfa::error::{DecodeError, EncodeError};

/// Cadence times of Start Ringer count in units of this many ms.
pub const RINGER_CADENCE_UNIT_MS: u32 = 50;

/// Cadence times of Start Tone count in units of this many ms.
pub const TONE_CADENCE_UNIT_MS: u32 = 25;

/// Start Tone frequencies count in units of about this many Hz.
pub const TONE_FREQUENCY_UNIT_HZ: u32 = 60;

/// An on/off pair: `pulse` sounds, then `pause` is silent. Units: 50 ms for
/// the ringer, 25 ms for tones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Cadence {
    /// Sounding time, in units.
    pub pulse: u8,
    /// Silent time, in units.
    pub pause: u8,
}

/// The ringer volume byte: `0x90 + volume − 1`; a byte below 0x90 asks for
/// an information tone (beep) instead of ringing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RingerVolume(pub u8);

impl RingerVolume {
    const BASE: u8 = 0x90;

    /// Ringing at `volume` (1-112).
    pub fn ring(volume: u8) -> Option<Self> {
        volume
            .checked_sub(1)
            .and_then(|v| v.checked_add(Self::BASE))
            .map(Self)
    }

    /// The ringing volume; `None` for an information tone.
    pub fn volume(self) -> Option<u8> {
        self.0.checked_sub(Self::BASE).map(|v| v + 1)
    }
}

/// The ringer sound byte: `0x30 + sound − 1`; a byte below 0x30 asks for an
/// information tone (beep) instead of ringing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RingerSound(pub u8);

impl RingerSound {
    const BASE: u8 = 0x30;

    /// Ring sound number `sound` (1-208).
    pub fn ring(sound: u8) -> Option<Self> {
        sound
            .checked_sub(1)
            .and_then(|s| s.checked_add(Self::BASE))
            .map(Self)
    }

    /// The ring sound number; `None` for an information tone.
    pub fn sound(self) -> Option<u8> {
        self.0.checked_sub(Self::BASE).map(|s| s + 1)
    }
}

/// 0x55 start ringer: `volume, sound, pulse, pause[, pulse, pause]`, times
/// in 50 ms units. A third byte pair or more is ignored on receipt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct StartRinger {
    /// Volume byte.
    pub volume: RingerVolume,
    /// Sound byte.
    pub sound: RingerSound,
    /// First on/off pair.
    pub cadence: Cadence,
    /// Optional second on/off pair.
    pub second: Option<Cadence>,
}

impl StartRinger {
    /// True when the bytes ask for an information tone (beep) rather than
    /// ringing: the volume or the sound byte is below its base.
    pub fn is_information_tone(&self) -> bool {
        self.volume.volume().is_none() || self.sound.sound().is_none()
    }
}

impl Codec for StartRinger {
    fn decode<B: Buf>(buf: &mut B) -> Result<Self, DecodeError> {
        let [volume, sound, pulse, pause] = get_array(buf, "start ringer")?;
        let second = match get_array(buf, "start ringer") {
            Ok([pulse, pause]) => Some(Cadence { pulse, pause }),
            Err(_) => None,
        };
        buf.advance(buf.remaining());
        let (volume, sound) = (RingerVolume(volume), RingerSound(sound));
        Ok(Self {
            volume,
            sound,
            cadence: Cadence { pulse, pause },
            second,
        })
    }

    fn encode<B: BufMut>(&self, buf: &mut B) -> Result<(), EncodeError> {
        let Cadence { pulse, pause } = self.cadence;
        buf.put_slice(&[self.volume.0, self.sound.0, pulse, pause]);
        if let Some(Cadence { pulse, pause }) = self.second {
            buf.put_slice(&[pulse, pause]);
        }
        Ok(())
    }
}

/// The Start Tone flags byte: `0xC0` mode, `0x20` loop, `0x1F` volume.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ToneFlags {
    /// Mode, 0-3 (bits 0xC0).
    pub mode: u8,
    /// Repeat the cadence (bit 0x20).
    pub looped: bool,
    /// Volume, 0-31 (bits 0x1F).
    pub volume: u8,
}

impl From<u8> for ToneFlags {
    fn from(byte: u8) -> Self {
        Self {
            mode: byte >> 6,
            looped: byte & 0x20 != 0,
            volume: byte & 0x1F,
        }
    }
}

impl From<ToneFlags> for u8 {
    fn from(flags: ToneFlags) -> Self {
        (flags.mode & 0x03) << 6 | if flags.looped { 0x20 } else { 0 } | flags.volume & 0x1F
    }
}

/// The on/off pairs of a tone: one pair or three.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ToneCadence {
    /// One pair.
    Single(Cadence),
    /// Three pairs, played in turn.
    Triple([Cadence; 3]),
}

/// 0x58 start tone: `flags, f1, f2, f3, pulse, pause[, pulse, pause, pulse,
/// pause]`; frequencies in ≈60 Hz units, times in 25 ms units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct StartTone {
    /// Mode, loop, volume.
    pub flags: ToneFlags,
    /// Three frequencies, ≈60 Hz units (0 = unused).
    pub frequencies: [u8; 3],
    /// On/off pairs.
    pub cadence: ToneCadence,
}

impl Codec for StartTone {
    fn decode<B: Buf>(buf: &mut B) -> Result<Self, DecodeError> {
        let [flags, f1, f2, f3, pulse, pause] = get_array(buf, "start tone")?;
        let first = Cadence { pulse, pause };
        let cadence = match get_array(buf, "start tone") {
            Ok([p2, s2, p3, s3]) => ToneCadence::Triple([
                first,
                Cadence {
                    pulse: p2,
                    pause: s2,
                },
                Cadence {
                    pulse: p3,
                    pause: s3,
                },
            ]),
            Err(_) => ToneCadence::Single(first),
        };
        buf.advance(buf.remaining());
        Ok(Self {
            flags: flags.into(),
            frequencies: [f1, f2, f3],
            cadence,
        })
    }

    fn encode<B: BufMut>(&self, buf: &mut B) -> Result<(), EncodeError> {
        buf.put_u8(self.flags.into());
        buf.put_slice(&self.frequencies);
        let pairs = match &self.cadence {
            ToneCadence::Single(pair) => core::slice::from_ref(pair),
            ToneCadence::Triple(pairs) => pairs.as_slice(),
        };
        pairs
            .iter()
            .for_each(|pair| buf.put_slice(&[pair.pulse, pair.pause]));
        Ok(())
    }
}
