//! Voice through the command line, as a user runs it: the real `gateway`
//! binary with a generated office configuration, `softphone hfa answer
//! --record FILE` in the office, and `softphone hfa call --play FILE` from
//! home through the gateway's SBC, all on loopback. PESQ (P.862, MOS-LQO)
//! of the recorded file against the played speech must come within 0.02
//! of the plain G.711 round trip of the same speech.
//!
//! The played speech starts at its first sample, as synthesised speech
//! converted with sox does (no silence padded around it): the SBC drops a
//! home phone's first packets until it has latched their source, and a
//! file that started with the call lost its first 40 ms there (0.08 MOS).
//!
//! Needs the `gateway` and `softphone` binaries of this build beside the
//! test (`cargo test --workspace` builds them; alone: `cargo build --bin
//! gateway --bin softphone` first).

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use e2e_tests::speech::{g711_round_trip, mos, read_wav, reference, write_wav};
use e2e_tests::{ANNA, BEN, HOME_IP, LAN_IP, next_rtp_range, office};

/// The reference speech's silence on either side, which the played file
/// goes without.
const PADDING: usize = 4000;
/// How long after the speech's end Anna hangs up: time for its last
/// packets to play out, as a user would allow.
const HANG_UP_AFTER_SPEECH: Duration = Duration::from_millis(1500);
/// Long enough for anything on loopback; reached only when the test fails.
const PATIENCE: Duration = Duration::from_secs(60);

/// A binary of this build: next to this test's `deps` directory.
fn binary(name: &str) -> PathBuf {
    let me = std::env::current_exe().expect("the test's own path");
    let binary = me
        .parent()
        .and_then(Path::parent)
        .map(|dir| dir.join(name))
        .expect("the test runs from target/PROFILE/deps");
    assert!(
        binary.exists(),
        "{} missing: build it with `cargo build --bin {name}`",
        binary.display()
    );
    binary
}

/// A free TCP port on the LAN address (taken back at once for the gateway).
fn free_port() -> u16 {
    let listener = TcpListener::bind((LAN_IP, 0)).expect("a free port");
    listener.local_addr().expect("its address").port()
}

/// A child process, killed if the test fails before it exits; its stdout
/// lines come through a thread.
struct Running {
    child: Child,
    lines: Receiver<String>,
    seen: Vec<String>,
}

impl Running {
    fn start(command: &mut Command) -> Self {
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .env("RUST_LOG", "warn")
            .spawn()
            .expect("the binary starts");
        let stdout = BufReader::new(child.stdout.take().expect("piped stdout"));
        let (sender, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in stdout.lines().map_while(Result::ok) {
                if sender.send(line).is_err() {
                    return;
                }
            }
        });
        Self {
            child,
            lines,
            seen: Vec::new(),
        }
    }

    /// Reads stdout up to the first line starting with `prefix`.
    fn until(&mut self, prefix: &str) -> String {
        let deadline = Instant::now() + PATIENCE;
        while let Ok(line) = self
            .lines
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
        {
            self.seen.push(line.clone());
            if line.starts_with(prefix) {
                return line;
            }
        }
        panic!("no line starting with {prefix:?} in {:#?}", self.seen);
    }

    /// Waits for the exit, keeping what it printed: its stdout closes as
    /// it exits, which ends the reader thread's channel.
    fn exit(&mut self) -> ExitStatus {
        let deadline = Instant::now() + PATIENCE;
        loop {
            match self
                .lines
                .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            {
                Ok(line) => self.seen.push(line),
                Err(RecvTimeoutError::Disconnected) => break,
                Err(RecvTimeoutError::Timeout) => panic!("still running: {:#?}", self.seen),
            }
        }
        self.child.wait().expect("wait")
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn softphone(dir: &Path, hfa_port: u16, (number, password): (&str, &str)) -> Command {
    let password_file = dir.join(format!("{number}.password"));
    std::fs::write(&password_file, format!("{password}\n")).expect("password file");
    let mut command = Command::new(binary("softphone"));
    command
        // The client trace goes into the test's directory, not the user's.
        .env("XDG_CONFIG_HOME", dir)
        .arg("hfa")
        .arg(if number == ANNA.0 { "call" } else { "answer" })
        // Scored against the G.711 round trip: the phones offer no G.722.
        .arg("--no-g722")
        .args([
            "--gateway",
            &format!("{LAN_IP}:{hfa_port}"),
            "--number",
            number,
        ])
        .arg("--password-file")
        .arg(password_file);
    command
}

#[test]
fn speech_played_from_home_through_the_sbc_is_recorded_as_well_as_g711_carries_it() {
    let dir = tempfile::Builder::new()
        .prefix("e2e-cli-voice-")
        .tempdir()
        .expect("a temporary directory");
    let (_, padded) = reference();
    let speech = &padded[PADDING..padded.len() - PADDING];
    let (played, recorded) = (dir.path().join("speech.wav"), dir.path().join("heard.wav"));
    write_wav(&played, 8000, speech);

    let (hfa_port, https_port) = (free_port(), free_port());
    let config = dir.path().join("gateway.toml");
    let rtp = next_rtp_range();
    office()
        .data_dir(dir.path())
        .hfa_port(hfa_port)
        .https_port(https_port)
        .rtp_ports(rtp)
        .write(&config);
    let mut gateway = Running::start(
        Command::new(binary("gateway"))
            .args(["run", "--config"])
            .arg(&config),
    );
    gateway.until("listens:");

    let mut ben = Running::start(
        softphone(dir.path(), hfa_port, BEN)
            .arg("--auto")
            .arg("--record")
            .arg(&recorded),
    );
    ben.until("registered:");
    let speech_time = Duration::from_secs_f64(speech.len() as f64 / 8000.0);
    let hang_up = (speech_time + HANG_UP_AFTER_SPEECH).as_millis();
    let mut anna = Running::start(
        softphone(dir.path(), hfa_port, ANNA)
            .arg(BEN.0)
            .args(["--hangup-after", &format!("{hang_up}ms")])
            .args(["--bind", &HOME_IP.to_string()])
            .arg("--play")
            .arg(&played),
    );
    // From home, the call's media goes to the gateway's RTP proxy, in
    // G.711 A-law ("media: started", the phone's own line, may come first).
    let media = anna.until("media: PCMA to ");
    let port: u16 = media
        .rsplit(':')
        .next()
        .and_then(|port| port.parse().ok())
        .unwrap_or_else(|| panic!("{media:?} names no port"));
    assert!(
        media.starts_with("media: PCMA to 127.0.0.1:") && (rtp.first..=rtp.last).contains(&port),
        "{media:?}, not through the SBC's ports {rtp:?}"
    );
    assert!(anna.exit().success(), "{:#?}", anna.seen);
    assert!(ben.exit().success(), "{:#?}", ben.seen);
    let pid = nix::unistd::Pid::from_raw(gateway.child.id() as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT).expect("SIGINT");
    assert!(gateway.exit().success(), "{:#?}", gateway.seen);

    let ceiling = mos(speech, &g711_round_trip(speech));
    let score = mos(speech, &read_wav(&recorded));
    let stopped = ben
        .seen
        .iter()
        .find(|line| line.starts_with("media stopped"));
    eprintln!(
        "PESQ MOS-LQO: G.711 round trip {ceiling:.3}, through the command line {score:.3} \
         ({:+.3}); Ben's {stopped:?}",
        score - ceiling
    );
    assert!(ceiling > 3.6, "the speech itself is sane: {ceiling}");
    assert!(
        score >= ceiling - 0.02,
        "the command line scored {score:.3}, the codec alone {ceiling:.3}"
    );
}
