//! `softphone hfa register`, `call` and `answer` as a QA script runs them: a real process against a
//! gateway on loopback, asserting on its output lines and exit code.

use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use gateway::gateway::{Gateway, StartOptions};
use gateway::testing::{Office, cast, rtp_range};
use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::process::{Child, ChildStdout, Command};

const PASSWORD: &str = cast::ANNA.1;

/// Long enough for anything on loopback; reached only when a test fails.
const PATIENCE: Duration = Duration::from_secs(20);

async fn start_gateway() -> Gateway {
    let config = Office::x3()
        .on_loopback()
        .subscribers([cast::anna(), cast::ben()])
        .validated();
    let options = StartOptions {
        hfa_listen: Some("127.0.0.1:0".parse().expect("an address")),
        // A block of RTP proxy ports per gateway: the tests run side by side.
        rtp_range: Some(rtp_range(26000, 16)),
        ..StartOptions::default()
    };
    Gateway::start(config, options)
        .await
        .expect("gateway starts")
}

/// A password file in a directory of its own, which is also the run's
/// config home (the client trace goes there, not into the user's).
fn password_file(name: &str, password: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("softphone-cli-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a directory for the run");
    let path = dir.join("password");
    std::fs::write(&path, format!("{password}\n")).expect("write the password file");
    path
}

/// The config home of the run whose password file is `file`.
fn config_home(file: &Path) -> &Path {
    file.parent().expect("the run's directory")
}

/// Removes the run's directory (password file and config home).
fn clean(file: &Path) {
    let dir = config_home(file);
    assert!(
        dir.file_name()
            .is_some_and(|name| name.to_string_lossy().starts_with("softphone-cli-")),
        "not a run's directory: {}",
        dir.display()
    );
    let _ = std::fs::remove_dir_all(dir);
}

fn register(gateway: &Gateway, number: &str, password_file: &PathBuf, extra: &[&str]) -> Child {
    softphone(&["hfa", "register"], gateway, number, password_file, extra)
}

/// Runs `softphone <command> --gateway .. --number .. --password-file ..`.
fn softphone(
    command: &[&str],
    gateway: &Gateway,
    number: &str,
    password_file: &PathBuf,
    extra: &[&str],
) -> Child {
    Command::new(env!("CARGO_BIN_EXE_softphone"))
        .env("XDG_CONFIG_HOME", config_home(password_file))
        .args(command)
        .args([
            "--gateway",
            &gateway.hfa_addr().to_string(),
            "--number",
            number,
        ])
        .arg("--password-file")
        .arg(password_file)
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("start the softphone binary")
}

/// Reads stdout lines until one starts with `prefix`; returns all read.
async fn read_until(lines: &mut Lines<BufReader<ChildStdout>>, prefix: &str) -> Vec<String> {
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
    assert_eq!(
        found,
        Ok(true),
        "no line starting with {prefix:?} in {seen:#?}"
    );
    seen
}

async fn exit_status(child: &mut Child) -> ExitStatus {
    tokio::time::timeout(PATIENCE, child.wait())
        .await
        .expect("the softphone exits")
        .expect("wait")
}

#[tokio::test]
async fn registers_prints_each_state_and_exits_cleanly_on_interrupt() {
    let gateway = start_gateway().await;
    let file = password_file("ok", PASSWORD);
    let mut child = register(&gateway, "201", &file, &["--dls", "10.0.0.5"]);
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let seen = read_until(&mut lines, "registered:").await;
    let states: Vec<_> = seen
        .iter()
        .filter(|line| line.starts_with("state: "))
        .collect();
    assert_eq!(
        states,
        [
            "state: connecting",
            "state: connected, requesting the system time",
            "state: registering",
            "state: registered (session 1)",
        ]
    );
    assert!(gateway.is_registered("201"));
    // Ctrl-C, as a person or a QA script would stop it.
    let pid = child.id().expect("running").to_string();
    let signalled = Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .await
        .expect("kill");
    assert!(signalled.success());
    assert!(exit_status(&mut child).await.success());
    let mut stderr = String::new();
    tokio::io::AsyncReadExt::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr)
        .await
        .unwrap();
    assert!(
        stderr.contains("leave the DLS address empty"),
        "DLS warning on stderr: {stderr}"
    );
    assert!(!stderr.contains(PASSWORD) && !seen.iter().any(|line| line.contains(PASSWORD)));
    clean(&file);
    gateway.stop().await;
}

#[tokio::test]
async fn a_declined_registration_exits_3_with_the_reason_in_words() {
    let gateway = start_gateway().await;
    let file = password_file("wrong", "Not-the-password-1");
    let mut child = register(&gateway, "201", &file, &[]);
    let status = exit_status(&mut child).await;
    assert_eq!(status.code(), Some(3));
    let output = child.wait_with_output().await.expect("output");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("registration declined: Wrong password: check the HFA password"),
        "{stderr}"
    );
    clean(&file);
    gateway.stop().await;
}

#[tokio::test]
async fn unusable_settings_exit_2_naming_the_setting() {
    let gateway = start_gateway().await;
    let file = password_file("usage", PASSWORD);
    let mut child = register(&gateway, "20x1", &file, &[]);
    assert_eq!(exit_status(&mut child).await.code(), Some(2));
    let output = child.wait_with_output().await.expect("output");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("number = \"20x1\""), "{stderr}");
    clean(&file);
    gateway.stop().await;
}

#[tokio::test]
async fn answer_and_call_connect_and_both_exit_0_and_the_played_file_is_heard() {
    let gateway = start_gateway().await;
    let ben_file = password_file("ben", "Ben!desk-4711");
    let anna_file = password_file("anna", PASSWORD);
    let tone_file = config_home(&anna_file).join("tone.wav");
    let heard_file = config_home(&ben_file).join("heard.wav");
    write_tone(&tone_file);
    let heard = heard_file.to_string_lossy().into_owned();
    let mut ben = softphone(
        &["hfa", "answer", "--auto"],
        &gateway,
        "202",
        &ben_file,
        &["--record", &heard],
    );
    let mut ben_lines = BufReader::new(ben.stdout.take().unwrap()).lines();
    read_until(&mut ben_lines, "registered:").await;
    let tone = tone_file.to_string_lossy().into_owned();
    let mut anna = softphone(
        &["hfa", "call", "202", "--hangup-after", "2s"],
        &gateway,
        "201",
        &anna_file,
        &["--play", &tone],
    );
    let mut anna_lines = BufReader::new(anna.stdout.take().unwrap()).lines();
    let anna_seen = read_until(&mut anna_lines, "connected").await;
    assert!(
        anna_seen
            .iter()
            .any(|line| line == "display: Calling 202 Ben |"),
        "{anna_seen:#?}"
    );
    let mut ben_seen = read_until(&mut ben_lines, "connected").await;
    assert!(
        ben_seen.iter().any(|line| line == "ringer: on"),
        "{ben_seen:#?}"
    );
    ben_seen.extend(read_until(&mut ben_lines, "media stopped:").await);
    assert!(
        ben_seen
            .iter()
            .any(|line| line.starts_with("media: G722 to ")),
        "{ben_seen:#?}"
    );
    // Anna hangs up after 2 s; Ben's answer ends when the call does.
    assert!(exit_status(&mut anna).await.success());
    assert!(exit_status(&mut ben).await.success());
    assert_eq!(gateway.calls().calls(), 0);
    let reader = hound::WavReader::open(&heard_file).expect("the recording");
    assert_eq!(
        reader.spec().sample_rate,
        16_000,
        "two OpenStage 60s talk G.722: recorded at its 16 kHz"
    );
    let samples: Vec<i16> = reader
        .into_samples::<i16>()
        .collect::<Result<_, _>>()
        .expect("samples");
    let loud = softphone::audio::tone::loud_span(&samples, 2000);
    let frequency = softphone::audio::tone::dominant_frequency(loud, 16_000).expect("a tone");
    assert!((frequency - 1000.0).abs() < 5.0, "Ben heard {frequency} Hz");
    for file in [ben_file, anna_file] {
        clean(&file);
    }
    gateway.stop().await;
}

/// 1.5 s of a 1 kHz tone, 8 kHz mono.
fn write_tone(path: &PathBuf) {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 8000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut writer = hound::WavWriter::create(path, spec).expect("create");
    for sample in softphone::audio::tone::sine(8000, 1000.0, 12000.0, 12000) {
        writer.write_sample(sample).expect("write");
    }
    writer.finalize().expect("finalize");
}

#[tokio::test]
async fn a_failed_call_exits_4_with_the_reason() {
    let gateway = start_gateway().await;
    let file = password_file("fail", PASSWORD);
    let mut child = softphone(
        &["hfa", "call", "299"],
        &gateway,
        "201",
        &file,
        &["--no-audio"],
    );
    assert_eq!(exit_status(&mut child).await.code(), Some(4));
    let output = child.wait_with_output().await.expect("output");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("call failed: Unknown number"), "{stdout}");
    clean(&file);
    gateway.stop().await;
}

#[tokio::test]
async fn the_gateway_may_be_given_by_dns_name() {
    // As at home: `--gateway company.example.com:4070`, a name that the
    // resolver turns into the company router's address.
    let gateway = start_gateway().await;
    let file = password_file("dns", PASSWORD);
    let by_name = format!("localhost:{}", gateway.hfa_addr().port());
    let mut child = Command::new(env!("CARGO_BIN_EXE_softphone"))
        .env("XDG_CONFIG_HOME", config_home(&file))
        .args(["hfa", "register", "--gateway", &by_name, "--number", "201"])
        .arg("--password-file")
        .arg(&file)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("start the softphone binary");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let seen = read_until(&mut lines, "registered:").await;
    assert!(
        seen.first().is_some_and(
            |line| line.contains(&format!("at localhost:{}", gateway.hfa_addr().port()))
        ),
        "{seen:#?}"
    );
    assert!(gateway.is_registered("201"));
    child.kill().await.expect("stop the softphone");
    clean(&file);
    gateway.stop().await;
}
