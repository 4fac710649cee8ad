//! The kernel's NFQUEUE over raw netlink (`NETLINK_NETFILTER`, subsystem
//! `NFNL_SUBSYS_QUEUE`): bind a queue, receive each queued packet's id,
//! hand back a verdict. Only packet metadata is copied (`NFQNL_COPY_META`):
//! the delayer decides by id and time alone.
//!
//! Netlink headers and attribute headers are in host byte order; the
//! nfnetlink payloads (queue number, packet id, verdict) are big-endian.

use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::time::Duration;

use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::socket::{
    AddressFamily, MsgFlags, NetlinkAddr, SockFlag, SockProtocol, SockType, bind, recv, send,
    socket,
};

const NFNL_SUBSYS_QUEUE: u16 = 3;
const NFQNL_MSG_PACKET: u16 = NFNL_SUBSYS_QUEUE << 8;
const NFQNL_MSG_VERDICT: u16 = (NFNL_SUBSYS_QUEUE << 8) | 1;
const NFQNL_MSG_CONFIG: u16 = (NFNL_SUBSYS_QUEUE << 8) | 2;
const NLMSG_ERROR: u16 = 2;
const NLM_F_REQUEST: u16 = 1;
const NLM_F_ACK: u16 = 4;
const NFQA_PACKET_HDR: u16 = 1;
const NFQA_VERDICT_HDR: u16 = 2;
const NFQA_CFG_CMD: u16 = 1;
const NFQA_CFG_PARAMS: u16 = 2;
const NFQNL_CFG_CMD_BIND: u8 = 1;
const NFQNL_COPY_META: u8 = 1;
const NLMSG_HDRLEN: usize = 16;
const NFGENMSG_LEN: usize = 4;

/// What the kernel does with a queued packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Drop = 0,
    Accept = 1,
}

/// A message from the kernel, as far as the delayer cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Message {
    /// A packet waits for its verdict.
    Packet { id: u32 },
    /// The answer to a request: 0 for success, else a negative errno.
    Status(i32),
    /// Anything else (ignored).
    Other,
}

/// A malformed netlink buffer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    /// A header or an attribute claims more bytes than there are.
    #[error("truncated netlink message at byte {0}")]
    Truncated(usize),
    /// A packet message without its packet header attribute.
    #[error("a queued packet without NFQA_PACKET_HDR")]
    NoPacketHeader,
}

/// Splits a buffer from the kernel into messages.
pub fn parse(buffer: &[u8]) -> Result<Vec<Message>, WireError> {
    let mut messages = Vec::new();
    let mut at = 0;
    while buffer.len() - at >= NLMSG_HDRLEN {
        let length = u32_at(buffer, at).ok_or(WireError::Truncated(at))? as usize;
        let kind = u16_at(buffer, at + 4).ok_or(WireError::Truncated(at))?;
        if length < NLMSG_HDRLEN || at + length > buffer.len() {
            return Err(WireError::Truncated(at));
        }
        let body = &buffer[at + NLMSG_HDRLEN..at + length];
        messages.push(match kind {
            NLMSG_ERROR => {
                let code = body.get(..4).ok_or(WireError::Truncated(at))?;
                Message::Status(i32::from_ne_bytes([code[0], code[1], code[2], code[3]]))
            }
            NFQNL_MSG_PACKET => packet(body)?,
            _ => Message::Other,
        });
        at += align(length);
    }
    Ok(messages)
}

fn packet(body: &[u8]) -> Result<Message, WireError> {
    let mut at = NFGENMSG_LEN;
    while body.len().saturating_sub(at) >= 4 {
        let length = usize::from(u16_at(body, at).ok_or(WireError::Truncated(at))?);
        let kind = u16_at(body, at + 2).ok_or(WireError::Truncated(at))? & 0x3fff;
        if length < 4 || at + length > body.len() {
            return Err(WireError::Truncated(at));
        }
        if kind == NFQA_PACKET_HDR && length >= 8 {
            let id = &body[at + 4..at + 8];
            return Ok(Message::Packet {
                id: u32::from_be_bytes([id[0], id[1], id[2], id[3]]),
            });
        }
        at += align(length);
    }
    Err(WireError::NoPacketHeader)
}

fn align(length: usize) -> usize {
    (length + 3) & !3
}

fn u16_at(buffer: &[u8], at: usize) -> Option<u16> {
    let bytes = buffer.get(at..at + 2)?;
    Some(u16::from_ne_bytes([bytes[0], bytes[1]]))
}

fn u32_at(buffer: &[u8], at: usize) -> Option<u32> {
    let bytes = buffer.get(at..at + 4)?;
    Some(u32::from_ne_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
}

/// One nfnetlink request for `queue`, with `attributes` (type, payload).
fn request(kind: u16, flags: u16, queue: u16, attributes: &[(u16, &[u8])]) -> Vec<u8> {
    let mut message = vec![0; NLMSG_HDRLEN];
    message.extend_from_slice(&[0, 0]); // AF_UNSPEC, NFNETLINK_V0
    message.extend_from_slice(&queue.to_be_bytes());
    for (attribute, payload) in attributes {
        let length = 4 + payload.len();
        message.extend_from_slice(&(length as u16).to_ne_bytes());
        message.extend_from_slice(&attribute.to_ne_bytes());
        message.extend_from_slice(payload);
        message.resize(align(message.len()), 0);
    }
    let total = message.len() as u32;
    message[0..4].copy_from_slice(&total.to_ne_bytes());
    message[4..6].copy_from_slice(&kind.to_ne_bytes());
    message[6..8].copy_from_slice(&(NLM_F_REQUEST | flags).to_ne_bytes());
    message
}

/// The verdict message for packet `id` of `queue`.
pub fn verdict_message(queue: u16, id: u32, verdict: Verdict) -> Vec<u8> {
    let mut header = [0u8; 8];
    header[..4].copy_from_slice(&(verdict as u32).to_be_bytes());
    header[4..].copy_from_slice(&id.to_be_bytes());
    request(NFQNL_MSG_VERDICT, 0, queue, &[(NFQA_VERDICT_HDR, &header)])
}

/// A netlink socket bound to one NFQUEUE of the calling thread's namespace.
pub struct Queue {
    socket: OwnedFd,
    number: u16,
    buffer: Vec<u8>,
}

/// Failures of the queue's socket.
#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    #[error("netlink socket: {0}")]
    Socket(#[from] nix::Error),
    #[error("the kernel refused {what}: errno {errno}")]
    Refused { what: &'static str, errno: i32 },
    #[error(transparent)]
    Wire(#[from] WireError),
}

impl Queue {
    /// Binds queue `number`, metadata only.
    pub fn bind(number: u16) -> Result<Self, QueueError> {
        let socket = socket(
            AddressFamily::Netlink,
            SockType::Raw,
            SockFlag::SOCK_CLOEXEC,
            SockProtocol::NetlinkNetFilter,
        )?;
        bind(socket.as_raw_fd(), &NetlinkAddr::new(0, 0))?;
        let mut queue = Self {
            socket,
            number,
            buffer: vec![0; 65536],
        };
        let command = [NFQNL_CFG_CMD_BIND, 0, 0, 0];
        queue.configure("binding the queue", &[(NFQA_CFG_CMD, &command)])?;
        let mut params = [0u8; 5];
        params[4] = NFQNL_COPY_META;
        queue.configure("the copy mode", &[(NFQA_CFG_PARAMS, &params)])?;
        Ok(queue)
    }

    fn configure(
        &mut self,
        what: &'static str,
        attributes: &[(u16, &[u8])],
    ) -> Result<(), QueueError> {
        let message = request(NFQNL_MSG_CONFIG, NLM_F_ACK, self.number, attributes);
        send(self.socket.as_raw_fd(), &message, MsgFlags::empty())?;
        loop {
            let length = recv(self.socket.as_raw_fd(), &mut self.buffer, MsgFlags::empty())?;
            for message in parse(&self.buffer[..length])? {
                match message {
                    Message::Status(0) => return Ok(()),
                    Message::Status(errno) => return Err(QueueError::Refused { what, errno }),
                    _ => {}
                }
            }
        }
    }

    /// Waits up to `timeout` for queued packets; their ids.
    pub fn receive(&mut self, timeout: Duration) -> Result<Vec<u32>, QueueError> {
        let millis = u16::try_from(timeout.as_millis()).unwrap_or(u16::MAX);
        let mut fds = [PollFd::new(self.socket.as_fd(), PollFlags::POLLIN)];
        if poll(&mut fds, PollTimeout::from(millis))? == 0 {
            return Ok(Vec::new());
        }
        let length = match recv(
            self.socket.as_raw_fd(),
            &mut self.buffer,
            MsgFlags::MSG_DONTWAIT,
        ) {
            Ok(length) => length,
            Err(nix::Error::EAGAIN | nix::Error::ENOBUFS) => return Ok(Vec::new()),
            Err(error) => return Err(error.into()),
        };
        Ok(parse(&self.buffer[..length])?
            .into_iter()
            .filter_map(|message| match message {
                Message::Packet { id } => Some(id),
                _ => None,
            })
            .collect())
    }

    /// Tells the kernel what to do with packet `id`.
    pub fn verdict(&self, id: u32, verdict: Verdict) -> Result<(), QueueError> {
        let message = verdict_message(self.number, id, verdict);
        send(self.socket.as_raw_fd(), &message, MsgFlags::empty())?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn packet_message(id: u32) -> Vec<u8> {
        let mut header = [0u8; 7];
        header[..4].copy_from_slice(&id.to_be_bytes());
        request(NFQNL_MSG_PACKET, 0, 0, &[(NFQA_PACKET_HDR, &header)])
    }

    #[test]
    fn packets_and_acks_parse_from_one_buffer() {
        let mut buffer = packet_message(7);
        buffer.extend(packet_message(0x0102_0304));
        let mut ack = vec![0u8; NLMSG_HDRLEN + 4];
        let length = ack.len() as u32;
        ack[0..4].copy_from_slice(&length.to_ne_bytes());
        ack[4..6].copy_from_slice(&NLMSG_ERROR.to_ne_bytes());
        ack[16..20].copy_from_slice(&(-1i32).to_ne_bytes());
        buffer.extend(ack);
        assert_eq!(
            parse(&buffer),
            Ok(vec![
                Message::Packet { id: 7 },
                Message::Packet { id: 0x0102_0304 },
                Message::Status(-1)
            ])
        );
    }

    #[test]
    fn every_truncation_is_an_error_never_a_panic() {
        let whole = packet_message(42);
        for cut in 1..whole.len() {
            let result = parse(&whole[..cut]);
            assert!(
                matches!(
                    result,
                    Ok(ref m) if m.is_empty())
                    || result.is_err(),
                "cut at {cut}: {result:?}"
            );
        }
        let mut lying = whole.clone();
        lying[0..4].copy_from_slice(&1000u32.to_ne_bytes());
        assert_eq!(parse(&lying), Err(WireError::Truncated(0)));
        let mut no_header = request(NFQNL_MSG_PACKET, 0, 0, &[(9, &[1, 2, 3, 4])]);
        assert_eq!(parse(&no_header), Err(WireError::NoPacketHeader));
        no_header[NLMSG_HDRLEN + NFGENMSG_LEN..][..2].copy_from_slice(&0u16.to_ne_bytes());
        assert!(parse(&no_header).is_err(), "a zero-length attribute");
    }

    #[test]
    fn a_verdict_names_the_queue_and_the_packet() {
        let message = verdict_message(3, 0xabcd, Verdict::Accept);
        assert_eq!(u32_at(&message, 0), Some(message.len() as u32));
        assert_eq!(u16_at(&message, 4), Some(NFQNL_MSG_VERDICT));
        assert_eq!(&message[18..20], &3u16.to_be_bytes());
        assert_eq!(&message[24..28], &1u32.to_be_bytes());
        assert_eq!(&message[28..32], &0xabcdu32.to_be_bytes());
    }
}
