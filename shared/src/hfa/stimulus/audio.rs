//! Stimulus bodies for the audio path: the phone's audio state and the
//! system's microphone and volume setting.

use bytes::{Buf, BufMut};

use crate::hfa::coding::{Codec, get_array};
use crate::hfa::error::{DecodeError, EncodeError};

/// 0x4d audio state indication, one byte: `0x80` headset connected, `0x40`
/// off-hook, `0x30` B-channel, `0x0F` audio state. Kept as the byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AudioState(pub u8);

impl AudioState {
    /// Packs the fields; `b_channel` keeps its low 2 bits, `state` its low 4.
    pub fn new(headset_connected: bool, off_hook: bool, b_channel: u8, state: u8) -> Self {
        let flag = |on: bool, bit: u8| if on { bit } else { 0 };
        Self(
            flag(headset_connected, 0x80)
                | flag(off_hook, 0x40)
                | (b_channel & 0x03) << 4
                | state & 0x0F,
        )
    }

    /// Bit 0x80.
    pub fn headset_connected(self) -> bool {
        self.0 & 0x80 != 0
    }

    /// Bit 0x40.
    pub fn off_hook(self) -> bool {
        self.0 & 0x40 != 0
    }

    /// Bits 0x30.
    pub fn b_channel(self) -> u8 {
        (self.0 & 0x30) >> 4
    }

    /// Bits 0x0F.
    pub fn state(self) -> u8 {
        self.0 & 0x0F
    }
}

/// 0x54 set audio: `flags (0x10 microphone enabled), volume byte (low
/// nibble = volume − 1)`. Other bits are sent as 0 and ignored on receipt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SetAudio {
    /// Flag 0x10.
    pub microphone: bool,
    /// Volume 1-16 (other values are taken modulo 16).
    pub volume: u8,
}

impl Codec for SetAudio {
    fn decode<B: Buf>(buf: &mut B) -> Result<Self, DecodeError> {
        let [flags, volume] = get_array(buf, "set audio")?;
        Ok(Self {
            microphone: flags & 0x10 != 0,
            volume: (volume & 0x0F) + 1,
        })
    }

    fn encode<B: BufMut>(&self, buf: &mut B) -> Result<(), EncodeError> {
        buf.put_u8(if self.microphone { 0x10 } else { 0 });
        buf.put_u8(self.volume.wrapping_sub(1) & 0x0F);
        Ok(())
    }
}
