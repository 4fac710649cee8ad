//! A TCP relay in front of a server that can be told to swallow everything
//! in both directions, as a gateway that hangs (or a path that breaks)
//! would, without closing any connection. It also keeps what clients sent,
//! as someone capturing the traffic on the path would.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// Bytes from clients kept at most (the first ones: a registration).
const CAPTURE_LIMIT: usize = 64 * 1024;

pub struct Relay {
    addr: SocketAddr,
    blackhole: Arc<AtomicBool>,
    captured: Arc<Mutex<Vec<u8>>>,
    task: JoinHandle<()>,
}

impl Relay {
    /// Relays connections made to [`Relay::addr`] to `target`.
    pub async fn start(target: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the relay");
        let addr = listener.local_addr().expect("relay address");
        let blackhole = Arc::new(AtomicBool::new(false));
        let captured = Arc::new(Mutex::new(Vec::new()));
        let (flag, capture) = (blackhole.clone(), captured.clone());
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let Ok(server) = TcpStream::connect(target).await else {
                    continue;
                };
                let (client_read, client_write) = client.into_split();
                let (server_read, server_write) = server.into_split();
                let upstream = Some(capture.clone());
                tokio::spawn(pipe(client_read, server_write, flag.clone(), upstream));
                tokio::spawn(pipe(server_read, client_write, flag.clone(), None));
            }
        });
        Self {
            addr,
            blackhole,
            captured,
            task,
        }
    }

    /// What clients sent through the relay so far, in order (the first
    /// 64 KiB).
    pub fn captured_from_clients(&self) -> Vec<u8> {
        self.captured
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// While on, bytes in both directions are read and dropped.
    pub fn blackhole(&self, on: bool) {
        self.blackhole.store(on, Ordering::SeqCst);
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn pipe(
    mut from: OwnedReadHalf,
    mut to: OwnedWriteHalf,
    blackhole: Arc<AtomicBool>,
    capture: Option<Arc<Mutex<Vec<u8>>>>,
) {
    let mut buffer = vec![0u8; 4096];
    while let Ok(n @ 1..) = from.read(&mut buffer).await {
        if let Some(capture) = &capture {
            let mut captured = capture.lock().unwrap_or_else(PoisonError::into_inner);
            let room = CAPTURE_LIMIT.saturating_sub(captured.len());
            captured.extend_from_slice(&buffer[..n.min(room)]);
        }
        if !blackhole.load(Ordering::SeqCst) && to.write_all(&buffer[..n]).await.is_err() {
            break;
        }
    }
}
