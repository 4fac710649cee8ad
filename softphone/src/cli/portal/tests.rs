//! Parsing of `softphone portal ...` and the settings it makes.

use clap::Parser;

use super::*;
use crate::cli::{Args, Command, EXIT_USAGE};

const FP: &str = "ab:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67:89";

fn parse(words: &[&str]) -> Result<PortalCommand, clap::Error> {
    let args = Args::try_parse_from(["softphone", "portal"].iter().chain(words))?;
    match args.command {
        Some(Command::Portal(command)) => Ok(*command),
        other => panic!("a portal command, got {other:?}"),
    }
}

const ACCOUNT: [&str; 4] = ["--user", "210", "--wan", "company.example.com"];

fn with_account<'a>(words: &[&'a str]) -> Vec<&'a str> {
    words.iter().copied().chain(ACCOUNT).collect()
}

#[test]
fn call_takes_the_number_network_flags_trust_and_bind() {
    let words = with_account(&[
        "call",
        "201",
        "--lan",
        "10.10.0.2",
        "--network",
        "remote-wifi",
        "--remote-wifi-voip",
        "--pin",
        FP,
        "--bind",
        "127.0.1.20",
        "--no-audio",
        "--hangup-after",
        "2s",
    ]);
    let Ok(PortalCommand::Call(call)) = parse(&words) else {
        panic!("portal call parses");
    };
    assert_eq!(call.dial.destination, "201");
    assert_eq!(call.dial.hangup_after, Duration::from_secs(2));
    let settings = call
        .settings
        .settings(Some("Portal-Pass-2026!".into()))
        .expect("settings");
    assert_eq!(settings.network, Network::RemoteWifi);
    assert!(settings.flags.voip && settings.flags.remote_wifi);
    assert_eq!(settings.lan.expect("lan").to_string(), "10.10.0.2:8802");
    assert_eq!(settings.wan.to_string(), "company.example.com:8802");
    assert_eq!(settings.bind, Some("127.0.1.20".parse().expect("ip")));
    assert_eq!(settings.trust, Trust::Pin(FP.parse().expect("fingerprint")));
}

#[test]
fn a_password_is_never_an_option_and_must_come_from_a_file_or_the_environment() {
    assert!(parse(&with_account(&["register", "--password", "secret"])).is_err());
    let Ok(PortalCommand::Register(args)) = parse(&with_account(&["register", "--pin", FP])) else {
        panic!("register parses");
    };
    let missing = args.settings(None).expect_err("no password").to_string();
    assert!(missing.contains("SOFTPHONE_PASSWORD"));
    let file = crate::portal::testing::temp_path("password");
    std::fs::write(&file, "From-File-1\nignored\n").expect("write");
    let Ok(PortalCommand::Register(args)) = parse(&with_account(&[
        "register",
        "--pin",
        FP,
        "--password-file",
        file.to_str().expect("utf-8 path"),
    ])) else {
        panic!("register parses");
    };
    let settings = args.settings(Some("From-Env".into())).expect("settings");
    assert_eq!(settings.password.expose(), "From-File-1", "the file wins");
    assert_eq!(settings.network, Network::CompanyWifi, "the default");
    let _ = std::fs::remove_file(file);
}

#[test]
fn trust_options_exclude_each_other_and_tofu_takes_a_store() {
    assert!(parse(&with_account(&["register", "--pin", FP, "--ca", "ca.pem"])).is_err());
    assert!(
        parse(&with_account(&[
            "register",
            "--pin",
            FP,
            "--accept-fingerprint",
            FP
        ]))
        .is_err()
    );
    assert!(parse(&with_account(&["register", "--pin", "AB:CD"])).is_err());
    let Ok(PortalCommand::Register(args)) = parse(&with_account(&[
        "register",
        "--accept-fingerprint",
        FP,
        "--known-gateways",
        "/tmp/known.toml",
    ])) else {
        panic!("register parses");
    };
    let settings = args.settings(Some("pw".into())).expect("settings");
    assert_eq!(
        settings.trust,
        Trust::Tofu {
            store: "/tmp/known.toml".into(),
            accept: Some(FP.parse().expect("fingerprint")),
        }
    );
}

#[test]
fn an_unreadable_ca_file_is_a_usage_error() {
    let Ok(PortalCommand::Register(args)) =
        parse(&with_account(&["register", "--ca", "/nonexistent/ca.pem"]))
    else {
        panic!("register parses");
    };
    let message = args
        .settings(Some("pw".into()))
        .expect_err("no CA file")
        .to_string();
    assert!(
        message.starts_with("ca file /nonexistent/ca.pem"),
        "{message}"
    );
}

#[test]
fn bad_settings_name_the_field() {
    let error = parse(&with_account(&["register", "--network", "lte"])).expect_err("no lte");
    assert!(error.to_string().contains("network = \"lte\""));
    let Ok(PortalCommand::Register(args)) = parse(&[
        "register",
        "--user",
        "21x",
        "--wan",
        "company.example.com",
        "--pin",
        FP,
    ]) else {
        panic!("register parses");
    };
    let message = args
        .settings(Some("pw".into()))
        .expect_err("bad user")
        .to_string();
    assert!(message.starts_with("user = \"21x\""));
}

#[test]
fn demo_switch_takes_both_binds_and_can_silence_the_lan_server() {
    let Ok(PortalCommand::DemoSwitch(demo)) = parse(&with_account(&[
        "demo-switch",
        "--lan",
        "127.0.0.1:8802",
        "--bind",
        "127.0.0.1",
        "--home-bind",
        "127.0.1.20",
        "--lan-unreachable",
        "--pin",
        FP,
    ])) else {
        panic!("demo-switch parses");
    };
    assert_eq!(demo.home_bind, Some("127.0.1.20".parse().expect("ip")));
    assert!(demo.lan_unreachable);
}

#[test]
fn demo_switch_takes_a_number_to_call_and_the_audio_options() {
    let Ok(PortalCommand::DemoSwitch(demo)) = parse(&with_account(&["demo-switch", "--pin", FP]))
    else {
        panic!("demo-switch parses");
    };
    assert_eq!(demo.call, None, "no call unless asked");
    let Ok(PortalCommand::DemoSwitch(demo)) = parse(&with_account(&[
        "demo-switch",
        "--call",
        "*98",
        "--home-bind",
        "127.0.1.20",
        "--record",
        "heard.wav",
        "--pin",
        FP,
    ])) else {
        panic!("demo-switch --call parses");
    };
    assert_eq!(demo.call.as_deref(), Some("*98"));
    assert_eq!(demo.audio.record, Some(PathBuf::from("heard.wav")));
    let error = parse(&with_account(&[
        "demo-switch",
        "--call",
        "21x",
        "--pin",
        FP,
    ]))
    .expect_err("not a number to dial");
    assert!(
        error.to_string().contains("not a number to dial"),
        "{error}"
    );
}

#[tokio::test]
async fn opus_in_the_demo_is_refused_as_a_usage_error() {
    let Ok(command) = parse(&with_account(&[
        "demo-switch",
        "--call",
        "*98",
        "--opus",
        "--pin",
        FP,
    ])) else {
        panic!("demo-switch parses");
    };
    assert_eq!(run(command).await, ExitCode::from(EXIT_USAGE));
}

#[tokio::test]
async fn opus_is_refused_as_a_usage_error() {
    let Ok(command) = parse(&with_account(&["call", "201", "--opus", "--pin", FP])) else {
        panic!("portal call parses");
    };
    assert_eq!(run(command).await, ExitCode::from(EXIT_USAGE));
}
