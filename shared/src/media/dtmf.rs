//! DTMF as RFC 4733 telephone-events: the 4-byte payload, the sender's
//! schedule (a start packet with the marker bit, an update every packet
//! time, the end packet sent three times, §2.5.1) and the receiver's rule
//! of one digit per event (an event is its timestamp, so updates and
//! repeated end packets are the same event, §2.5.2).
//!
//! Events travel in the audio stream's sequence and timestamp space, at the
//! audio codec's RTP clock rate; while one is sent, audio packets are not.

use std::collections::VecDeque;

use super::error::CodecError;

/// Event codes 0-15 (RFC 4733 §3.2): the digits, `*`, `#`, `A`-`D`.
const DIGITS: &[u8; 16] = b"0123456789*#ABCD";

/// The event code of a DTMF digit (`a`-`d` accepted too).
pub fn event_of(digit: char) -> Option<u8> {
    let upper = u8::try_from(digit.to_ascii_uppercase()).ok()?;
    DIGITS
        .iter()
        .position(|&d| d == upper)
        .and_then(|i| u8::try_from(i).ok())
}

/// The DTMF digit of an event code; `None` for other events (flash...).
pub fn digit_of(event: u8) -> Option<char> {
    DIGITS.get(usize::from(event)).map(|&d| char::from(d))
}

/// A telephone-event payload (RFC 4733 §2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TelephoneEvent {
    /// The event code.
    pub event: u8,
    /// The E bit: the event has ended.
    pub end: bool,
    /// Power level, 0 to 63 as −dBm0.
    pub volume: u8,
    /// Duration so far, in timestamp units.
    pub duration: u16,
}

impl TelephoneEvent {
    /// Bytes on the wire.
    pub const LEN: usize = 4;
    /// The level we send: −10 dBm0, as RFC 4733 examples use.
    pub const VOLUME: u8 = 10;

    /// Reads the first event of a payload (RFC 2198 redundancy is not used).
    pub fn parse(payload: &[u8]) -> Result<Self, CodecError> {
        let &[event, flags, high, low, ..] = payload else {
            return Err(CodecError::TelephoneEvent(payload.len()));
        };
        Ok(Self {
            event,
            end: flags & 0x80 != 0,
            volume: flags & 0x3f,
            duration: u16::from_be_bytes([high, low]),
        })
    }

    /// The payload bytes.
    pub fn to_bytes(self) -> [u8; Self::LEN] {
        let flags = (u8::from(self.end) << 7) | (self.volume & 0x3f);
        let [high, low] = self.duration.to_be_bytes();
        [self.event, flags, high, low]
    }
}

/// One telephone-event packet to send in place of an audio packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DtmfPacket {
    /// Set on the first packet of an event.
    pub marker: bool,
    /// The event's start, the RTP timestamp of all its packets.
    pub timestamp: u32,
    /// The payload.
    pub event: TelephoneEvent,
}

#[derive(Debug, Clone, Copy)]
enum SendState {
    /// Between events; audio frames to let pass before the next one.
    Idle { gap: u32 },
    /// Sending updates.
    Tone { event: u8, start: u32, elapsed: u32 },
    /// Repeating the end packet; `sent` so far.
    Ending {
        event: u8,
        start: u32,
        duration: u16,
        sent: u8,
    },
}

/// Schedules the digits queued by the user onto the frame clock.
#[derive(Debug, Clone)]
pub struct DtmfSender {
    queue: VecDeque<u8>,
    state: SendState,
    /// Tone length, timestamp units.
    tone: u32,
    /// Audio frames between two events.
    gap: u32,
}

impl DtmfSender {
    /// How often the end packet goes out (RFC 4733 §2.5.1.4).
    const END_PACKETS: u8 = 3;

    /// A sender playing each digit for `tone` timestamp units, with `gap`
    /// audio frames between digits.
    pub fn new(tone: u32, gap: u32) -> Self {
        Self {
            queue: VecDeque::new(),
            state: SendState::Idle { gap: 0 },
            tone,
            gap,
        }
    }

    /// Queues a digit; false (and nothing queued) for a character that is
    /// not a DTMF digit.
    pub fn push(&mut self, digit: char) -> bool {
        event_of(digit)
            .map(|event| self.queue.push_back(event))
            .is_some()
    }

    /// Advances one frame that starts at RTP timestamp `ts` and lasts
    /// `frame` units: the event packet to send instead of audio, if any.
    pub fn tick(&mut self, ts: u32, frame: u32) -> Option<DtmfPacket> {
        let packet = |marker, start, event, end, duration: u32| DtmfPacket {
            marker,
            timestamp: start,
            event: TelephoneEvent {
                event,
                end,
                volume: TelephoneEvent::VOLUME,
                duration: u16::try_from(duration).unwrap_or(u16::MAX),
            },
        };
        match self.state {
            SendState::Idle { gap } if gap > 0 => {
                self.state = SendState::Idle { gap: gap - 1 };
                None
            }
            SendState::Idle { .. } => {
                let event = self.queue.pop_front()?;
                self.state = SendState::Tone {
                    event,
                    start: ts,
                    elapsed: frame,
                };
                Some(packet(true, ts, event, false, frame))
            }
            SendState::Tone {
                event,
                start,
                elapsed,
            } => {
                let elapsed = elapsed.saturating_add(frame);
                if elapsed < self.tone {
                    self.state = SendState::Tone {
                        event,
                        start,
                        elapsed,
                    };
                    return Some(packet(false, start, event, false, elapsed));
                }
                let end = packet(false, start, event, true, elapsed);
                self.state = SendState::Ending {
                    event,
                    start,
                    duration: end.event.duration,
                    sent: 1,
                };
                Some(end)
            }
            SendState::Ending {
                event,
                start,
                duration,
                sent,
            } => {
                self.state = if sent + 1 >= Self::END_PACKETS {
                    SendState::Idle { gap: self.gap }
                } else {
                    SendState::Ending {
                        event,
                        start,
                        duration,
                        sent: sent + 1,
                    }
                };
                Some(packet(false, start, event, true, u32::from(duration)))
            }
        }
    }
}

/// Turns received telephone-events into digits, once per event.
#[derive(Debug, Clone, Default)]
pub struct DtmfReceiver {
    /// Timestamp of the latest event seen.
    last: Option<u32>,
}

impl DtmfReceiver {
    /// Takes an event packet with RTP timestamp `ts`: the digit when it
    /// starts a new event. Packets of the current or an older event (updates,
    /// repeated ends, duplicates, stragglers) give nothing.
    pub fn receive(&mut self, ts: u32, event: &TelephoneEvent) -> Option<char> {
        if let Some(last) = self.last {
            // Wrap-safe "not after the latest event".
            if (ts.wrapping_sub(last) as i32) <= 0 {
                return None;
            }
        }
        self.last = Some(ts);
        digit_of(event.event)
    }

    /// Forgets the stream (a new source).
    pub fn reset(&mut self) {
        self.last = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_map_to_rfc_4733_event_codes() {
        assert_eq!(event_of('0'), Some(0));
        assert_eq!(event_of('*'), Some(10));
        assert_eq!(event_of('#'), Some(11));
        assert_eq!(event_of('d'), Some(15));
        assert_eq!(event_of('x'), None);
        assert_eq!(event_of('é'), None);
        assert_eq!(digit_of(11), Some('#'));
        assert_eq!(digit_of(16), None);
    }

    #[test]
    fn payload_round_trips_and_short_payloads_are_errors() {
        let event = TelephoneEvent {
            event: 5,
            end: true,
            volume: 10,
            duration: 800,
        };
        assert_eq!(event.to_bytes(), [5, 0x8a, 0x03, 0x20]);
        assert_eq!(TelephoneEvent::parse(&event.to_bytes()), Ok(event));
        assert_eq!(
            TelephoneEvent::parse(&[1, 2, 3]),
            Err(CodecError::TelephoneEvent(3))
        );
    }

    #[test]
    fn sender_sends_start_updates_three_ends_then_a_gap() {
        let mut sender = DtmfSender::new(800, 2);
        assert!(sender.push('7') && sender.push('#') && !sender.push('?'));
        let mut ts = 1000u32;
        let mut sent = Vec::new();
        for _ in 0..14 {
            sent.push(sender.tick(ts, 160));
            ts += 160;
        }
        type Summary = Option<(bool, u32, u8, bool, u16)>;
        let summary: Vec<Summary> = sent
            .iter()
            .map(|p| {
                p.map(|p| {
                    (
                        p.marker,
                        p.timestamp,
                        p.event.event,
                        p.event.end,
                        p.event.duration,
                    )
                })
            })
            .collect();
        assert_eq!(
            summary,
            vec![
                Some((true, 1000, 7, false, 160)),
                Some((false, 1000, 7, false, 320)),
                Some((false, 1000, 7, false, 480)),
                Some((false, 1000, 7, false, 640)),
                Some((false, 1000, 7, true, 800)),
                Some((false, 1000, 7, true, 800)),
                Some((false, 1000, 7, true, 800)),
                None,
                None,
                Some((true, 2440, 11, false, 160)),
                Some((false, 2440, 11, false, 320)),
                Some((false, 2440, 11, false, 480)),
                Some((false, 2440, 11, false, 640)),
                Some((false, 2440, 11, true, 800)),
            ]
        );
    }

    #[test]
    fn receiver_reports_each_event_once() {
        let mut sender = DtmfSender::new(800, 1);
        for digit in "1123".chars() {
            sender.push(digit);
        }
        let mut receiver = DtmfReceiver::default();
        let mut digits = String::new();
        let mut ts = u32::MAX - 2000; // the timestamp wraps during the run
        let mut packets = Vec::new();
        for _ in 0..60 {
            if let Some(p) = sender.tick(ts, 160) {
                packets.push(p);
            }
            ts = ts.wrapping_add(160);
        }
        // Each packet arrives twice, and an old end packet straggles in.
        for (i, p) in packets.iter().enumerate() {
            for _ in 0..2 {
                digits.extend(receiver.receive(p.timestamp, &p.event));
            }
            if i == 20 {
                digits.extend(receiver.receive(packets[0].timestamp, &packets[6].event));
            }
        }
        assert_eq!(digits, "1123");
        receiver.reset();
        assert_eq!(
            receiver.receive(packets[0].timestamp, &packets[0].event),
            Some('1')
        );
    }
}
