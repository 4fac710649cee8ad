//! Stimulus (0x20): the phone reports keys and the hook switch; the system
//! drives display, function-key labels, LEDs, ringer, tones and audio.
//!
//! Body byte 0 is the request code (the whole byte); the rest depends on
//! it. On receipt, bytes after a request's known layout are ignored; codes
//! this crate does not know are kept raw in [`Stimulus::Unknown`].

mod audio;
mod codec;
mod display;
mod init;
mod key;
mod sound;
#[cfg(test)]
mod tests;

use bytes::Bytes;

pub use audio::{AudioState, SetAudio};
pub use display::{
    ClearDisplay, ClockFormat, FpkLabel, MenuItem, SetClock, SetDisplay, SetFpkText, SetMenuItems,
    SetupMenu, ShowClock,
};
pub use init::{BasicPhoneInit, IpPhoneInitData, PhoneInit, PhoneInitFlags, SetContrast};
pub use key::{Key, LedState};
pub use sound::{
    Cadence, RINGER_CADENCE_UNIT_MS, RingerSound, RingerVolume, StartRinger, StartTone,
    TONE_CADENCE_UNIT_MS, TONE_FREQUENCY_UNIT_HZ, ToneCadence, ToneFlags,
};

use super::code::wire_code;
use super::text::Text;

wire_code! {
    /// The request code, stimulus body byte 0 (Known codes).
    pub struct StimulusCode(u8) {
        /// Key press (1 byte) or LED (2 bytes).
        KEY_LED = 0x40 => "Key/LED",
        /// Hook switch off-hook.
        OFF_HOOK = 0x41 => "Off-hook",
        /// Hook switch on-hook.
        ON_HOOK = 0x42 => "On-hook",
        /// Write text on the display.
        SET_DISPLAY = 0x43 => "Set Display",
        /// Clear part of a display row.
        CLEAR_DISPLAY = 0x45 => "Clear Display",
        /// The phone announces itself after start-up.
        PHONE_INIT_REQUEST = 0x46 => "Phone Init Request",
        /// Display and key contrast.
        SET_CONTRAST = 0x47 => "Set Contrast",
        /// Show a clock on the display.
        SHOW_CLOCK = 0x48 => "Show Clock",
        /// Hide a clock.
        HIDE_CLOCK = 0x49 => "Hide Clock",
        /// Set the phone's clock.
        SET_CLOCK = 0x4a => "Set Clock",
        /// Language, time format, contrast, time.
        BASIC_PHONE_INIT = 0x4b => "Basic Phone Init",
        /// The phone reports its audio state.
        AUDIO_STATE_INDICATION = 0x4d => "Audio State Indication",
        /// The system asks for the audio state.
        AUDIO_STATE_REQUEST = 0x53 => "Audio State Request",
        /// Microphone and volume.
        SET_AUDIO = 0x54 => "Set Audio",
        /// Ring, or beep an information tone.
        START_RINGER = 0x55 => "Start Ringer",
        /// Stop ringing.
        STOP_RINGER = 0x56 => "Stop Ringer",
        /// Play a tone (dial, ring-back, busy).
        START_TONE = 0x58 => "Start Tone",
        /// Stop the tone.
        STOP_TONE = 0x59 => "Stop Tone",
        /// Ringer volume.
        SET_RINGER_VOLUME = 0x5b => "Set Ringer Volume",
        /// Handsfree room characteristics.
        HANDSFREE = 0x5c => "Handsfree",
        /// Set up the menu.
        SETUP_MENU = 0x5e => "Setup Menu",
        /// The phone's part number.
        PART_NUMBER = 0x60 => "Part Number",
        /// Function-key labels.
        SET_FPK_TEXT = 0x6b => "Set FPK Text",
        /// Function-key level (page).
        SET_FPK_LEVEL = 0x6e => "Set FPK Level",
        /// Menu item texts.
        SET_MENU_ITEM = 0x72 => "Set Menu Item",
        /// The phone's IP data.
        IP_PHONE_INIT_DATA = 0x7d => "IP Phone Init Data",
    }
}

/// A stimulus request, by request code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stimulus {
    /// 0x40 with 1 byte: a key was pressed (code modulo 0x40).
    KeyPress(Key),
    /// 0x40 with 2 bytes: set the LED of `key`.
    Led {
        /// The key whose LED changes.
        key: Key,
        /// Its new state.
        state: LedState,
    },
    /// 0x41.
    OffHook,
    /// 0x42.
    OnHook,
    /// 0x43.
    SetDisplay(SetDisplay),
    /// 0x45.
    ClearDisplay(ClearDisplay),
    /// 0x46.
    PhoneInit(PhoneInit),
    /// 0x47.
    SetContrast(SetContrast),
    /// 0x48.
    ShowClock(ShowClock),
    /// 0x49: the clock id.
    HideClock {
        /// Which clock.
        clock_id: u8,
    },
    /// 0x4a.
    SetClock(SetClock),
    /// 0x4b.
    BasicPhoneInit(BasicPhoneInit),
    /// 0x4d.
    AudioStateIndication(AudioState),
    /// 0x53.
    AudioStateRequest,
    /// 0x54.
    SetAudio(SetAudio),
    /// 0x55.
    StartRinger(StartRinger),
    /// 0x56.
    StopRinger,
    /// 0x58.
    StartTone(StartTone),
    /// 0x59.
    StopTone,
    /// 0x5b: wire byte `volume − 1`.
    SetRingerVolume {
        /// Ringer volume, from 1 (0 wraps to wire byte 0xff).
        volume: u8,
    },
    /// 0x5c: room characteristics, the low 2 bits.
    Handsfree {
        /// 0-3; higher bits are dropped.
        room: u8,
    },
    /// 0x5e.
    SetupMenu(SetupMenu),
    /// 0x60: ASCII to the end of the body.
    PartNumber(Text),
    /// 0x6b.
    SetFpkText(SetFpkText),
    /// 0x6e.
    SetFpkLevel {
        /// The level (page) to show.
        level: u8,
    },
    /// 0x72.
    SetMenuItems(SetMenuItems),
    /// 0x7d.
    IpPhoneInitData(IpPhoneInitData),
    /// A request code this crate does not know, kept raw.
    Unknown {
        /// Body byte 0.
        code: StimulusCode,
        /// The bytes after it.
        data: Bytes,
    },
}
