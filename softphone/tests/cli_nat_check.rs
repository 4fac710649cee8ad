//! `softphone nat-check` from home against a real coturn on loopback
//! (the helper is the gateway tests' own, shared by path).

#[path = "../../gateway/tests/coturn_support/mod.rs"]
mod coturn_support;

use std::process::{Command, Output};

use coturn_support::Coturn;

fn softphone(args: &[&str]) -> Output {
    // Its client trace goes into a config home of its own, not the user's.
    let home = tempfile::tempdir().expect("a config home");
    Command::new(env!("CARGO_BIN_EXE_softphone"))
        .args(args)
        .env("RUST_LOG", "off")
        .env("XDG_CONFIG_HOME", home.path())
        .output()
        .expect("run softphone")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn nat_check_prints_the_home_routers_behaviour_in_words() {
    let coturn = Coturn::rfc5780();
    let out = softphone(&["nat-check", "--stun", &coturn.address_text()]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    assert!(
        stdout.starts_with("NAT check of the home router via STUN server 127.0.0.1:"),
        "{stdout}"
    );
    assert!(stdout.contains("\npublic address: 127.0.0.1:"), "{stdout}");
    assert!(stdout.contains("\nmapping: no NAT"), "{stdout}");
    assert!(
        stdout.contains("\nfiltering: endpoint-independent"),
        "{stdout}"
    );
    assert!(
        stdout.contains("the home router's NAT is compatible with Device@Home"),
        "{stdout}"
    );
}

#[test]
fn nat_check_says_when_it_cannot_tell() {
    let coturn = Coturn::single_address();
    let out = softphone(&["nat-check", "--stun", &coturn.address_text()]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("could not determine"), "{stdout}");
    assert!(
        stdout.contains("Device@Home needs a router without symmetric NAT"),
        "{stdout}"
    );
}

#[test]
fn a_bad_stun_argument_is_a_usage_error() {
    let out = softphone(&["nat-check", "--stun", "bad host"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("--stun \"bad host\""));
}
