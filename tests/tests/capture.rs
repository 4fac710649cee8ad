//! Guide 7 / issue 15: `gateway run --capture FILE` with `SSLKEYLOGFILE`
//! writes a pcapng that tshark reads: the HFA frames as TCP payload on the
//! HFA port (decoded here with our own frame decoder), the portal's HTTPS
//! decrypted with the key log, and the relayed RTP with its payload type.
//! The real `gateway` binary, a real HFA phone with media and a real
//! myPortal to go app over TLS, calling each other through the SBC.
//! The app's own capture (`softphone portal ... --capture`) holds its side
//! of the same HTTPS, which the same key log decrypts.

use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpListener};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use bytes::Bytes;
use e2e_tests::portal::{App, temp_dir};
use e2e_tests::{BEN, DAN, HOME_IP, Handset, LAN_IP, account, next_rtp_range, office};
use shared::capture::Capture;
use shared::hfa::{FrameDecoder, Message};
use shared::hfa_engine::phone::PhoneTimers;
use shared::portal::CallState;
use shared::secret::Secret;
use softphone::audio::WavBackend;
use softphone::media::MediaOptions;
use softphone::media::call::MediaReport;
use softphone::portal::agent::{AgentCommand, AgentEvent, AgentTimers};
use softphone::portal::client::CallRequest;
use softphone::portal::{Network, PortalSettings, Trust};

/// A free TCP port on the LAN address (taken back at once for the gateway).
fn free_port() -> u16 {
    let listener = TcpListener::bind((LAN_IP, 0)).expect("a free port");
    listener.local_addr().expect("its address").port()
}

/// The `gateway` binary of this build: next to this test's `deps`
/// directory (`cargo test --workspace` builds it with the gateway's own
/// tests; alone: `cargo build -p gateway` first).
fn gateway_binary() -> std::path::PathBuf {
    let me = std::env::current_exe().expect("the test's own path");
    let binary = me
        .parent()
        .and_then(Path::parent)
        .map(|dir| dir.join("gateway"))
        .expect("the test runs from target/PROFILE/deps");
    assert!(
        binary.exists(),
        "{} missing: build it with `cargo build -p gateway`",
        binary.display()
    );
    binary
}

/// The gateway binary running the test office, and its certificate's
/// fingerprint from the line that says it listens.
struct RunningGateway {
    child: Child,
    fingerprint: String,
}

impl RunningGateway {
    fn start(config: &Path, capture: &Path, keys: &Path) -> Self {
        let mut child = Command::new(gateway_binary())
            .args(["run", "--config"])
            .arg(config)
            .arg("--capture")
            .arg(capture)
            .env("SSLKEYLOGFILE", keys)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .spawn()
            .expect("the gateway binary starts");
        let stdout = child.stdout.take().expect("piped stdout");
        let mut lines = BufReader::new(stdout).lines();
        let mut fingerprint = None;
        for line in lines.by_ref() {
            let line = line.expect("the gateway's stdout");
            if let Some(rest) = line.split("certificate SHA-256 ").nth(1) {
                fingerprint = rest.split(')').next().map(str::to_owned);
                break;
            }
        }
        // The rest of its output (it says when it stops) is read until it
        // exits, so its prints never hit a closed pipe.
        std::thread::spawn(move || lines.for_each(drop));
        Self {
            child,
            fingerprint: fingerprint.expect("the gateway says where it listens"),
        }
    }

    /// Ctrl-C, as a user stops it; waits for it to exit.
    fn stop(mut self) {
        let pid = nix::unistd::Pid::from_raw(self.child.id() as i32);
        nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT).expect("SIGINT");
        let status = self.child.wait().expect("the gateway exits");
        assert!(status.success(), "the gateway stopped with {status}");
    }
}

/// tshark's fields `fields` of the packets `filter` selects, one line per
/// packet, reading `capture` with `options`.
fn tshark(capture: &Path, options: &[&str], filter: &str, fields: &[&str]) -> Vec<String> {
    let mut command = Command::new("tshark");
    command.arg("-n").arg("-r").arg(capture);
    for option in options {
        command.args(["-o", option]);
    }
    command.args(["-Y", filter, "-T", "fields"]);
    for field in fields {
        command.args(["-e", field]);
    }
    let output = command
        .output()
        .expect("tshark runs (scripts/install-deps.sh installs it)");
    assert!(
        output.status.success(),
        "tshark failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}

/// The HFA messages in the TCP payloads (hex, in capture order) of one
/// direction, decoded with the gateway's own frame decoder.
fn hfa_messages(payloads: &[String]) -> Vec<Message> {
    let mut decoder = FrameDecoder::new();
    let mut messages = Vec::new();
    for payload in payloads {
        let mut bytes = Bytes::from(hex::decode(payload.trim()).expect("tshark prints hex"));
        while let Some(frame) = decoder.decode(&mut bytes).expect("well-formed HFA frames") {
            messages.push(frame.message);
        }
    }
    messages
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_capture_of_an_hfa_and_a_portal_call_decodes_in_tshark_with_the_key_log() {
    let dir = temp_dir("capture");
    let (capture, keys) = (
        dir.path().join("gateway.pcapng"),
        dir.path().join("keys.log"),
    );
    let (hfa_port, https_port) = (free_port(), free_port());
    let config = dir.path().join("gateway.toml");
    office()
        .data_dir(dir.path())
        .hfa_port(hfa_port)
        .https_port(https_port)
        .rtp_ports(next_rtp_range())
        .write(&config);
    let gateway = RunningGateway::start(&config, &capture, &keys);

    let silence = || MediaOptions::g711(Box::new(WavBackend::default()));
    // Ben's phone writes its own capture (`softphone hfa call --capture`).
    let ben_capture_file = dir.path().join("ben.pcapng");
    let ben_capture = Capture::create(&ben_capture_file).expect("Ben's capture");
    let mut ben_account = account(SocketAddr::new(LAN_IP, hfa_port), BEN, LAN_IP);
    ben_account.capture = Some(ben_capture.clone());
    let ben_media = MediaOptions {
        capture: Some(ben_capture.clone()),
        ..silence()
    };
    let mut ben =
        Handset::register_with_media(ben_account, PhoneTimers::default(), ben_media).await;
    let fingerprint = gateway.fingerprint.parse().expect("a SHA-256 fingerprint");
    let mut settings = PortalSettings::new(
        DAN.0,
        Secret::new(DAN.1),
        &SocketAddr::new(LAN_IP, https_port).to_string(),
        None,
        Network::RemoteWifi,
        Trust::Pin(fingerprint),
    )
    .expect("valid app settings");
    settings.flags.remote_wifi = true;
    settings.bind = Some(HOME_IP);
    // Dan's app writes its own capture too (`softphone portal call --capture`).
    let dan_capture_file = dir.path().join("dan.pcapng");
    let dan_capture = Capture::create(&dan_capture_file).expect("Dan's capture");
    settings.capture = Some(dan_capture.clone());
    let mut dan = App::start(settings, silence(), AgentTimers::default()).await;
    dan.events
        .until("Dan's registration", |e| {
            matches!(e, AgentEvent::Registered { .. })
        })
        .await;

    // Dan calls Ben; a quality report on Ben's side proves media flowed.
    dan.agent
        .send(AgentCommand::Call(CallRequest::Dial(BEN.0.to_owned())));
    ben.until("the ringer", |m| m.ringer()).await;
    ben.press("h");
    dan.events
        .until(
            "Dan connected",
            |e| matches!(e, AgentEvent::Call(view) if view.state == CallState::Connected),
        )
        .await;
    ben.media_report("a quality report", |r| matches!(r, MediaReport::Quality(_)))
        .await;
    ben.press("u");
    ben.media_report("Ben's media to stop", |r| {
        matches!(r, MediaReport::Stopped(_))
    })
    .await;
    dan.agent.stop().await;
    ben.client.stop().await;
    gateway.stop();
    assert_eq!(ben_capture.dropped(), 0, "nothing dropped at this rate");
    drop(ben_capture);
    assert_eq!(dan_capture.dropped(), 0, "nothing dropped at this rate");
    drop(dan_capture);

    // HFA: Ben's Register to the gateway, and the gateway's answer.
    let to_gateway = tshark(
        &capture,
        &[],
        &format!("tcp.dstport == {hfa_port} && tcp.len > 0"),
        &["tcp.payload"],
    );
    let from_gateway = tshark(
        &capture,
        &[],
        &format!("tcp.srcport == {hfa_port} && tcp.len > 0"),
        &["tcp.payload"],
    );
    let sent = hfa_messages(&to_gateway);
    let answered = hfa_messages(&from_gateway);
    assert!(
        sent.iter().any(|m| matches!(m, Message::Register(_))),
        "Ben's Register in the capture: {sent:?}"
    );
    assert!(
        answered
            .iter()
            .any(|m| matches!(m, Message::RegisterResponse(_))),
        "the gateway's Register Response in the capture: {answered:?}"
    );

    // The portal: TLS on its port, decrypted with the gateway's key log.
    let key_log = std::fs::read_to_string(&keys).expect("SSLKEYLOGFILE written");
    assert!(
        key_log.contains("CLIENT_TRAFFIC_SECRET_0") || key_log.contains("CLIENT_RANDOM"),
        "the key log holds NSS key log lines"
    );
    let keylog_option = format!("tls.keylog_file:{}", keys.display());
    let https = format!("tcp.port == {https_port}");
    let tls_records = tshark(&capture, &[], &format!("{https} && tls"), &["frame.number"]);
    assert!(!tls_records.is_empty(), "TLS on the portal port");
    let paths = tshark(
        &capture,
        &[&keylog_option, &format!("http.tls.port:{https_port}")],
        &format!("{https} && (http.request || http2.type == 1)"),
        &["http.request.uri", "http2.headers.path"],
    )
    .join("\n");
    assert!(
        paths.contains("/api/v1/login"),
        "the decrypted login request: {paths}"
    );
    assert!(
        paths.contains("/api/v1/call/"),
        "the decrypted call request: {paths}"
    );

    // RTP relayed by the SBC, found by tshark's RTP heuristic, G.711.
    let payload_types = tshark(
        &capture,
        &["rtp.heuristic_rtp:TRUE"],
        "rtp",
        &["rtp.p_type"],
    );
    let g711 = payload_types
        .iter()
        .filter(|pt| matches!(pt.trim(), "8" | "0"))
        .count();
    // Ben's own capture: his Register on the HFA port, his G.711 both ways.
    let ben_sent = hfa_messages(&tshark(
        &ben_capture_file,
        &[],
        &format!("tcp.dstport == {hfa_port} && tcp.len > 0"),
        &["tcp.payload"],
    ));
    assert!(
        ben_sent.iter().any(|m| matches!(m, Message::Register(_))),
        "Ben's Register in his own capture: {ben_sent:?}"
    );
    let ben_rtp = tshark(
        &ben_capture_file,
        &["rtp.heuristic_rtp:TRUE"],
        "rtp",
        &["rtp.p_type", "ip.dst"],
    );
    let ben_g711 = ben_rtp
        .iter()
        .filter(|line| line.starts_with('8') || line.starts_with("0\t"))
        .count();
    assert!(
        ben_g711 >= 50,
        "Ben's capture holds his G.711 RTP, found {ben_g711} of {}",
        ben_rtp.len()
    );
    // Dan's own capture: his TLS from his home address to the portal,
    // decrypted with the key log: the same API requests.
    let dan_paths = tshark(
        &dan_capture_file,
        &[&keylog_option, &format!("http.tls.port:{https_port}")],
        &format!("ip.src == {HOME_IP} && {https} && (http.request || http2.type == 1)"),
        &["http.request.uri", "http2.headers.path"],
    )
    .join("\n");
    for request in [
        "/api/v1/login",
        "/api/v1/voip/register",
        "/api/v1/call/dial",
    ] {
        assert!(
            dan_paths.contains(request),
            "{request} decrypted from Dan's own capture: {dan_paths}"
        );
    }
    eprintln!(
        "capture: Dan's own decrypted requests:\n{dan_paths}\nBen's own {ben_g711} G.711 RTP packets; {} HFA messages to the gateway, {} from it; {} TLS records; requests:\n{paths}\n{g711} G.711 RTP packets",
        sent.len(),
        answered.len(),
        tls_records.len()
    );
    assert!(
        g711 >= 50,
        "at least a second of G.711 RTP in the capture, found {g711} of {}",
        payload_types.len()
    );
}
