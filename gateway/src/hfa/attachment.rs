//! An HFA phone as call control's device: renders indications as stimuli
//! and sends them to the phone's connection task.
//!
//! One thing needs state: the idle screen shows the date on the bottom row
//! when call control leaves that row empty. The date must be wiped again
//! when the clock changes away from the time of day, or the phone would
//! keep showing it under "Call from 201 Anna".

use jiff::ZonedDateTime;
use shared::hfa::Message;
use tokio::sync::mpsc::UnboundedSender;

use super::registry::{ConnectionCommand, ConnectionId};
use super::render;
use crate::calls::{AttachmentId, ClockKind, DeviceSink, DisplayRow, Indication};

/// What the bottom row holds, as far as the date is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BottomRow {
    Empty,
    Text,
    Date,
}

/// Call control's handle on one registered HFA phone.
#[derive(Debug)]
pub struct HfaAttachment {
    connection: ConnectionId,
    commands: UnboundedSender<ConnectionCommand>,
    bottom_row: BottomRow,
}

impl DeviceSink for HfaAttachment {
    fn attachment(&self) -> AttachmentId {
        self.connection.attachment()
    }

    /// Sends what makes the phone show `indication`.
    fn show(&mut self, indication: &Indication) {
        for message in self.messages_for(indication, &ZonedDateTime::now()) {
            // A closed channel means the connection is ending; its detach
            // follows, so there is nothing to do here.
            let _ = self
                .commands
                .send(ConnectionCommand::Send(Box::new(message)));
        }
    }
}

impl HfaAttachment {
    pub fn new(connection: ConnectionId, commands: UnboundedSender<ConnectionCommand>) -> Self {
        Self {
            connection,
            commands,
            bottom_row: BottomRow::Empty,
        }
    }

    fn messages_for(&mut self, indication: &Indication, now: &ZonedDateTime) -> Vec<Message> {
        let bottom = |text: String| {
            render::render(&Indication::Display {
                row: DisplayRow::Bottom,
                text,
            })
        };
        match indication {
            Indication::Display {
                row: DisplayRow::Bottom,
                text,
            } => {
                self.bottom_row = if text.is_empty() {
                    BottomRow::Empty
                } else {
                    BottomRow::Text
                };
                render::render(indication)
            }
            Indication::Clock(ClockKind::TimeOfDay) => {
                let mut messages = Vec::new();
                if self.bottom_row == BottomRow::Empty {
                    messages.extend(bottom(render::date_text(now.date())));
                    self.bottom_row = BottomRow::Date;
                }
                messages.extend(render::clock_messages(now.datetime()));
                messages
            }
            Indication::Clock(_) if self.bottom_row == BottomRow::Date => {
                self.bottom_row = BottomRow::Empty;
                bottom(String::new())
                    .into_iter()
                    .chain(render::render(indication))
                    .collect()
            }
            _ => render::render(indication),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::hfa::Stimulus;

    fn bottom_texts(messages: &[Message]) -> Vec<String> {
        messages
            .iter()
            .filter_map(|message| match message {
                Message::Stimulus(Stimulus::SetDisplay(display)) if display.row == 1 => Some(
                    String::from_utf8_lossy(display.text.as_bytes())
                        .trim_end()
                        .to_owned(),
                ),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn the_idle_date_is_drawn_on_an_empty_row_and_wiped_when_the_clock_goes() {
        let (commands, _rx) = tokio::sync::mpsc::unbounded_channel();
        let mut phone = HfaAttachment::new(ConnectionId(1), commands);
        let now = ZonedDateTime::now();
        let date = render::date_text(now.date());
        let idle = phone.messages_for(&Indication::Clock(ClockKind::TimeOfDay), &now);
        assert_eq!(bottom_texts(&idle), [date]);
        assert!(
            idle.iter()
                .any(|m| matches!(m, Message::Stimulus(Stimulus::SetClock(_))))
        );
        let ringing = phone.messages_for(&Indication::Clock(ClockKind::Hidden), &now);
        assert_eq!(bottom_texts(&ringing), [""]);
        // With text of call control's on the bottom row, no date.
        phone.messages_for(
            &Indication::Display {
                row: DisplayRow::Bottom,
                text: "Forwarded to 204".into(),
            },
            &now,
        );
        let forwarded = phone.messages_for(&Indication::Clock(ClockKind::TimeOfDay), &now);
        assert!(bottom_texts(&forwarded).is_empty());
        let hidden = phone.messages_for(&Indication::Clock(ClockKind::Hidden), &now);
        assert!(
            bottom_texts(&hidden).is_empty(),
            "call control's text is its own to clear"
        );
    }
}
