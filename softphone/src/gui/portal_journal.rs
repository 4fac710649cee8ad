//! The journal of the myPortal to go personality, read off the line's
//! call views as the gateway sends them: ringing here makes an incoming
//! call, a dial an outgoing one, connected starts the clock, and ended or
//! idle after any of these writes the entry (missed when never connected).

use std::time::Instant;

use shared::portal::{CallState, CallView};

use super::journal::{Entry, Kind};

/// A call being followed.
#[derive(Debug, Clone)]
struct Current {
    incoming: bool,
    number: String,
    label: String,
    time: String,
    connected: Option<Instant>,
    /// A state of this call has been seen: the stream may still show the
    /// idle line of before the dial, which must not end it.
    seen: bool,
}

/// Follows the call views; writes an entry when a call is over.
#[derive(Debug, Default)]
pub struct CallTracker {
    current: Option<Current>,
}

impl CallTracker {
    /// The user dialled `number`.
    pub fn dialled(&mut self, number: &str, time: String) {
        self.current = Some(Current {
            incoming: false,
            number: number.to_owned(),
            label: number.to_owned(),
            time,
            connected: None,
            seen: false,
        });
    }

    /// Reads the line's new `view`; the finished call, if one ended.
    pub fn changed(
        &mut self,
        now: Instant,
        view: &CallView,
        time: impl FnOnce() -> String,
    ) -> Option<Entry> {
        match view.state {
            CallState::Idle | CallState::Ended => {
                if !self.current.as_ref().is_some_and(|call| call.seen) {
                    return None;
                }
                let call = self.current.take()?;
                let kind = match (call.incoming, call.connected) {
                    (true, None) => Kind::Missed,
                    (true, Some(_)) => Kind::Received,
                    (false, _) => Kind::Dialled,
                };
                Some(Entry {
                    kind,
                    number: call.number,
                    label: call.label,
                    time: call.time,
                    seconds: call.connected.map_or(0, |since| (now - since).as_secs()),
                })
            }
            state => {
                let peer = view.peer.clone().unwrap_or_default();
                let call = self.current.get_or_insert_with(|| Current {
                    incoming: state == CallState::Ringing,
                    number: number_of(&peer),
                    label: peer.clone(),
                    time: time(),
                    connected: None,
                    seen: false,
                });
                call.seen = true;
                if !peer.is_empty() {
                    call.label = peer;
                }
                if state == CallState::Connected {
                    call.connected.get_or_insert(now);
                }
                None
            }
        }
    }
}

/// The number at the start of what the gateway shows ("202 Ben" → "202").
fn number_of(peer: &str) -> String {
    peer.split_whitespace()
        .next()
        .filter(|word| {
            word.chars()
                .all(|ch| ch.is_ascii_digit() || ch == '*' || ch == '#')
        })
        .unwrap_or_default()
        .to_owned()
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn view(state: CallState, peer: Option<&str>) -> CallView {
        CallView {
            state,
            peer: peer.map(str::to_owned),
            reason: None,
            media: None,
        }
    }

    #[test]
    fn calls_become_entries_when_they_end() {
        let start = Instant::now();
        let time = || "2026-12-07 12:00".to_owned();
        let mut tracker = CallTracker::default();
        // Dialled: the stale idle line before the dial does not end it.
        tracker.dialled("202", time());
        assert!(
            tracker
                .changed(start, &view(CallState::Idle, None), time)
                .is_none()
        );
        tracker.changed(start, &view(CallState::Calling, Some("202 Ben")), time);
        tracker.changed(start, &view(CallState::Connected, Some("202 Ben")), time);
        let later = start + Duration::from_secs(65);
        let entry = tracker
            .changed(later, &view(CallState::Ended, Some("202 Ben")), time)
            .expect("an entry");
        assert_eq!((entry.kind, entry.seconds), (Kind::Dialled, 65));
        assert_eq!(
            (entry.number.as_str(), entry.label.as_str()),
            ("202", "202 Ben")
        );
        assert!(
            tracker
                .changed(later, &view(CallState::Idle, None), time)
                .is_none()
        );

        // Rang and was not answered: missed, with the caller's number.
        tracker.changed(later, &view(CallState::Ringing, Some("201 Anna")), time);
        let missed = tracker
            .changed(later, &view(CallState::Idle, None), time)
            .expect("an entry");
        assert_eq!((missed.kind, missed.number.as_str()), (Kind::Missed, "201"));

        // Answered.
        tracker.changed(later, &view(CallState::Ringing, Some("Echo test")), time);
        tracker.changed(later, &view(CallState::Connected, Some("Echo test")), time);
        let received = tracker
            .changed(
                later + Duration::from_secs(3),
                &view(CallState::Ended, None),
                time,
            )
            .expect("an entry");
        assert_eq!((received.kind, received.seconds), (Kind::Received, 3));
        assert_eq!(received.number, "");
    }
}
