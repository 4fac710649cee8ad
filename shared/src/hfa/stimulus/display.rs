//! Stimulus bodies for the display, clock, function-key labels and menus.
//! Each `Codec` impl reads and writes the bytes after the request code.

use bytes::{Buf, BufMut};

use super::key::Key;
use crate::hfa::code::wire_code;
use crate::hfa::coding::{Codec, get_array, get_u8, len_u8, rest, take};
use crate::hfa::error::{DecodeError, EncodeError};
use crate::hfa::text::Text;

/// 0x43 set display: `row, column, attributes, text`.
///
/// Ours: the attributes byte is sent as 0 and ignored on receipt; the text
/// is Latin-1 and runs to the end of the body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetDisplay {
    /// Display row, from 0.
    pub row: u8,
    /// Column, from 0.
    pub column: u8,
    /// The text to write there.
    pub text: Text,
}

impl Codec for SetDisplay {
    fn decode<B: Buf>(buf: &mut B) -> Result<Self, DecodeError> {
        let [row, column, _attributes] = get_array(buf, "set display")?;
        let text = Text::from_wire(rest(buf), "display text")?;
        Ok(Self { row, column, text })
    }

    fn encode<B: BufMut>(&self, buf: &mut B) -> Result<(), EncodeError> {
        buf.put_slice(&[self.row, self.column, 0]);
        buf.put_slice(self.text.as_bytes());
        Ok(())
    }
}

/// 0x45 clear display range: `row, column, length`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClearDisplay {
    /// Display row, from 0.
    pub row: u8,
    /// First column, from 0.
    pub column: u8,
    /// Number of characters to clear.
    pub len: u8,
}

impl Codec for ClearDisplay {
    fn decode<B: Buf>(buf: &mut B) -> Result<Self, DecodeError> {
        let [row, column, len] = get_array(buf, "clear display")?;
        Ok(Self { row, column, len })
    }

    fn encode<B: BufMut>(&self, buf: &mut B) -> Result<(), EncodeError> {
        buf.put_slice(&[self.row, self.column, self.len]);
        Ok(())
    }
}

/// 0x48 show clock: `row, column, clock id` (0x49 hide clock has the id only).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ShowClock {
    /// Display row, from 0.
    pub row: u8,
    /// Column, from 0.
    pub column: u8,
    /// Which clock (date, time, call timer).
    pub clock_id: u8,
}

impl Codec for ShowClock {
    fn decode<B: Buf>(buf: &mut B) -> Result<Self, DecodeError> {
        let [row, column, clock_id] = get_array(buf, "show clock")?;
        Ok(Self {
            row,
            column,
            clock_id,
        })
    }

    fn encode<B: BufMut>(&self, buf: &mut B) -> Result<(), EncodeError> {
        buf.put_slice(&[self.row, self.column, self.clock_id]);
        Ok(())
    }
}

wire_code! {
    /// The time format of Set Clock (Known codes).
    pub struct ClockFormat(u8) {
        /// 12-hour clock.
        H12 = 1 => "12 h",
        /// 24-hour clock.
        H24 = 2 => "24 h",
    }
}

/// 0x4a set clock: `format, seconds, minutes, hours`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SetClock {
    /// 12 or 24 hours.
    pub format: ClockFormat,
    /// 0-59.
    pub seconds: u8,
    /// 0-59.
    pub minutes: u8,
    /// 0-23.
    pub hours: u8,
}

impl Codec for SetClock {
    fn decode<B: Buf>(buf: &mut B) -> Result<Self, DecodeError> {
        let [format, seconds, minutes, hours] = get_array(buf, "set clock")?;
        Ok(Self {
            format: ClockFormat(format),
            seconds,
            minutes,
            hours,
        })
    }

    fn encode<B: BufMut>(&self, buf: &mut B) -> Result<(), EncodeError> {
        buf.put_slice(&[self.format.0, self.seconds, self.minutes, self.hours]);
        Ok(())
    }
}

/// One label of Set FPK Text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FpkLabel {
    /// The function key. Its wire byte is `index + 0x11` with a 1-based
    /// index, which is the key code of FPK `index`.
    pub key: Key,
    /// The label, Latin-1.
    pub text: Text,
}

/// 0x6b set function-key text: `level`, then per key `index + 0x11,
/// length, text`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetFpkText {
    /// The key level (page) the labels belong to.
    pub level: u8,
    /// The labels.
    pub labels: Vec<FpkLabel>,
}

impl Codec for SetFpkText {
    fn decode<B: Buf>(buf: &mut B) -> Result<Self, DecodeError> {
        let level = get_u8(buf, "FPK level")?;
        let mut labels = Vec::new();
        while buf.has_remaining() {
            let key = Key(get_u8(buf, "FPK index")?);
            let len = get_u8(buf, "FPK text length")?;
            let text = Text::from_wire(take(buf, len.into(), "FPK text")?, "FPK text")?;
            labels.push(FpkLabel { key, text });
        }
        Ok(Self { level, labels })
    }

    fn encode<B: BufMut>(&self, buf: &mut B) -> Result<(), EncodeError> {
        buf.put_u8(self.level);
        for label in &self.labels {
            buf.put_u8(label.key.0);
            buf.put_u8(len_u8(label.text.len(), "FPK text")?);
            buf.put_slice(label.text.as_bytes());
        }
        Ok(())
    }
}

/// 0x5e setup menu: `item count`, then 2 bytes per item (kept raw: their
/// meaning is not public). Bytes after the counted items are ignored.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SetupMenu {
    /// The items.
    pub items: Vec<[u8; 2]>,
}

impl Codec for SetupMenu {
    fn decode<B: Buf>(buf: &mut B) -> Result<Self, DecodeError> {
        let count = get_u8(buf, "menu item count")?;
        let items = (0..count)
            .map(|_| get_array(buf, "menu item"))
            .collect::<Result<_, _>>()?;
        buf.advance(buf.remaining());
        Ok(Self { items })
    }

    fn encode<B: BufMut>(&self, buf: &mut B) -> Result<(), EncodeError> {
        buf.put_u8(len_u8(self.items.len(), "menu items")?);
        self.items.iter().for_each(|item| buf.put_slice(item));
        Ok(())
    }
}

/// One item of Set Menu Item (0x72): `tag, item id, length, text`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MenuItem {
    /// The first byte; its meaning is not public. Ours: sent as 0.
    pub tag: u8,
    /// The item id.
    pub id: u8,
    /// The item text, Latin-1.
    pub text: Text,
}

/// 0x72 set menu items.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SetMenuItems {
    /// The items.
    pub items: Vec<MenuItem>,
}

impl Codec for SetMenuItems {
    fn decode<B: Buf>(buf: &mut B) -> Result<Self, DecodeError> {
        let mut items = Vec::new();
        while buf.has_remaining() {
            let [tag, id, len] = get_array(buf, "menu item")?;
            let text = Text::from_wire(take(buf, len.into(), "menu item text")?, "menu item text")?;
            items.push(MenuItem { tag, id, text });
        }
        Ok(Self { items })
    }

    fn encode<B: BufMut>(&self, buf: &mut B) -> Result<(), EncodeError> {
        for item in &self.items {
            buf.put_slice(&[
                item.tag,
                item.id,
                len_u8(item.text.len(), "menu item text")?,
            ]);
            buf.put_slice(item.text.as_bytes());
        }
        Ok(())
    }
}
