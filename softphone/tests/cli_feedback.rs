//! Guide 7 from the home side: `softphone feedback` after real calls, an
//! HFA phone's and a myPortal to go app's (the real `softphone` binary,
//! each in its own profile, against a gateway in this process; a real
//! coturn for the STUN question). The archive holds what section 7 lists:
//! the client trace, the capture, the device and its release, the routers
//! as named, every IP address involved and the last calls' quality; no
//! password, UC proof or session token in any file of it.

#[path = "../../gateway/tests/coturn_support/mod.rs"]
mod coturn_support;

use std::collections::BTreeMap;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::Duration;

use coturn_support::Coturn;
use gateway::config;
use gateway::gateway::{Gateway, StartOptions};
use gateway::testing::Office;
use gateway::testing::cast::{self, ANNA, BEN, DAN};
use softphone::feedback::calls::CallSummary;
use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::process::{Child, ChildStdout, Command};

const HOME_ROUTER: &str = "FRITZ!Box 7590 (FRITZ!OS 7.57)";
const OFFICE_ROUTER: &str = "LANCOM 1793VA";

/// Long enough for anything on loopback; reached only when a test fails.
const PATIENCE: Duration = Duration::from_secs(30);

async fn start_gateway(data: &Path, rtp_first: u16) -> Gateway {
    let config = Office::x3()
        .on_loopback()
        .data_dir(data)
        .subscribers([cast::anna(), cast::ben(), cast::dan()])
        .validated();
    let options = StartOptions {
        hfa_listen: Some("127.0.0.1:0".parse().expect("an address")),
        portal_listen: Some("127.0.0.1:0".parse().expect("an address")),
        rtp_range: Some(config::RtpRange {
            first: rtp_first,
            last: rtp_first + 127,
        }),
        ..StartOptions::default()
    };
    Gateway::start(config, options)
        .await
        .expect("gateway starts")
}

/// The softphone binary with its config directory (so its profiles) in
/// `home`; stderr quiet, as a user runs it.
fn softphone(home: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_softphone"));
    command
        .args(args)
        .env("XDG_CONFIG_HOME", home)
        .env("RUST_LOG", "off")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    command
}

fn password_file(dir: &Path, (number, password): (&str, &str)) -> String {
    let path = dir.join(format!("password-{number}"));
    std::fs::write(&path, format!("{password}\n")).expect("the password file");
    path.to_string_lossy().into_owned()
}

/// Ben (202) answering the next call at his desk, in his own profile.
async fn ben_answers(dir: &Path, gateway: &Gateway) -> Child {
    let home = dir.join("ben");
    let mut ben = softphone(
        &home,
        &["hfa", "answer", "--auto", "--no-audio", "--number", BEN.0],
    )
    .args(["--gateway", &gateway.hfa_addr().to_string()])
    .args(["--password-file", &password_file(dir, BEN)])
    .spawn()
    .expect("Ben's softphone starts");
    let mut lines = BufReader::new(ben.stdout.take().expect("stdout")).lines();
    read_until(&mut lines, "registered:").await;
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    ben
}

async fn read_until(lines: &mut Lines<BufReader<ChildStdout>>, prefix: &str) {
    let mut seen = Vec::new();
    let found = tokio::time::timeout(PATIENCE, async {
        while let Ok(Some(line)) = lines.next_line().await {
            let done = line.starts_with(prefix);
            seen.push(line);
            if done {
                return true;
            }
        }
        false
    })
    .await;
    assert_eq!(found, Ok(true), "no line {prefix:?} in {seen:#?}");
}

async fn finished(child: Child, what: &str) -> Output {
    let output = tokio::time::timeout(PATIENCE, child.wait_with_output())
        .await
        .unwrap_or_else(|_| panic!("{what} ends"))
        .expect("its output");
    assert!(
        output.status.success(),
        "{what}: {}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// `softphone feedback` for the profile in `home`; the archive's files by
/// name (the top directory stripped).
async fn feedback(home: &Path, out: &Path, stun: &Coturn) -> BTreeMap<String, Vec<u8>> {
    let out_text = out.to_string_lossy().into_owned();
    let child = softphone(
        home,
        &[
            "feedback",
            "--out",
            &out_text,
            "--home-router",
            HOME_ROUTER,
            "--office-router",
            OFFICE_ROUTER,
            "--stun",
            &stun.address_text(),
        ],
    )
    .spawn()
    .expect("softphone feedback starts");
    let output = finished(child, "softphone feedback").await;
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.starts_with(&format!("feedback archive written: {out_text}")),
        "{stdout}"
    );
    let file = std::fs::File::open(out).expect("the archive");
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(file));
    let mut members = BTreeMap::new();
    for entry in archive.entries().expect("a tar archive") {
        let mut entry = entry.expect("an entry");
        let path = entry.path().expect("a path").into_owned();
        let name: PathBuf = path.components().skip(1).collect();
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes).expect("its bytes");
        members.insert(name.to_string_lossy().into_owned(), bytes);
    }
    members
}

fn text<'a>(members: &'a BTreeMap<String, Vec<u8>>, name: &str) -> &'a str {
    let bytes = members
        .get(name)
        .unwrap_or_else(|| panic!("{name} in the archive: {:?}", members.keys()));
    std::str::from_utf8(bytes).expect("text")
}

/// No secret in any file: the passwords as such, and no run of 32 or more
/// hex digits (UC login proofs and session tokens are 64; nothing else the
/// softphone writes is that long).
fn assert_no_secret(members: &BTreeMap<String, Vec<u8>>, passwords: &[&str]) {
    for (name, bytes) in members {
        let content = String::from_utf8_lossy(bytes);
        for password in passwords {
            assert!(!content.contains(password), "{name} holds a password");
        }
        if name.ends_with(".pcapng") {
            continue; // binary; the API in it is TLS
        }
        let mut run = 0;
        for ch in content.chars() {
            run = if ch.is_ascii_hexdigit() { run + 1 } else { 0 };
            assert!(run < 32, "{name} holds a hex secret:\n{content}");
        }
    }
}

fn summaries(members: &BTreeMap<String, Vec<u8>>) -> Vec<CallSummary> {
    text(members, "calls.jsonl")
        .lines()
        .map(|line| serde_json::from_str(line).expect("a call summary"))
        .collect()
}

fn assert_common(members: &BTreeMap<String, Vec<u8>>, stun: &Coturn) {
    let readme = text(members, "README.txt");
    for profile in [
        "Voice_Fax_connection",
        "SIP_Interconnection_Subscriber_ITSP",
        "Calls_with_System_Device_HFA",
        "CSTA_applications",
    ] {
        assert!(readme.contains(profile), "{readme}");
    }
    for name in members.keys().filter(|name| *name != "README.txt") {
        assert!(readme.contains(&format!("- {name}: ")), "{name}: {readme}");
    }
    let setup = text(members, "setup.txt");
    assert!(
        setup.contains(&format!(
            "Used router at the remote location: {HOME_ROUTER}"
        )),
        "{setup}"
    );
    assert!(
        setup.contains(&format!(
            "Used router at the office location: {OFFICE_ROUTER}"
        )),
        "{setup}"
    );
    assert!(
        setup.contains("    lo 127.0.0.1\n"),
        "own addresses: {setup}"
    );
    assert!(
        setup.contains("the home router's public address: 127.0.0.1:")
            && setup.contains(&format!("(as STUN server {} sees", stun.address_text())),
        "{setup}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_archive_after_an_hfa_call_holds_what_section_7_lists() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let gateway = start_gateway(&dir.path().join("data"), 27600).await;
    let stun = Coturn::single_address();
    let mut ben = ben_answers(dir.path(), &gateway).await;
    let anna_home = dir.path().join("anna");
    let capture = dir.path().join("anna.pcapng");
    let hfa = gateway.hfa_addr().to_string();
    let anna = softphone(
        &anna_home,
        &["hfa", "call", BEN.0, "--hangup-after", "5s", "--no-audio"],
    )
    .args(["--gateway", &hfa, "--number", ANNA.0])
    .args(["--password-file", &password_file(dir.path(), ANNA)])
    .arg("--capture")
    .arg(&capture)
    .spawn()
    .expect("Anna's softphone starts");
    finished(anna, "Anna's call").await;
    let _ = ben.kill().await;

    let members = feedback(&anna_home, &dir.path().join("anna.tar.gz"), &stun).await;
    assert_common(&members, &stun);
    let setup = text(&members, "setup.txt");
    assert!(setup.contains("  type: OpenStage 60 HFA\n"), "{setup}");
    assert!(setup.contains("  software release: V3R1.41.0\n"), "{setup}");
    assert!(
        setup.contains(&format!("    HFA {hfa} -> {hfa}\n")),
        "the gateway configured and resolved: {setup}"
    );
    assert_eq!(
        members.get("capture.pcapng"),
        Some(&std::fs::read(&capture).expect("Anna's capture")),
        "the capture she recorded"
    );
    let calls = summaries(&members);
    let [call] = calls.as_slice() else {
        panic!("one call: {calls:#?}");
    };
    assert_eq!(call.codec, "G722", "two OpenStage 60s talk wideband");
    assert!(call.duration_s >= 4.5, "{call:?}");
    assert!(call.received.packets > 150 && call.mos > 4.0, "{call:?}");
    let sent = call.sent.as_ref().expect("Ben's RTCP reports our stream");
    assert!(sent.loss_percent < 1.0, "{call:?}");
    assert!(text(&members, "calls.txt").contains("codec G722"));
    let trace = text(&members, "trace/softphone.log");
    for expected in [
        "softphone started",
        "HFA connection open",
        "HFA registered",
        "call ended",
    ] {
        assert!(
            trace.contains(expected),
            "{expected:?} in the trace:\n{trace}"
        );
    }
    assert_no_secret(&members, &[ANNA.1, BEN.1]);
    gateway.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_archive_after_a_portal_call_holds_no_proof_or_token() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let gateway = start_gateway(&dir.path().join("data"), 27728).await;
    let stun = Coturn::single_address();
    let mut ben = ben_answers(dir.path(), &gateway).await;
    let dan_home = dir.path().join("dan");
    let wan = gateway.portal_addr().expect("the portal").to_string();
    let pin = gateway
        .portal_fingerprint()
        .expect("its fingerprint")
        .to_owned();
    let dan = softphone(
        &dan_home,
        &[
            "portal",
            "call",
            BEN.0,
            "--hangup-after",
            "5s",
            "--no-audio",
        ],
    )
    .args(["--user", DAN.0, "--wan", &wan, "--pin", &pin])
    .args(["--network", "remote-wifi", "--remote-wifi-voip"])
    .args(["--password-file", &password_file(dir.path(), DAN)])
    .spawn()
    .expect("Dan's app starts");
    finished(dan, "Dan's call").await;
    let _ = ben.kill().await;

    let members = feedback(&dan_home, &dir.path().join("dan.tar.gz"), &stun).await;
    assert_common(&members, &stun);
    let setup = text(&members, "setup.txt");
    assert!(setup.contains("  type: myPortal to go (VoIP)\n"), "{setup}");
    assert!(
        setup.contains(&format!("    myPortal to go server {wan} -> {wan}\n")),
        "{setup}"
    );
    let calls = summaries(&members);
    assert_eq!(
        calls.len(),
        1,
        "one call: {}",
        text(&members, "trace/softphone.log")
    );
    assert!(calls[0].received.packets > 150, "{calls:?}");
    let trace = text(&members, "trace/softphone.log");
    for expected in [
        "/login/challenge",
        "/login",
        "/voip/register",
        "/call/",
        "call ended",
    ] {
        assert!(
            trace.contains(expected),
            "{expected:?} in the trace:\n{trace}"
        );
    }
    assert_no_secret(&members, &[DAN.1, BEN.1]);
    gateway.stop().await;
}
