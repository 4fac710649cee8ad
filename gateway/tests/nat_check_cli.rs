//! `gateway nat-check` against a real coturn on loopback: the report in
//! words, and the exit status when the NAT type cannot be determined.

mod coturn_support;

use std::process::{Command, Output};

use coturn_support::Coturn;

fn gateway(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gateway"))
        .args(args)
        .env("RUST_LOG", "off")
        .output()
        .expect("run gateway")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn nat_check_reports_public_address_mapping_and_filtering() {
    let coturn = Coturn::rfc5780();
    let out = gateway(&["nat-check", "--stun", &coturn.address_text()]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines[0],
        format!(
            "NAT check of the company internet router via STUN server {}",
            coturn.primary
        )
    );
    assert!(
        lines[1].starts_with("public address: 127.0.0.1:"),
        "{stdout}"
    );
    assert_eq!(lines[2], "mapping: no NAT (the address is public)");
    assert!(
        lines[3].starts_with("filtering: endpoint-independent"),
        "{stdout}"
    );
    assert_eq!(
        lines[4],
        "the company internet router's NAT is compatible with Device@Home (not symmetric)"
    );
}

#[test]
fn nat_check_fails_in_words_when_the_server_lacks_rfc5780() {
    let coturn = Coturn::single_address();
    let out = gateway(&["nat-check", "--stun", &coturn.address_text()]);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    assert!(
        stdout.contains("mapping: could not determine: the STUN server")
            && stdout.contains("does not support NAT behaviour discovery"),
        "{stdout}"
    );
    assert!(stderr.contains("could not be determined"), "{stderr}");
}

#[test]
fn nat_check_names_a_bad_stun_argument() {
    let out = gateway(&["nat-check", "--stun", "stun.example.net:99999"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("--stun \"stun.example.net:99999\"") && stderr.contains("port"),
        "{stderr}"
    );
}
