//! `gateway status` asks a running `gateway run` how it is doing.

mod config_support;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use config_support::{PASSWORDS, temp_dir};

#[test]
fn status_reports_phones_calls_and_proxy_channels() {
    let dir = temp_dir("status");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let config = dir.path().join("gateway.toml");
    let text = format!(
        r#"
[system]
model = "S"
lan_interface = "LAN2"
data_dir = "{data}"
[network]
listen_address = "127.0.0.1"
hfa_port = {port}
public_address = "127.0.0.1"
company_lan = ["127.0.0.0/24"]
[[clients]]
number = "201"
name = "Anna"
kind = {{ hfa = "OpenStage 60" }}
password = "{password}"
"#,
        data = dir.path().join("data").display(),
        password = PASSWORDS[0],
    );
    std::fs::write(&config, text).expect("write the config");
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
