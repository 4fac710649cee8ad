//! The baseline: the same N TCP connections over loopback, all at once,
//! each doing one request/response the size of an HFA timestamp request
//! (14 bytes) with a trivial tokio echo server, timed the same way as the
//! registrations. The echo server runs in a child process, as the gateway
//! does: this bench binary started with `--echo-server`.
//!
//! Its listen backlog is chosen: tokio's `TcpListener::bind` (mio) asks for
//! 128, which a storm overflows, so that connections wait for TCP's SYN
//! retransmissions (1 s, 3 s, 7 s, ...); the kernel caps any larger value
//! at `net.core.somaxconn` (4096 by default since Linux 5.4).

use std::net::{Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use shared::hfa::{MIN_FRAME_LEN, TIMESTAMP_REQUEST_LEN};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpSocket, TcpStream};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;

use crate::common::stats::{Latencies, Tally};

/// An HFA frame header and a timestamp request body: 11 + 3 bytes.
const REQUEST_LEN: usize = MIN_FRAME_LEN + TIMESTAMP_REQUEST_LEN;

/// The echo server's life: on a multi-threaded runtime with one worker
/// per core (as the gateway's `#[tokio::main]`), it listens with a queue of
/// `backlog` connections, echoes every byte until the peer closes, and
/// stops on SIGINT.
pub fn serve(backlog: u32) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async {
        let socket = TcpSocket::new_v4()?;
        socket.set_reuseaddr(true)?;
        socket.bind((Ipv4Addr::LOCALHOST, 0).into())?;
        let listener = socket.listen(backlog)?;
        println!("listening: ECHO TCP {}", listener.local_addr()?);
        let stop = tokio::signal::ctrl_c();
        tokio::pin!(stop);
        loop {
            tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok((stream, _)) => {
                        let _ = stream.set_nodelay(true);
                        tokio::spawn(echo(stream));
                    }
                    Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
                },
                _ = &mut stop => return Ok(()),
            }
        }
    })
}

async fn echo(mut stream: TcpStream) {
    let mut buffer = [0u8; 256];
    loop {
        match stream.read(&mut buffer).await {
            Ok(0) | Err(_) => return,
            Ok(n) => {
                let bytes = buffer.get(..n).unwrap_or_default();
                if stream.write_all(bytes).await.is_err() {
                    return;
                }
            }
        }
    }
}

/// The baseline storm, as the clients saw it.
#[derive(Debug)]
pub struct EchoOutcome {
    pub connections: usize,
    pub completed: usize,
    /// From the first connection's start to the last echo received.
    pub wall: Duration,
    /// Per connection: connect, send, echo received.
    pub latencies: Latencies,
    pub failed: Tally,
}

/// Opens `connections` connections to `server` at once; each does one
/// round trip, then stays open until all have finished theirs (as the
/// phones stay connected).
pub async fn storm(server: SocketAddr, connections: usize, patience: Duration) -> EchoOutcome {
    let (results, mut result_rx) = mpsc::unbounded_channel();
    let (release, released) = watch::channel(());
    let mut tasks = JoinSet::new();
    let start = Instant::now();
    for _ in 0..connections {
        let (results, mut released) = (results.clone(), released.clone());
        tasks.spawn(async move {
            let begun = Instant::now();
            let stream = match tokio::time::timeout(patience, round_trip(server)).await {
                Ok(Ok(stream)) => {
                    let _ = results.send((Instant::now(), Ok(begun.elapsed())));
                    Some(stream)
                }
                Ok(Err(error)) => {
                    let _ = results.send((Instant::now(), Err(error.to_string())));
                    None
                }
                Err(_) => {
                    let _ = results.send((Instant::now(), Err("timed out".to_owned())));
                    None
                }
            };
            let _ = released.changed().await;
            drop(stream);
        });
    }
    drop(results);
    let (mut latencies, mut failed, mut last) = (Vec::new(), Tally::default(), start);
    // Each task sends exactly one result (its round trip is bounded).
    for _ in 0..connections {
        let Some((at, result)) = result_rx.recv().await else {
            break;
        };
        last = last.max(at);
        match result {
            Ok(latency) => latencies.push(latency),
            Err(why) => failed.add(why),
        }
    }
    drop(release);
    while tasks.join_next().await.is_some() {}
    EchoOutcome {
        connections,
        completed: latencies.len(),
        wall: last - start,
        latencies: Latencies::new(latencies),
        failed,
    }
}

async fn round_trip(server: SocketAddr) -> std::io::Result<TcpStream> {
    let mut stream = TcpStream::connect(server).await?;
    stream.set_nodelay(true)?;
    stream.write_all(&[0x5a; REQUEST_LEN]).await?;
    let mut reply = [0u8; REQUEST_LEN];
    stream.read_exact(&mut reply).await?;
    Ok(stream)
}
