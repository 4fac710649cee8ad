//! Decoding and encoding of [`Stimulus`] bodies: request code, then the
//! request's own bytes.

use bytes::{Buf, BufMut};

use super::audio::AudioState;
use super::key::{Key, LedState};
use super::{Stimulus, StimulusCode};
use crate::hfa::coding::{Codec, get_u8, rest};
use crate::hfa::error::{DecodeError, EncodeError};
use crate::hfa::text::Text;

/// Key codes in a key press are taken modulo this (Known).
const KEY_PRESS_MODULUS: u8 = 0x40;

/// Handsfree room characteristics live in the low 2 bits.
const ROOM_MASK: u8 = 0x03;

impl Stimulus {
    /// The request code this stimulus is sent with.
    pub fn code(&self) -> StimulusCode {
        match self {
            Self::KeyPress(_) | Self::Led { .. } => StimulusCode::KEY_LED,
            Self::OffHook => StimulusCode::OFF_HOOK,
            Self::OnHook => StimulusCode::ON_HOOK,
            Self::SetDisplay(_) => StimulusCode::SET_DISPLAY,
            Self::ClearDisplay(_) => StimulusCode::CLEAR_DISPLAY,
            Self::PhoneInit(_) => StimulusCode::PHONE_INIT_REQUEST,
            Self::SetContrast(_) => StimulusCode::SET_CONTRAST,
            Self::ShowClock(_) => StimulusCode::SHOW_CLOCK,
            Self::HideClock { .. } => StimulusCode::HIDE_CLOCK,
            Self::SetClock(_) => StimulusCode::SET_CLOCK,
            Self::BasicPhoneInit(_) => StimulusCode::BASIC_PHONE_INIT,
            Self::AudioStateIndication(_) => StimulusCode::AUDIO_STATE_INDICATION,
            Self::AudioStateRequest => StimulusCode::AUDIO_STATE_REQUEST,
            Self::SetAudio(_) => StimulusCode::SET_AUDIO,
            Self::StartRinger(_) => StimulusCode::START_RINGER,
            Self::StopRinger => StimulusCode::STOP_RINGER,
            Self::StartTone(_) => StimulusCode::START_TONE,
            Self::StopTone => StimulusCode::STOP_TONE,
            Self::SetRingerVolume { .. } => StimulusCode::SET_RINGER_VOLUME,
            Self::Handsfree { .. } => StimulusCode::HANDSFREE,
            Self::SetupMenu(_) => StimulusCode::SETUP_MENU,
            Self::PartNumber(_) => StimulusCode::PART_NUMBER,
            Self::SetFpkText(_) => StimulusCode::SET_FPK_TEXT,
            Self::SetFpkLevel { .. } => StimulusCode::SET_FPK_LEVEL,
            Self::SetMenuItems(_) => StimulusCode::SET_MENU_ITEM,
            Self::IpPhoneInitData(_) => StimulusCode::IP_PHONE_INIT_DATA,
            Self::Unknown { code, .. } => *code,
        }
    }
}

fn decode_key_led<B: Buf>(buf: &mut B) -> Result<Stimulus, DecodeError> {
    let key = get_u8(buf, "key code")?;
    Ok(match get_u8(buf, "LED state") {
        Ok(state) => Stimulus::Led {
            key: Key(key),
            state: LedState(state),
        },
        Err(_) => Stimulus::KeyPress(Key(key % KEY_PRESS_MODULUS)),
    })
}

impl Codec for Stimulus {
    /// Reads the whole body; bytes after a request's layout are dropped.
    fn decode<B: Buf>(buf: &mut B) -> Result<Self, DecodeError> {
        let code = StimulusCode(get_u8(buf, "stimulus request code")?);
        let stimulus = match code {
            StimulusCode::KEY_LED => decode_key_led(buf)?,
            StimulusCode::OFF_HOOK => Self::OffHook,
            StimulusCode::ON_HOOK => Self::OnHook,
            StimulusCode::SET_DISPLAY => Self::SetDisplay(Codec::decode(buf)?),
            StimulusCode::CLEAR_DISPLAY => Self::ClearDisplay(Codec::decode(buf)?),
            StimulusCode::PHONE_INIT_REQUEST => Self::PhoneInit(Codec::decode(buf)?),
            StimulusCode::SET_CONTRAST => Self::SetContrast(Codec::decode(buf)?),
            StimulusCode::SHOW_CLOCK => Self::ShowClock(Codec::decode(buf)?),
            StimulusCode::HIDE_CLOCK => Self::HideClock {
                clock_id: get_u8(buf, "clock id")?,
            },
            StimulusCode::SET_CLOCK => Self::SetClock(Codec::decode(buf)?),
            StimulusCode::BASIC_PHONE_INIT => Self::BasicPhoneInit(Codec::decode(buf)?),
            StimulusCode::AUDIO_STATE_INDICATION => {
                Self::AudioStateIndication(AudioState(get_u8(buf, "audio state")?))
            }
            StimulusCode::AUDIO_STATE_REQUEST => Self::AudioStateRequest,
            StimulusCode::SET_AUDIO => Self::SetAudio(Codec::decode(buf)?),
            StimulusCode::START_RINGER => Self::StartRinger(Codec::decode(buf)?),
            StimulusCode::STOP_RINGER => Self::StopRinger,
            StimulusCode::START_TONE => Self::StartTone(Codec::decode(buf)?),
            StimulusCode::STOP_TONE => Self::StopTone,
            StimulusCode::SET_RINGER_VOLUME => Self::SetRingerVolume {
                volume: get_u8(buf, "ringer volume")?.wrapping_add(1),
            },
            StimulusCode::HANDSFREE => Self::Handsfree {
                room: get_u8(buf, "handsfree room")? & ROOM_MASK,
            },
            StimulusCode::SETUP_MENU => Self::SetupMenu(Codec::decode(buf)?),
            StimulusCode::PART_NUMBER => {
                Self::PartNumber(Text::from_wire(rest(buf), "part number")?)
            }
            StimulusCode::SET_FPK_TEXT => Self::SetFpkText(Codec::decode(buf)?),
            StimulusCode::SET_FPK_LEVEL => Self::SetFpkLevel {
                level: get_u8(buf, "FPK level")?,
            },
            StimulusCode::SET_MENU_ITEM => Self::SetMenuItems(Codec::decode(buf)?),
            StimulusCode::IP_PHONE_INIT_DATA => Self::IpPhoneInitData(Codec::decode(buf)?),
            _ => Self::Unknown {
                code,
                data: rest(buf),
            },
        };
        buf.advance(buf.remaining());
        Ok(stimulus)
    }

    fn encode<B: BufMut>(&self, buf: &mut B) -> Result<(), EncodeError> {
        buf.put_u8(self.code().0);
        match self {
            Self::KeyPress(key) => buf.put_u8(key.0 % KEY_PRESS_MODULUS),
            Self::Led { key, state } => buf.put_slice(&[key.0, state.0]),
            Self::OffHook
            | Self::OnHook
            | Self::AudioStateRequest
            | Self::StopRinger
            | Self::StopTone => {}
            Self::SetDisplay(body) => body.encode(buf)?,
            Self::ClearDisplay(body) => body.encode(buf)?,
            Self::PhoneInit(body) => body.encode(buf)?,
            Self::SetContrast(body) => body.encode(buf)?,
            Self::ShowClock(body) => body.encode(buf)?,
            Self::HideClock { clock_id } => buf.put_u8(*clock_id),
            Self::SetClock(body) => body.encode(buf)?,
            Self::BasicPhoneInit(body) => body.encode(buf)?,
            Self::AudioStateIndication(state) => buf.put_u8(state.0),
            Self::SetAudio(body) => body.encode(buf)?,
            Self::StartRinger(body) => body.encode(buf)?,
            Self::StartTone(body) => body.encode(buf)?,
            Self::SetRingerVolume { volume } => buf.put_u8(volume.wrapping_sub(1)),
            Self::Handsfree { room } => buf.put_u8(room & ROOM_MASK),
            Self::SetupMenu(body) => body.encode(buf)?,
            Self::PartNumber(text) => buf.put_slice(text.as_bytes()),
            Self::SetFpkText(body) => body.encode(buf)?,
            Self::SetFpkLevel { level } => buf.put_u8(*level),
            Self::SetMenuItems(body) => body.encode(buf)?,
            Self::IpPhoneInitData(body) => body.encode(buf)?,
            Self::Unknown { data, .. } => buf.put_slice(data),
        }
        Ok(())
    }
}
