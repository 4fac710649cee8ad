//! The baseline: rtpengine (Debian's `rtpengine-daemon`), userspace
//! forwarding only (`--table=-1`), as a child process on loopback, driven by
//! its ng control protocol (bencode over UDP: a cookie, a space, a
//! dictionary) with one offer and one answer per call.

use std::collections::BTreeMap;
use std::fs::File;
use std::net::{SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{Context as _, bail};

use crate::common::procfs::{self, Process, Usage};

/// The daemon of Debian's `rtpengine-daemon` package.
pub const BINARY: &str = "/usr/bin/rtpengine";
/// Its media ports: 4 per call (RTP + RTCP on each side).
const PORT_MIN: u16 = 40_000;
const PORT_MAX: u16 = 59_999;

/// A running rtpengine, killed on drop.
#[derive(Debug)]
pub struct Rtpengine {
    child: Child,
    control: UdpSocket,
    cookie: u64,
    pub version: String,
}

impl Rtpengine {
    /// Starts it with its log at `log` and waits until it answers a ping.
    pub fn start(log: &Path) -> anyhow::Result<Self> {
        let binary = PathBuf::from(BINARY);
        if !binary.is_file() {
            bail!(
                "no {BINARY}: install it with `apt-get install -y --no-install-recommends \
                 rtpengine-daemon` (or `scripts/install-deps.sh`)"
            );
        }
        let version = Command::new(&binary)
            .arg("--version")
            .output()
            .map(|out| {
                // It prints its version on stderr.
                let text = [out.stdout, out.stderr].concat();
                String::from_utf8_lossy(&text)
                    .trim()
                    .replace("Version: ", "")
            })
            .unwrap_or_default();
        let ng_port = free_udp_port()?;
        let child = Command::new(&binary)
            .args([
                "--interface=127.0.0.1",
                &format!("--listen-ng=127.0.0.1:{ng_port}"),
                &format!("--port-min={PORT_MIN}"),
                &format!("--port-max={PORT_MAX}"),
                "--foreground",
                "--log-stderr",
                "--log-level=4",
                "--table=-1",
                "--delete-delay=0",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(File::create(log)?)
            .spawn()
            .context("cannot start rtpengine")?;
        let control = UdpSocket::bind("127.0.0.1:0")?;
        control.connect(("127.0.0.1", ng_port))?;
        control.set_read_timeout(Some(Duration::from_millis(200)))?;
        let mut engine = Self {
            child,
            control,
            cookie: 0,
            version,
        };
        for _ in 0..50 {
            if let Ok(reply) = engine.command(&[("command", "ping")])
                && reply.get("result").map(String::as_str) == Some("pong")
            {
                return Ok(engine);
            }
            if let Some(status) = engine.child.try_wait()? {
                bail!("rtpengine exited ({status}); its log: {}", log.display());
            }
            // Refused (not bound yet) fails at once: wait before again.
            std::thread::sleep(Duration::from_millis(200));
        }
        bail!(
            "rtpengine did not answer a ping within 10 s; its log: {}",
            log.display()
        )
    }

    pub fn usage(&self) -> anyhow::Result<Usage> {
        procfs::usage(Process::Pid(self.child.id()))
    }

    /// Sets up call `call` between `caller` (the home end) and `callee`
    /// (the LAN end); returns where the caller sends (rtpengine's port
    /// facing it) and where the callee sends.
    pub fn call(
        &mut self,
        call: usize,
        caller: SocketAddr,
        callee: SocketAddr,
    ) -> anyhow::Result<(SocketAddr, SocketAddr)> {
        let call_id = format!("bench-{call}");
        let offer = self.command(&[
            ("command", "offer"),
            ("call-id", &call_id),
            ("from-tag", "home"),
            ("sdp", &sdp(caller)),
        ])?;
        let callee_to = media_address(&offer).context("offer")?;
        let answer = self.command(&[
            ("command", "answer"),
            ("call-id", &call_id),
            ("from-tag", "home"),
            ("to-tag", "lan"),
            ("sdp", &sdp(callee)),
        ])?;
        let caller_to = media_address(&answer).context("answer")?;
        Ok((caller_to, callee_to))
    }

    /// Ends call `call`, freeing its ports.
    pub fn delete(&mut self, call: usize) -> anyhow::Result<()> {
        let call_id = format!("bench-{call}");
        self.command(&[("command", "delete"), ("call-id", &call_id)])?;
        Ok(())
    }

    /// One request and its reply (the string values of its dictionary).
    fn command(&mut self, pairs: &[(&str, &str)]) -> anyhow::Result<BTreeMap<String, String>> {
        self.cookie += 1;
        let cookie = format!("c{}", self.cookie);
        let mut request = format!("{cookie} ").into_bytes();
        request.extend(encode(pairs));
        for _attempt in 0..5 {
            if self.control.send(&request).is_err() {
                continue;
            }
            let mut buf = vec![0u8; 65_536];
            let Ok(len) = self.control.recv(&mut buf) else {
                continue;
            };
            let reply = buf.get(..len).unwrap_or_default();
            let Some(body) = reply.strip_prefix(format!("{cookie} ").as_bytes()) else {
                continue;
            };
            let dict = decode_dict(body).context("undecodable ng reply")?;
            if dict.get("result").map(String::as_str) == Some("error") {
                bail!("rtpengine: {:?}", dict.get("error-reason"));
            }
            return Ok(dict);
        }
        bail!("rtpengine did not answer {pairs:?}")
    }
}

impl Drop for Rtpengine {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        for _ in 0..50 {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_udp_port() -> anyhow::Result<u16> {
    Ok(UdpSocket::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// A G.711 A-law audio offer/answer at `at`.
fn sdp(at: SocketAddr) -> String {
    format!(
        "v=0\r\no=- 1 1 IN IP4 {ip}\r\ns=-\r\nc=IN IP4 {ip}\r\nt=0 0\r\n\
         m=audio {port} RTP/AVP 8\r\na=rtpmap:8 PCMA/8000\r\na=ptime:20\r\na=sendrecv\r\n",
        ip = at.ip(),
        port = at.port()
    )
}

/// The `c=` address and `m=audio` port of the SDP in a reply.
fn media_address(reply: &BTreeMap<String, String>) -> anyhow::Result<SocketAddr> {
    let sdp = reply.get("sdp").context("no sdp in the reply")?;
    let ip = sdp
        .lines()
        .find_map(|line| line.strip_prefix("c=IN IP4 "))
        .context("no c= line")?
        .trim();
    let port = sdp
        .lines()
        .find_map(|line| line.strip_prefix("m=audio "))
        .and_then(|rest| rest.split_whitespace().next())
        .context("no m=audio line")?;
    Ok(format!("{ip}:{port}").parse()?)
}

/// A bencode dictionary of strings (keys sorted, as bencode wants).
fn encode(pairs: &[(&str, &str)]) -> Vec<u8> {
    let mut sorted: Vec<_> = pairs.to_vec();
    sorted.sort_unstable();
    let mut out = b"d".to_vec();
    for (key, value) in sorted {
        for text in [key, value] {
            out.extend(format!("{}:", text.len()).as_bytes());
            out.extend(text.as_bytes());
        }
    }
    out.push(b'e');
    out
}

/// The string (and integer, as text) values of a bencode dictionary's top
/// level; nested lists and dictionaries are skipped.
fn decode_dict(input: &[u8]) -> anyhow::Result<BTreeMap<String, String>> {
    let mut at = 0;
    if input.first() != Some(&b'd') {
        bail!("not a dictionary");
    }
    at += 1;
    let mut dict = BTreeMap::new();
    while input.get(at) != Some(&b'e') {
        let key = string(input, &mut at)?;
        if let Some(value) = value(input, &mut at)? {
            dict.insert(key, value);
        }
    }
    Ok(dict)
}

/// Skips or reads one value: `Some` for strings and integers.
fn value(input: &[u8], at: &mut usize) -> anyhow::Result<Option<String>> {
    match input.get(*at) {
        Some(b'i') => {
            let end = find(input, *at, b'e')?;
            let text = String::from_utf8_lossy(input.get(*at + 1..end).unwrap_or_default());
            *at = end + 1;
            Ok(Some(text.into_owned()))
        }
        Some(b'l' | b'd') => {
            let is_dict = input.get(*at) == Some(&b'd');
            *at += 1;
            while input.get(*at) != Some(&b'e') {
                if is_dict {
                    string(input, at)?;
                }
                value(input, at)?;
            }
            *at += 1;
            Ok(None)
        }
        Some(b'0'..=b'9') => string(input, at).map(Some),
        _ => bail!("bad bencode at {at}"),
    }
}

fn string(input: &[u8], at: &mut usize) -> anyhow::Result<String> {
    let colon = find(input, *at, b':')?;
    let len: usize = std::str::from_utf8(input.get(*at..colon).unwrap_or_default())?.parse()?;
    let bytes = input
        .get(colon + 1..colon + 1 + len)
        .context("short bencode string")?;
    *at = colon + 1 + len;
    Ok(String::from_utf8_lossy(bytes).into_owned())
}

fn find(input: &[u8], from: usize, byte: u8) -> anyhow::Result<usize> {
    input
        .get(from..)
        .and_then(|rest| rest.iter().position(|&b| b == byte))
        .map(|offset| from + offset)
        .context("truncated bencode")
}
