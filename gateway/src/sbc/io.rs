//! Batched datagram I/O without allocation: `recvmmsg` into preallocated
//! slots, `sendmmsg` out of them (through `nix`, which keeps the unsafe
//! parts). A worker owns one [`Batch`] and reuses it for every socket.

use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::os::fd::AsRawFd;

use nix::errno::Errno;
use nix::sys::socket::{
    ControlMessage, MsgFlags, MultiHeaders, SockaddrStorage, recvmmsg, sendmmsg,
};
use std::io::{IoSlice, IoSliceMut};

/// Datagrams per system call.
pub const BATCH: usize = 32;

/// Bytes per datagram slot: an Ethernet MTU's worth and more. A longer
/// datagram is truncated and dropped as malformed.
pub const SLOT: usize = 2048;

/// One received datagram.
#[derive(Debug, Clone, Copy)]
struct Received {
    source: Option<SocketAddr>,
    len: usize,
    truncated: bool,
}

const EMPTY: Received = Received {
    source: None,
    len: 0,
    truncated: false,
};

/// What a [`Batch::send`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sent {
    /// Datagrams sent.
    pub packets: usize,
    /// Their bytes.
    pub bytes: usize,
    /// Datagrams that could not be sent.
    pub failed: usize,
}

/// Buffers and headers for one batch, allocated once.
pub struct Batch {
    slots: Box<[u8]>,
    received: [Received; BATCH],
    count: usize,
    recv_headers: MultiHeaders<SockaddrStorage>,
    send_headers: MultiHeaders<SockaddrStorage>,
    /// Destinations of a send, filled only as far as needed (an address
    /// is 128 bytes: rebuilding all 32 per call would cost more than the
    /// datagrams).
    destinations: Box<[Option<SockaddrStorage>]>,
}

impl std::fmt::Debug for Batch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Batch")
            .field("count", &self.count)
            .finish_non_exhaustive()
    }
}

impl Default for Batch {
    fn default() -> Self {
        Self::new()
    }
}

impl Batch {
    /// Allocates the slots and headers.
    pub fn new() -> Self {
        Self {
            slots: vec![0; BATCH * SLOT].into_boxed_slice(),
            received: [EMPTY; BATCH],
            count: 0,
            recv_headers: MultiHeaders::preallocate(BATCH, None),
            send_headers: MultiHeaders::preallocate(BATCH, None),
            destinations: vec![None; BATCH].into_boxed_slice(),
        }
    }

    /// Receives up to [`BATCH`] datagrams from a non-blocking socket; 0
    /// when none is waiting. Fewer than [`BATCH`] means the socket was
    /// drained when the call returned.
    pub fn recv(&mut self, socket: &UdpSocket) -> io::Result<usize> {
        self.count = 0;
        let fd = socket.as_raw_fd();
        loop {
            let mut chunks = self.slots.chunks_exact_mut(SLOT);
            let mut iovs: [[IoSliceMut<'_>; 1]; BATCH] =
                std::array::from_fn(|_| [IoSliceMut::new(chunks.next().unwrap_or_default())]);
            match recvmmsg(
                fd,
                &mut self.recv_headers,
                iovs.iter_mut(),
                MsgFlags::MSG_DONTWAIT,
                None,
            ) {
                Ok(results) => {
                    for (slot, message) in self.received.iter_mut().zip(results) {
                        *slot = Received {
                            source: message.address.as_ref().and_then(socket_addr),
                            len: message.bytes.min(SLOT),
                            truncated: message.flags.contains(MsgFlags::MSG_TRUNC),
                        };
                        self.count += 1;
                    }
                    return Ok(self.count);
                }
                Err(Errno::EINTR) => {}
                Err(Errno::EAGAIN) => return Ok(0),
                Err(errno) => return Err(io::Error::from(errno)),
            }
        }
    }

    /// How many datagrams the last receive got.
    pub fn len(&self) -> usize {
        self.count
    }

    /// Datagram `index` of the last receive: its source and bytes, or
    /// `None` for a truncated datagram or one without an IP source.
    pub fn datagram(&self, index: usize) -> Option<(SocketAddr, &[u8])> {
        if index >= self.count {
            return None;
        }
        let received = self.received.get(index)?;
        if received.truncated {
            return None;
        }
        let start = index * SLOT;
        Some((
            received.source?,
            self.slots.get(start..start + received.len)?,
        ))
    }

    /// Sends the datagrams `sends` lists (index into the last receive,
    /// destination) out of `socket`, in as few calls as it takes. A full
    /// socket buffer drops the rest of the batch (never blocks); another
    /// error skips that datagram.
    pub fn send(&mut self, socket: &UdpSocket, sends: &[(usize, SocketAddr)]) -> Sent {
        let fd = socket.as_raw_fd();
        let sends = sends.get(..sends.len().min(BATCH)).unwrap_or_default();
        let mut outcome = Sent::default();
        let mut start = 0;
        while start < sends.len() {
            let pending = sends.get(start..).unwrap_or_default();
            let slots = &self.slots;
            let received = &self.received;
            let datagram = |k: usize| {
                let (index, _) = pending.get(k).copied()?;
                let len = received.get(index)?.len;
                slots.get(index * SLOT..index * SLOT + len)
            };
            let slices: [[IoSlice<'_>; 1]; BATCH] =
                std::array::from_fn(|k| [IoSlice::new(datagram(k).unwrap_or_default())]);
            let count = pending.len();
            for (slot, (_, to)) in self.destinations.iter_mut().zip(pending) {
                *slot = Some(SockaddrStorage::from(*to));
            }
            let result = sendmmsg(
                fd,
                &mut self.send_headers,
                slices.get(..count).unwrap_or_default(),
                self.destinations.get(..count).unwrap_or_default(),
                NO_CONTROL,
                MsgFlags::MSG_DONTWAIT,
            )
            .map(Iterator::count);
            match result {
                Ok(0) | Err(Errno::EAGAIN) => {
                    outcome.failed += count;
                    break;
                }
                Ok(sent) => {
                    outcome.packets += sent;
                    outcome.bytes += (0..sent)
                        .filter_map(datagram)
                        .map(<[u8]>::len)
                        .sum::<usize>();
                    start += sent;
                }
                Err(Errno::EINTR) => {}
                Err(_) => {
                    outcome.failed += 1;
                    start += 1;
                }
            }
        }
        outcome
    }
}

/// No control messages: the socket's own options (TOS, DF) apply.
const NO_CONTROL: &[ControlMessage<'static>] = &[];

fn socket_addr(address: &SockaddrStorage) -> Option<SocketAddr> {
    if let Some(v4) = address.as_sockaddr_in() {
        return Some(SocketAddr::from(*v4));
    }
    address.as_sockaddr_in6().map(|v6| SocketAddr::from(*v6))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn pair() -> (UdpSocket, UdpSocket) {
        let a = UdpSocket::bind("127.0.0.1:0").unwrap();
        let b = UdpSocket::bind("127.0.0.1:0").unwrap();
        a.set_nonblocking(true).unwrap();
        b.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        (a, b)
    }

    /// Waits until `socket` has `n` datagrams (the sends are on loopback,
    /// which delivers synchronously, so this is immediate).
    fn recv_all(batch: &mut Batch, socket: &UdpSocket, n: usize) -> usize {
        let mut got = 0;
        for _ in 0..1000 {
            got += batch.recv(socket).unwrap();
            if got >= n {
                break;
            }
        }
        got
    }

    #[test]
    fn receives_a_batch_and_sends_it_on_in_one_go() {
        let (relay, far) = pair();
        let sender = UdpSocket::bind("127.0.0.1:0").unwrap();
        for i in 0..5u8 {
            sender
                .send_to(&[i; 100], relay.local_addr().unwrap())
                .unwrap();
        }
        let mut batch = Batch::new();
        assert_eq!(recv_all(&mut batch, &relay, 5), 5);
        assert_eq!(batch.len(), 5);
        for i in 0..5 {
            let (source, bytes) = batch.datagram(i).unwrap();
            assert_eq!(source, sender.local_addr().unwrap());
            assert_eq!(bytes, &[i as u8; 100][..]);
        }
        assert!(batch.datagram(5).is_none());
        let to = far.local_addr().unwrap();
        let sent = batch.send(&relay, &[(0, to), (2, to), (4, to)]);
        assert_eq!(
            sent,
            Sent {
                packets: 3,
                bytes: 300,
                failed: 0
            }
        );
        let mut buf = [0u8; 200];
        for i in [0u8, 2, 4] {
            let (len, from) = far.recv_from(&mut buf).unwrap();
            assert_eq!(from, relay.local_addr().unwrap());
            assert_eq!(&buf[..len], &[i; 100][..]);
        }
    }

    #[test]
    fn an_empty_socket_gives_nothing() {
        let (relay, _) = pair();
        let mut batch = Batch::new();
        assert_eq!(batch.recv(&relay).unwrap(), 0);
        assert_eq!(batch.len(), 0);
        assert!(batch.datagram(0).is_none());
    }

    #[test]
    fn a_datagram_longer_than_a_slot_is_refused() {
        let (relay, _) = pair();
        let sender = UdpSocket::bind("127.0.0.1:0").unwrap();
        sender
            .send_to(&[7; SLOT + 1], relay.local_addr().unwrap())
            .unwrap();
        sender
            .send_to(&[8; SLOT], relay.local_addr().unwrap())
            .unwrap();
        let mut batch = Batch::new();
        assert_eq!(recv_all(&mut batch, &relay, 2), 2);
        assert!(batch.datagram(0).is_none());
        assert_eq!(batch.datagram(1).unwrap().1.len(), SLOT);
    }

    #[test]
    fn receiving_and_sending_allocate_nothing() {
        let (relay, far) = pair();
        let sender = UdpSocket::bind("127.0.0.1:0").unwrap();
        let mut batch = Batch::new();
        let to = far.local_addr().unwrap();
        let counted = allocation_counter::measure(|| {
            for round in 0..50u8 {
                for _ in 0..4 {
                    sender
                        .send_to(&[round; 172], relay.local_addr().unwrap())
                        .unwrap();
                }
                recv_all(&mut batch, &relay, 4);
                batch.send(&relay, &[(0, to), (1, to), (2, to), (3, to)]);
            }
        });
        assert_eq!(counted.count_total, 0, "{counted:?}");
    }
}
