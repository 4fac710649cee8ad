//! Wrap-safe extension of RTP's 16-bit sequence numbers and 32-bit
//! timestamps, and a window of recently seen sequence numbers.
//!
//! Both counters start at random values (RFC 3550 §5.1) and wrap: a call of
//! a few minutes wraps a 16-bit sequence number at 20 ms per packet. Every
//! comparison is therefore made on *extended* values (`i64`), obtained by
//! taking the value nearest to a reference already extended.

/// Extends `seq` to the value nearest to `reference` (an extended sequence
/// number), so that 0 just after 65535 counts as 65536.
pub fn extend_seq(reference: i64, seq: u16) -> i64 {
    // Truncation intended: only the low 16 bits of the reference matter.
    let delta = seq.wrapping_sub(reference as u16) as i16;
    reference + i64::from(delta)
}

/// Extends `ts` to the value nearest to `reference` (an extended timestamp).
pub fn extend_ts(reference: i64, ts: u32) -> i64 {
    // Truncation intended: only the low 32 bits of the reference matter.
    let delta = ts.wrapping_sub(reference as u32) as i32;
    reference + i64::from(delta)
}

/// Which of the last 128 extended sequence numbers were seen: tells a
/// duplicate from a first arrival in O(1), with no allocation.
#[derive(Debug, Clone, Default)]
pub struct SeqWindow {
    /// The highest extended sequence number seen, if any.
    highest: Option<i64>,
    /// Bit `i` set: `highest - i` was seen.
    bits: u128,
}

impl SeqWindow {
    /// How far back the window remembers.
    pub const SPAN: i64 = 128;

    /// Records `ext_seq`; false when it was seen before. A number older than
    /// the window counts as new (nothing is known about it).
    pub fn insert(&mut self, ext_seq: i64) -> bool {
        let Some(highest) = self.highest else {
            self.highest = Some(ext_seq);
            self.bits = 1;
            return true;
        };
        if ext_seq > highest {
            let shift = ext_seq - highest;
            self.bits = if shift >= Self::SPAN {
                0
            } else {
                self.bits << shift
            };
            self.bits |= 1;
            self.highest = Some(ext_seq);
            return true;
        }
        let age = highest - ext_seq;
        if age >= Self::SPAN {
            return true;
        }
        let bit = 1u128 << age;
        let new = self.bits & bit == 0;
        self.bits |= bit;
        new
    }

    /// Forgets everything (a new source).
    pub fn clear(&mut self) {
        *self = Self::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequence_numbers_extend_across_the_wrap_both_ways() {
        assert_eq!(extend_seq(65_535, 0), 65_536);
        assert_eq!(extend_seq(65_536, 65_535), 65_535);
        assert_eq!(extend_seq(3 * 65_536 + 2, 65_534), 3 * 65_536 - 2);
        assert_eq!(extend_seq(0, 65_535), -1);
        assert_eq!(extend_seq(100, 100), 100);
    }

    #[test]
    fn timestamps_extend_across_the_wrap_both_ways() {
        let wrap = 1i64 << 32;
        assert_eq!(extend_ts(wrap - 160, 0), wrap);
        assert_eq!(extend_ts(wrap, u32::MAX - 159), wrap - 160);
        assert_eq!(extend_ts(5, 165), 165);
    }

    #[test]
    fn window_tells_duplicates_from_new_and_reordered() {
        let mut window = SeqWindow::default();
        assert!(window.insert(10));
        assert!(window.insert(12));
        assert!(window.insert(11), "reordered, first arrival");
        assert!(!window.insert(11), "duplicate");
        assert!(!window.insert(12), "duplicate of the highest");
        assert!(window.insert(500), "jump clears the window");
        assert!(window.insert(12), "older than the window: unknown, so new");
        window.clear();
        assert!(window.insert(500));
    }
}
