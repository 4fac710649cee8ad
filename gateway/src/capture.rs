//! `gateway run --capture FILE`: a TCP stream that records what it reads
//! and writes into the capture (the portal's TLS bytes, as on the wire).

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};

use shared::capture::Capture;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// A stream whose bytes also go into a capture, if there is one.
#[derive(Debug)]
pub struct Tapped<S> {
    inner: S,
    tap: Option<Tap>,
}

#[derive(Debug)]
struct Tap {
    capture: Capture,
    local: SocketAddr,
    peer: SocketAddr,
}

impl<S> Tapped<S> {
    /// `inner`, connected from `peer` to `local`; records into `capture`
    /// (starting with the connection's opening) when there is one.
    pub fn new(inner: S, capture: Option<&Capture>, local: SocketAddr, peer: SocketAddr) -> Self {
        let tap = capture.map(|capture| {
            capture.tcp_open(peer, local);
            Tap {
                capture: capture.clone(),
                local,
                peer,
            }
        });
        Self { inner, tap }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Tapped<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let (before, room) = (buf.filled().len(), buf.remaining());
        let result = Pin::new(&mut self.inner).poll_read(cx, buf);
        if let (Poll::Ready(Ok(())), Some(tap)) = (&result, &self.tap) {
            match buf.filled().get(before..) {
                Some(read) if !read.is_empty() => tap.capture.tcp(tap.peer, tap.local, read),
                // Nothing read into room for something: the peer closed.
                _ if room > 0 => tap.capture.tcp_close(tap.peer, tap.local),
                _ => {}
            }
        }
        result
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Tapped<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let result = Pin::new(&mut self.inner).poll_write(cx, buf);
        if let (Poll::Ready(Ok(written)), Some(tap)) = (&result, &self.tap) {
            let bytes = buf.get(..*written).unwrap_or_default();
            tap.capture.tcp(tap.local, tap.peer, bytes);
        }
        result
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let result = Pin::new(&mut self.inner).poll_shutdown(cx);
        if let (Poll::Ready(Ok(())), Some(tap)) = (&result, &self.tap) {
            tap.capture.tcp_close(tap.local, tap.peer);
        }
        result
    }
}
