//! Key codes and LED states (Known).

use crate::hfa::code::wire_code;

wire_code! {
    /// A key of the phone. In a key press the code is taken modulo 0x40.
    pub struct Key(u8) {
        /// Digit 1.
        DIGIT_1 = 0x01 => "1",
        /// Digit 2.
        DIGIT_2 = 0x02 => "2",
        /// Digit 3.
        DIGIT_3 = 0x03 => "3",
        /// Digit 4.
        DIGIT_4 = 0x04 => "4",
        /// Digit 5.
        DIGIT_5 = 0x05 => "5",
        /// Digit 6.
        DIGIT_6 = 0x06 => "6",
        /// Digit 7.
        DIGIT_7 = 0x07 => "7",
        /// Digit 8.
        DIGIT_8 = 0x08 => "8",
        /// Digit 9.
        DIGIT_9 = 0x09 => "9",
        /// Digit 0.
        DIGIT_0 = 0x0a => "0",
        /// `*`.
        STAR = 0x0b => "*",
        /// `#`.
        HASH = 0x0c => "#",
        /// Volume +.
        VOLUME_UP = 0x0d => "Volume +",
        /// Volume −.
        VOLUME_DOWN = 0x0e => "Volume -",
        /// Navigation left.
        LEFT = 0x0f => "Left",
        /// Navigation right.
        RIGHT = 0x10 => "Right",
        /// OK.
        OK = 0x11 => "OK",
        /// Function key 1.
        FPK_1 = 0x12 => "FPK1",
        /// Function key 2.
        FPK_2 = 0x13 => "FPK2",
        /// Function key 3.
        FPK_3 = 0x14 => "FPK3",
        /// Function key 4.
        FPK_4 = 0x15 => "FPK4",
        /// Function key 5.
        FPK_5 = 0x16 => "FPK5",
        /// Function key 6.
        FPK_6 = 0x17 => "FPK6",
        /// Function key 7.
        FPK_7 = 0x18 => "FPK7",
        /// Function key 8.
        FPK_8 = 0x19 => "FPK8",
        /// Function key 9.
        FPK_9 = 0x1a => "FPK9",
        /// Function key 10.
        FPK_10 = 0x1b => "FPK10",
        /// Function key 11.
        FPK_11 = 0x1c => "FPK11",
        /// Function key 12.
        FPK_12 = 0x1d => "FPK12",
        /// Function key 13.
        FPK_13 = 0x1e => "FPK13",
        /// Function key 14.
        FPK_14 = 0x1f => "FPK14",
        /// Function key 15.
        FPK_15 = 0x20 => "FPK15",
        /// Function key 16.
        FPK_16 = 0x21 => "FPK16",
        /// Function key 17.
        FPK_17 = 0x22 => "FPK17",
        /// Function key 18.
        FPK_18 = 0x23 => "FPK18",
        /// Function key 19.
        FPK_19 = 0x24 => "FPK19",
        /// Function key 20.
        FPK_20 = 0x25 => "FPK20",
    }
}

/// Number of function keys with a code.
const FPK_COUNT: u8 = 20;

impl Key {
    /// The key for a dial-pad character: `0`-`9`, `*`, `#`.
    pub fn from_digit(ch: char) -> Option<Self> {
        match ch {
            '1'..='9' => ch.to_digit(10).and_then(|d| u8::try_from(d).ok()).map(Self),
            '0' => Some(Self::DIGIT_0),
            '*' => Some(Self::STAR),
            '#' => Some(Self::HASH),
            _ => None,
        }
    }

    /// The dial-pad character of this key, if it is one.
    pub fn digit(self) -> Option<char> {
        match self {
            Self::DIGIT_0 => Some('0'),
            Self::STAR => Some('*'),
            Self::HASH => Some('#'),
            Self(n @ 0x01..=0x09) => char::from_digit(n.into(), 10),
            _ => None,
        }
    }

    /// Function key `n` (1-20).
    pub fn fpk(n: u8) -> Option<Self> {
        (1..=FPK_COUNT).contains(&n).then(|| Self(Self::OK.0 + n))
    }

    /// The function key number (1-20) of this key, if it is one.
    pub fn fpk_number(self) -> Option<u8> {
        let n = self.0.checked_sub(Self::OK.0)?;
        (1..=FPK_COUNT).contains(&n).then_some(n)
    }
}

wire_code! {
    /// The state of a key's LED: off, on, or flashing (on/off times in ms).
    pub struct LedState(u8) {
        /// Off.
        OFF = 0 => "off",
        /// On.
        ON = 1 => "on",
        /// Flashing 50 ms on, 50 ms off.
        FLASH_50_50 = 2 => "flash 50/50",
        /// Flashing 450 ms on, 50 ms off.
        FLASH_450_50 = 3 => "flash 450/50",
        /// Flashing 500 ms on, 500 ms off.
        FLASH_500_500 = 4 => "flash 500/500",
        /// Flashing 50 ms on, 100 ms off.
        FLASH_50_100 = 5 => "flash 50/100",
        /// Flashing 250 ms on, 250 ms off.
        FLASH_250_250 = 6 => "flash 250/250",
        /// Flashing 750 ms on, 750 ms off.
        FLASH_750_750 = 7 => "flash 750/750",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dial_pad_characters_map_both_ways() {
        for ch in "0123456789*#".chars() {
            let key = Key::from_digit(ch);
            assert_eq!(key.and_then(Key::digit), Some(ch));
        }
        assert_eq!(Key::from_digit('5'), Some(Key::DIGIT_5));
        assert_eq!(Key::from_digit('0'), Some(Key(0x0a)));
        assert_eq!(Key::from_digit('a'), None);
        assert_eq!(Key::OK.digit(), None);
    }

    #[test]
    fn function_keys_are_0x12_to_0x25() {
        assert_eq!(Key::fpk(1), Some(Key(0x12)));
        assert_eq!(Key::fpk(20), Some(Key::FPK_20));
        assert_eq!(Key::fpk(0), None);
        assert_eq!(Key::fpk(21), None);
        assert_eq!(Key(0x25).fpk_number(), Some(20));
        assert_eq!(Key::OK.fpk_number(), None);
        assert_eq!(Key(0x26).fpk_number(), None);
        assert_eq!(format!("{:?}", Key::FPK_3), "Key(0x14 FPK3)");
    }
}
