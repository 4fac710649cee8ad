//! A real STUN server for tests: coturn (`turnserver`, Debian package
//! coturn, installed by scripts/install-deps.sh) on loopback, STUN only.
//! With `two_addresses` it listens on 127.0.0.1 and 127.0.0.2, each on a
//! port and its alternate port, and so answers RFC 5780 NAT behaviour
//! discovery (OTHER-ADDRESS, CHANGE-REQUEST); without, it is a plain
//! RFC 8489 server. Free ports per server, so tests run in parallel; ready
//! when it answers a Binding request on every address (bounded wait, no
//! fixed sleep); killed on drop. A test that cannot start it fails.

#![allow(dead_code)] // each test file uses part of it

use std::net::{SocketAddr, UdpSocket};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::{Duration, Instant};

use shared::stun::{Change, Client, Retransmission};

/// How long coturn may take to answer its first request.
const READY_WITHIN: Duration = Duration::from_secs(10);

/// One running coturn.
pub struct Coturn {
    child: Child,
    /// The primary address: 127.0.0.1 and the listening port.
    pub primary: SocketAddr,
    /// The other address (127.0.0.2, the alternate port), with two addresses.
    pub other: Option<SocketAddr>,
    _dir: tempfile::TempDir,
}

impl Coturn {
    /// coturn with RFC 5780 support (two addresses, two ports).
    pub fn rfc5780() -> Self {
        Self::start(true)
    }

    /// coturn on one address: no OTHER-ADDRESS in its responses.
    pub fn single_address() -> Self {
        Self::start(false)
    }

    /// Starts coturn on free ports; if another process took a port between
    /// the check and coturn's bind (coturn then never answers), once more
    /// on other ports.
    fn start(two_addresses: bool) -> Self {
        let mut last = None;
        for _ in 0..3 {
            let server = Self::spawn(two_addresses);
            match server.wait_ready() {
                Ok(()) => return server,
                Err(why) => last = Some(why),
            }
        }
        panic!("{}", last.unwrap_or_default());
    }

    fn spawn(two_addresses: bool) -> Self {
        let port = free_port_pair(two_addresses);
        let dir = tempfile::tempdir().expect("a temporary directory");
        let mut command = Command::new("turnserver");
        command.args(["-n", "--stun-only", "--no-cli", "--no-tls", "--no-dtls"]);
        command.args(["--listening-ip", "127.0.0.1"]);
        if two_addresses {
            command.args(["--listening-ip", "127.0.0.2"]);
        }
        command
            .args(["--listening-port", &port.to_string()])
            .args(["--alt-listening-port", &(port + 1).to_string()])
            .arg("--pidfile")
            .arg(dir.path().join("turnserver.pid"))
            .arg("--log-file")
            .arg(dir.path().join("turnserver.log"))
            .args(["--simple-log", "--no-stdout-log"])
            .arg("--userdb")
            .arg(dir.path().join("turndb"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let child = command.spawn().unwrap_or_else(|error| {
            panic!(
                "cannot start coturn's turnserver ({error}): install it with \
                 scripts/install-deps.sh (Debian package coturn)"
            )
        });
        Self {
            child,
            primary: SocketAddr::from(([127, 0, 0, 1], port)),
            other: two_addresses.then(|| SocketAddr::from(([127, 0, 0, 2], port + 1))),
            _dir: dir,
        }
    }

    /// Polls each address with a Binding request until it answers.
    fn wait_ready(&self) -> Result<(), String> {
        let deadline = Instant::now() + READY_WITHIN;
        for address in [Some(self.primary), self.other].into_iter().flatten() {
            while !answers(address) {
                if Instant::now() >= deadline {
                    return Err(format!(
                        "coturn did not answer on {address} within {READY_WITHIN:?}"
                    ));
                }
            }
        }
        Ok(())
    }

    /// The server as configuration text, `host:port`.
    pub fn address_text(&self) -> String {
        self.primary.to_string()
    }
}

impl Drop for Coturn {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Whether `address` answers one Binding request (a short retransmission
/// schedule: the caller polls).
fn answers(address: SocketAddr) -> bool {
    let Ok(socket) = UdpSocket::bind("127.0.0.1:0") else {
        return false;
    };
    let quick = Retransmission {
        rto: Duration::from_millis(50),
        rc: 2,
        rm: 2,
    };
    let mut client = Client::new(quick, u64::from(address.port()));
    if client
        .binding(Instant::now(), address, Change::Nothing)
        .is_err()
    {
        return false;
    }
    let mut buffer = [0u8; 1500];
    loop {
        while let Some(transmit) = client.poll_transmit() {
            let _ = socket.send_to(&transmit.bytes, transmit.destination);
        }
        if let Some(done) = client.poll_event() {
            return done.result.is_ok();
        }
        let Some(deadline) = client.poll_timeout() else {
            return false;
        };
        let wait = deadline.saturating_duration_since(Instant::now());
        let _ = socket.set_read_timeout(Some(wait.max(Duration::from_millis(1))));
        match socket.recv_from(&mut buffer) {
            Ok((len, from)) => {
                let _ = client.handle_input(Instant::now(), from, &buffer[..len]);
            }
            Err(_) => client.handle_timeout(Instant::now()),
        }
    }
}

/// A port P such that P and P+1 are free on 127.0.0.1 (and 127.0.0.2):
/// tried from a per-process block above the RTP ranges the tests use.
fn free_port_pair(two_addresses: bool) -> u16 {
    static NEXT: AtomicU16 = AtomicU16::new(0);
    let base = 40_000 + (std::process::id() % 500) as u16 * 20;
    for _ in 0..200 {
        let offset = NEXT.fetch_add(2, Ordering::Relaxed) % 10_000;
        let port = base.wrapping_add(offset);
        if !(32_000..60_000).contains(&port) {
            continue;
        }
        let ips: &[[u8; 4]] = if two_addresses {
            &[[127, 0, 0, 1], [127, 0, 0, 2]]
        } else {
            &[[127, 0, 0, 1]]
        };
        let free = ips.iter().all(|ip| {
            [port, port + 1]
                .iter()
                .all(|p| UdpSocket::bind(SocketAddr::from((*ip, *p))).is_ok())
        });
        if free {
            return port;
        }
    }
    panic!("no free UDP port pair for coturn");
}
