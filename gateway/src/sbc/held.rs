//! The packets of the probation runs, held so that the run that latches
//! reaches the inner side whole: a phone's speech starts with its first
//! packet, and probation must not cost the office its first 40 ms.
//!
//! One ring per probation place of the latch ([`CANDIDATES`]), each with
//! the last `depth` packets of the run in that place (`depth` = probation
//! − 1, at most [`MAX_DEPTH`]). A run that starts (a new source in the
//! place, or an out-of-sequence packet restarting it) empties its ring
//! first, so a ring only ever holds packets of the one source whose run
//! it is: when that source latches, its ring is relayed in order before
//! the packet that latched it, and no other source's packets ever are.
//! The storage is allocated once, with the channel; holding a packet is a
//! copy into it.

use super::io::SLOT;
use super::latch::CANDIDATES;

/// At most this many packets are held per run: enough for a probation of
/// up to 5 packets (3 in use), bounded whatever is configured.
pub const MAX_DEPTH: usize = 4;

/// One place's ring: which of its `depth` slots hold packets, oldest first.
#[derive(Debug, Clone, Copy, Default)]
struct Ring {
    /// The slot of the oldest packet.
    start: usize,
    /// How many packets it holds.
    len: usize,
    /// Their lengths, by slot.
    lens: [usize; MAX_DEPTH],
}

/// A run that latched: where its packets are.
#[derive(Debug, Clone, Copy)]
pub struct Released {
    place: usize,
    ring: Ring,
}

/// The held packets of one channel.
#[derive(Clone)]
pub struct Held {
    depth: usize,
    /// `CANDIDATES × depth` slots of [`SLOT`] bytes.
    bytes: Box<[u8]>,
    rings: [Ring; CANDIDATES],
    /// The place whose packets are to be relayed, once taken.
    released: Option<usize>,
}

impl std::fmt::Debug for Held {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Held")
            .field("depth", &self.depth)
            .field("rings", &self.rings)
            .field("released", &self.released)
            .finish_non_exhaustive()
    }
}

impl Held {
    /// Storage for runs of a latch with `probation` packets: the packets
    /// before the one that completes a run.
    pub fn new(probation: u16) -> Self {
        let depth = usize::from(probation.saturating_sub(1)).min(MAX_DEPTH);
        Self {
            depth,
            bytes: vec![0; CANDIDATES * depth * SLOT].into_boxed_slice(),
            rings: [Ring::default(); CANDIDATES],
            released: None,
        }
    }

    /// Holds `packet` as the `count`th packet of the run in `place` (the
    /// first empties the ring; past `depth`, the oldest makes room).
    pub fn hold(&mut self, place: usize, count: u16, packet: &[u8]) {
        let depth = self.depth;
        let Some(ring) = self.rings.get_mut(place) else {
            return;
        };
        if count <= 1 {
            *ring = Ring::default();
        }
        if depth == 0 || packet.len() > SLOT {
            return;
        }
        let slot = if ring.len < depth {
            ring.len += 1;
            (ring.start + ring.len - 1) % depth
        } else {
            let oldest = ring.start;
            ring.start = (ring.start + 1) % depth;
            oldest
        };
        let start = (place * depth + slot) * SLOT;
        if let (Some(to), Some(len)) = (
            self.bytes.get_mut(start..start + packet.len()),
            ring.lens.get_mut(slot),
        ) {
            to.copy_from_slice(packet);
            *len = packet.len();
        }
    }

    /// The run in `place` latched: its packets are to be relayed, the
    /// other runs' never are.
    pub fn release(&mut self, place: usize) {
        for (other, ring) in self.rings.iter_mut().enumerate() {
            if other != place {
                *ring = Ring::default();
            }
        }
        self.released = Some(place);
    }

    /// Forgets everything held (the latched run's packets had nowhere to
    /// go, the call ended).
    pub fn clear(&mut self) {
        self.rings = [Ring::default(); CANDIDATES];
        self.released = None;
    }

    /// The released run, once: its ring is emptied (read its packets with
    /// [`Held::packets`] before anything is held again).
    pub fn take_released(&mut self) -> Option<Released> {
        let place = self.released.take()?;
        let ring = self.rings.get_mut(place).map(std::mem::take)?;
        Some(Released { place, ring })
    }

    /// The packets of a released run, oldest first.
    pub fn packets(&self, released: Released) -> impl Iterator<Item = &[u8]> {
        let Released { place, ring } = released;
        let depth = self.depth;
        (0..ring.len).filter_map(move |k| {
            let slot = (ring.start + k) % depth;
            let start = (place * depth + slot) * SLOT;
            self.bytes.get(start..start + *ring.lens.get(slot)?)
        })
    }

    /// How many packets are held, in all runs.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.rings.iter().map(|ring| ring.len).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn packet(n: u8, len: usize) -> Vec<u8> {
        vec![n; len]
    }

    fn released(held: &mut Held) -> Vec<Vec<u8>> {
        match held.take_released() {
            Some(run) => held.packets(run).map(<[u8]>::to_vec).collect(),
            None => Vec::new(),
        }
    }

    #[test]
    fn releases_the_run_in_order_and_only_once() {
        let mut held = Held::new(3);
        held.hold(1, 1, &packet(1, 172));
        held.hold(1, 2, &packet(2, 33));
        held.hold(2, 1, &packet(9, 172));
        held.release(1);
        assert_eq!(held.len(), 2, "the other run's packet is forgotten");
        assert_eq!(released(&mut held), [packet(1, 172), packet(2, 33)]);
        assert!(released(&mut held).is_empty(), "once");
        assert_eq!(held.len(), 0);
    }

    #[test]
    fn keeps_the_last_depth_packets_of_a_long_run() {
        let mut held = Held::new(3);
        for n in 1..=50u8 {
            held.hold(0, u16::from(n), &packet(n, 100));
        }
        assert_eq!(held.len(), 2, "bounded by probation - 1");
        held.release(0);
        assert_eq!(released(&mut held), [packet(49, 100), packet(50, 100)]);
    }

    #[test]
    fn a_restarted_run_forgets_what_came_before() {
        let mut held = Held::new(3);
        held.hold(0, 1, &packet(1, 100));
        held.hold(0, 2, &packet(2, 100));
        held.hold(0, 1, &packet(7, 100));
        held.release(0);
        assert_eq!(released(&mut held), [packet(7, 100)]);
    }

    #[test]
    fn the_depth_is_bounded_whatever_the_probation() {
        for (probation, depth) in [(0, 0), (1, 0), (2, 1), (3, 2), (5, 4), (1000, MAX_DEPTH)] {
            let mut held = Held::new(probation);
            for n in 1..=20u8 {
                held.hold(3, u16::from(n), &packet(n, 64));
            }
            assert_eq!(held.len(), depth, "probation {probation}");
            assert_eq!(held.bytes.len(), CANDIDATES * depth * SLOT);
        }
    }

    #[test]
    fn clear_forgets_everything() {
        let mut held = Held::new(3);
        held.hold(0, 1, &packet(1, 100));
        held.release(0);
        held.clear();
        assert_eq!(held.len(), 0);
        assert!(released(&mut held).is_empty());
    }
}
