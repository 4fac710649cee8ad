//! The physical floor: the least a userspace relay can do per packet on
//! this machine with the proxy's own I/O (epoll through `mio`, `recvmmsg` /
//! `sendmmsg` of 32 through `nix`, a socket per channel side, one thread per
//! worker, channel `i` on thread `i % threads`). It has no checks at all:
//! no parsing, no latching rules, no source check, no counters, no control
//! queue. Whatever arrives on side A goes out of side B to the last source
//! seen on side B, and back. It is not a product: only the bench's
//! yardstick for what the proxy's checks cost.

use std::io::{IoSlice, IoSliceMut};
use std::net::{SocketAddr, UdpSocket};
use std::os::fd::AsRawFd as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;

use anyhow::Context as _;
use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Token, Waker};
use nix::errno::Errno;
use nix::sys::socket::{
    ControlMessage, MsgFlags, MultiHeaders, SockaddrStorage, recvmmsg, sendmmsg,
};

/// Datagrams per system call, as the proxy's.
const BATCH: usize = 32;
/// Bytes per datagram slot, as the proxy's.
const SLOT: usize = 2048;
/// Its threads' name prefix (the bench reads their CPU by it).
pub const THREAD: &str = "floor-relay";
const WAKER: Token = Token(usize::MAX);

/// A running floor relay; stops on drop.
pub struct Floor {
    /// Per call: the address of side A (the home end sends here) and of
    /// side B (the LAN end sends here).
    pub sides: Vec<(SocketAddr, SocketAddr)>,
    stop: Arc<AtomicBool>,
    wakers: Vec<Arc<Waker>>,
    threads: Vec<JoinHandle<()>>,
}

impl Floor {
    /// Binds two sockets per call on 127.0.0.1 and starts `threads` relay
    /// threads.
    pub fn start(calls: usize, threads: usize) -> anyhow::Result<Self> {
        let threads = threads.clamp(1, calls.max(1));
        let mut shares: Vec<Vec<[UdpSocket; 2]>> = (0..threads).map(|_| Vec::new()).collect();
        let mut sides = Vec::with_capacity(calls);
        for call in 0..calls {
            let bind = || -> anyhow::Result<UdpSocket> {
                let socket = UdpSocket::bind("127.0.0.1:0").context("floor: bind")?;
                socket.set_nonblocking(true)?;
                Ok(socket)
            };
            let pair = [bind()?, bind()?];
            sides.push((pair[0].local_addr()?, pair[1].local_addr()?));
            shares[call % threads].push(pair);
        }
        let stop = Arc::new(AtomicBool::new(false));
        let mut wakers = Vec::with_capacity(threads);
        let mut handles = Vec::with_capacity(threads);
        for (number, pairs) in shares.into_iter().enumerate() {
            let poll = Poll::new()?;
            for (index, pair) in pairs.iter().enumerate() {
                for (side, socket) in pair.iter().enumerate() {
                    poll.registry().register(
                        &mut SourceFd(&socket.as_raw_fd()),
                        Token(index * 2 + side),
                        Interest::READABLE,
                    )?;
                }
            }
            let waker = Arc::new(Waker::new(poll.registry(), WAKER)?);
            wakers.push(waker);
            let stop = stop.clone();
            let handle = std::thread::Builder::new()
                .name(format!("{THREAD}-{number}"))
                .spawn(move || Relay::new(pairs).run(poll, &stop))?;
            handles.push(handle);
        }
        Ok(Self {
            sides,
            stop,
            wakers,
            threads: handles,
        })
    }
}

impl Drop for Floor {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for waker in &self.wakers {
            let _ = waker.wake();
        }
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}

/// One thread's channels and buffers.
struct Relay {
    pairs: Vec<[UdpSocket; 2]>,
    /// The last source seen on each side of each pair.
    last: Vec<[Option<SockaddrStorage>; 2]>,
    slots: Box<[u8]>,
    lens: [usize; BATCH],
    recv_headers: MultiHeaders<SockaddrStorage>,
    send_headers: MultiHeaders<SockaddrStorage>,
    destinations: [Option<SockaddrStorage>; BATCH],
}

impl Relay {
    fn new(pairs: Vec<[UdpSocket; 2]>) -> Self {
        Self {
            last: vec![[None, None]; pairs.len()],
            pairs,
            slots: vec![0; BATCH * SLOT].into_boxed_slice(),
            lens: [0; BATCH],
            recv_headers: MultiHeaders::preallocate(BATCH, None),
            send_headers: MultiHeaders::preallocate(BATCH, None),
            destinations: [None; BATCH],
        }
    }

    fn run(mut self, mut poll: Poll, stop: &AtomicBool) {
        let mut events = Events::with_capacity(256);
        while !stop.load(Ordering::Relaxed) {
            if poll.poll(&mut events, None).is_err() {
                continue;
            }
            for event in &events {
                if event.token() != WAKER {
                    self.drain(event.token().0 / 2, event.token().0 % 2);
                }
            }
        }
    }

    /// Relays what waits on `side` of `pair` until the socket is empty
    /// (edge-triggered: a batch short of full means it was).
    fn drain(&mut self, pair: usize, side: usize) {
        loop {
            let received = self.recv(pair, side);
            if received == 0 {
                return;
            }
            if let Some(to) = self.last[pair][1 - side] {
                self.send(pair, 1 - side, received, to);
            }
            if received < BATCH {
                return;
            }
        }
    }

    /// Receives a batch on `side` of `pair`, remembering its last source.
    fn recv(&mut self, pair: usize, side: usize) -> usize {
        let fd = self.pairs[pair][side].as_raw_fd();
        let mut chunks = self.slots.chunks_exact_mut(SLOT);
        let mut iovs: [[IoSliceMut<'_>; 1]; BATCH] =
            std::array::from_fn(|_| [IoSliceMut::new(chunks.next().unwrap_or_default())]);
        let Ok(results) = recvmmsg(
            fd,
            &mut self.recv_headers,
            iovs.iter_mut(),
            MsgFlags::MSG_DONTWAIT,
            None,
        ) else {
            return 0;
        };
        let mut count = 0;
        for (len, message) in self.lens.iter_mut().zip(results) {
            *len = message.bytes.min(SLOT);
            if let Some(source) = message.address {
                self.last[pair][side] = Some(source);
            }
            count += 1;
        }
        count
    }

    /// Sends the first `count` received datagrams out of `side` of `pair`
    /// to `to` (a full socket buffer drops them; nothing is retried).
    fn send(&mut self, pair: usize, side: usize, count: usize, to: SockaddrStorage) {
        let fd = self.pairs[pair][side].as_raw_fd();
        let slots = &self.slots;
        let lens = &self.lens;
        let slices: [[IoSlice<'_>; 1]; BATCH] =
            std::array::from_fn(|k| [IoSlice::new(&slots[k * SLOT..k * SLOT + lens[k]])]);
        for destination in &mut self.destinations[..count] {
            *destination = Some(to);
        }
        let no_control: [ControlMessage<'_>; 0] = [];
        let mut start = 0;
        while start < count {
            match sendmmsg(
                fd,
                &mut self.send_headers,
                &slices[start..count],
                &self.destinations[start..count],
                no_control,
                MsgFlags::MSG_DONTWAIT,
            ) {
                Ok(sent) => start += sent.count().max(1),
                Err(Errno::EINTR) => {}
                Err(_) => return,
            }
        }
    }
}
