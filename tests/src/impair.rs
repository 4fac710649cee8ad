//! A UDP relay that does to media what a poor internet path does: it drops,
//! delays and (through jitter) reorders packets, on a seeded random
//! generator, so a test of voice quality under loss is repeatable.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tokio::net::UdpSocket;
use tokio::task::JoinHandle;

/// What the path does to each packet.
#[derive(Debug, Clone, Copy)]
pub struct Impairment {
    /// Share of packets dropped, 0..1.
    pub loss: f64,
    /// Delay every packet gets.
    pub delay: Duration,
    /// Extra delay, uniform in 0..jitter: packets more than a packet time
    /// apart in extra delay arrive out of order.
    pub jitter: Duration,
    pub seed: u64,
}

/// The relay: send to [`ImpairedPath::addr`], it forwards to the target.
pub struct ImpairedPath {
    addr: SocketAddr,
    target: Arc<Mutex<Option<SocketAddr>>>,
    task: JoinHandle<()>,
}

impl ImpairedPath {
    pub async fn start(impairment: Impairment) -> Self {
        let socket = Arc::new(
            UdpSocket::bind("127.0.0.1:0")
                .await
                .expect("bind the impairment relay"),
        );
        let addr = socket.local_addr().expect("relay address");
        let target = Arc::new(Mutex::new(None));
        let task = tokio::spawn(run(socket, target.clone(), impairment));
        Self { addr, target, task }
    }

    /// Where senders send.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Where the packets that survive go.
    pub fn forward_to(&self, target: SocketAddr) {
        *self.target.lock().unwrap_or_else(PoisonError::into_inner) = Some(target);
    }
}

impl Drop for ImpairedPath {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn run(
    socket: Arc<UdpSocket>,
    target: Arc<Mutex<Option<SocketAddr>>>,
    impairment: Impairment,
) {
    let mut rng = StdRng::seed_from_u64(impairment.seed);
    let mut buffer = vec![0u8; 2048];
    while let Ok((len, _)) = socket.recv_from(&mut buffer).await {
        // Both draws happen for every packet, so the n-th packet's fate
        // depends only on the seed.
        let lost = rng.random_bool(impairment.loss);
        let extra = impairment.jitter.mul_f64(rng.random::<f64>());
        let Some(to) = *target.lock().unwrap_or_else(PoisonError::into_inner) else {
            continue;
        };
        if lost {
            continue;
        }
        let packet = buffer[..len].to_vec();
        let socket = socket.clone();
        let delay = impairment.delay + extra;
        tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            let _ = socket.send_to(&packet, to).await;
        });
    }
}
