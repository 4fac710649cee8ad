//! `gateway status` asks a running `gateway run` how it is doing.

mod config_support;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use config_support::{Office, PASSWORDS, Subscriber, temp_dir};

/// The gateways of this binary's tests use the model's RTP port range:
/// one runs at a time.
static ONE_GATEWAY: std::sync::Mutex<()> = std::sync::Mutex::new(());

#[test]
fn status_reports_phones_calls_and_proxy_channels() {
    let _one = ONE_GATEWAY.lock().unwrap_or_else(|e| e.into_inner());
    let dir = temp_dir("status");
    // Free ports for HFA and HTTPS: another gateway may hold 8802 here.
    let config = config_with(dir.path(), "");
    let mut gateway = Command::new(env!("CARGO_BIN_EXE_gateway"))
        .args(["run", "--config"])
        .arg(&config)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the gateway");
    let stdout = gateway.stdout.take().expect("stdout");
    let listening = BufReader::new(stdout)
        .lines()
        .map_while(Result::ok)
        .any(|line| line.starts_with("listening:"));
    assert!(listening, "the gateway started");
    let status = Command::new(env!("CARGO_BIN_EXE_gateway"))
        .args(["status", "--config"])
        .arg(&config)
        .output()
        .expect("status");
    let _ = gateway.kill();
    let _ = gateway.wait();
    let report = String::from_utf8_lossy(&status.stdout);
    assert!(
        status.status.success(),
        "{report} {}",
        String::from_utf8_lossy(&status.stderr)
    );
    assert!(report.contains("registered phones: 0"), "{report}");
    assert!(
        report.contains("HFA connections: 0 open, 0 not registered; since start 0 refused"),
        "{report}"
    );
    assert!(
        report.contains("RTP proxy channels: 0 of 180 in use (peak 0)"),
        "{report}"
    );

    // No gateway, no answer: said in words, exit status 1.
    let status = Command::new(env!("CARGO_BIN_EXE_gateway"))
        .args(["status", "--config"])
        .arg(&config)
        .output()
        .expect("status");
    assert_eq!(status.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&status.stderr).contains("no gateway answers at"));
}

/// Writes a gateway config on a free loopback port; returns its path.
fn config_with(dir: &std::path::Path, tail: &str) -> std::path::PathBuf {
    let free_port = || {
        std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port()
    };
    let (port, https_port) = (free_port(), free_port());
    let config = dir.join("gateway.toml");
    Office::s()
        .data_dir(&dir.join("data"))
        .listen_address("127.0.0.1")
        .hfa_port(port)
        .https_port(https_port)
        .public_address("127.0.0.1")
        .company_lan(&["127.0.0.0/24"])
        .subscriber(Subscriber::hfa("201", "Anna", "OpenStage 60").password(PASSWORDS[0]))
        .section(tail)
        .write(&config);
    config
}

fn gateway(args: &[&str], config: &std::path::Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_gateway"))
        .args(args)
        .arg("--config")
        .arg(config)
        .output()
        .expect("the gateway binary runs")
}

#[test]
fn trace_profiles_from_the_config_and_switched_by_the_cli() {
    let _one = ONE_GATEWAY.lock().unwrap_or_else(|e| e.into_inner());
    let dir = temp_dir("trace-cli");
    let config = config_with(
        dir.path(),
        "[trace]\nenabled = [\"Application\"]\nfile_size_kib = 64\nfiles = 2\n",
    );
    let mut running = Command::new(env!("CARGO_BIN_EXE_gateway"))
        .args(["run", "--config"])
        .arg(&config)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the gateway");
    let stdout = running.stdout.take().expect("stdout");
    let listening = BufReader::new(stdout)
        .lines()
        .map_while(Result::ok)
        .any(|line| line.starts_with("listening:"));
    let traces = dir.path().join("data").join("traces");
    let read = |name: &str| std::fs::read_to_string(traces.join(name)).unwrap_or_default();
    let enable = gateway(&["trace", "enable", "CSTA_applications"], &config);
    let unknown = gateway(&["trace", "enable", "Voice_Fax"], &config);
    let status = gateway(&["status"], &config);
    let disable = gateway(&["trace", "disable", "Application"], &config);
    let application = read("Application.log");
    let csta = read("CSTA_applications.log");
    let _ = running.kill();
    let _ = running.wait();
    assert!(listening, "the gateway started");

    assert!(
        application.starts_with(|c: char| c.is_ascii_digit())
            && application.contains("TRACE Application switched on"),
        "{application}"
    );
    assert!(
        application.ends_with("TRACE Application switched off\n"),
        "{application}"
    );
    let said = String::from_utf8_lossy(&enable.stdout);
    assert!(enable.status.success(), "{said}");
    assert!(
        said.contains("trace CSTA_applications: on, writing "),
        "{said}"
    );
    assert!(csta.contains("CSTA_applications switched on"), "{csta}");
    let report = String::from_utf8_lossy(&status.stdout);
    assert!(
        report.contains("traces on: CSTA_applications, Application"),
        "{report}"
    );
    assert!(report.contains("registered devices: 0"), "{report}");
    assert_eq!(unknown.status.code(), Some(2), "clap refuses the name");
    let said = String::from_utf8_lossy(&unknown.stderr);
    assert!(said.contains("no trace profile \"Voice_Fax\""), "{said}");
    assert!(disable.status.success());
}
