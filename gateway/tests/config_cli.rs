//! The `gateway` binary's config commands, and the built-in default of
//! `gateway run`: files with passwords are 0600, passwords never reach the
//! terminal, and what `init` writes passes `check-config`.

mod config_support;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output};

use config_support::{assert_no_secret, base_toml, temp_dir};
use gateway::config::{self, ConfigError, embedded};

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

fn mode(path: &Path) -> u32 {
    fs::metadata(path).expect("metadata").permissions().mode() & 0o777
}

/// The passwords written into a config file.
fn passwords_in(path: &Path) -> Vec<String> {
    let loaded = config::load_file(path).expect("valid config");
    loaded
        .clients()
        .iter()
        .filter_map(|c| c.password.as_ref().map(|p| p.expose().to_owned()))
        .collect()
}

#[test]
fn init_writes_a_private_commented_config_that_passes_check_config() {
    let dir = temp_dir("init");
    let file = dir.path().join("gateway.toml");
    let path = file.to_str().expect("utf-8 path");

    let out = gateway(&["init", path]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), format!("{path}\n"));
    assert_eq!(mode(&file), 0o600);
    let written = fs::read_to_string(&file).expect("read");
    assert!(written.contains("# ") && written.contains("guide 1.3.1"));

    let passwords = passwords_in(&file);
    assert_eq!(passwords.len(), 4);
    let check = gateway(&["check-config", path]);
    assert_eq!(check.status.code(), Some(0), "{}", text(&check.stderr));
    let summary = text(&check.stdout);
    assert!(summary.contains("* 201 Anna"), "{summary}");
    assert!(summary.contains("warnings: 0"), "{summary}");
    let secrets: Vec<&str> = passwords.iter().map(String::as_str).collect();
    for output in [&out.stdout, &out.stderr, &check.stdout, &check.stderr] {
        assert_no_secret(&text(output), &secrets);
    }
}

#[test]
fn init_refuses_to_overwrite_unless_forced() {
    let dir = temp_dir("overwrite");
    let file = dir.path().join("gateway.toml");
    let path = file.to_str().expect("utf-8 path");
    fs::write(&file, "keep me").expect("write");
    fs::set_permissions(&file, fs::Permissions::from_mode(0o644)).expect("chmod");

    let out = gateway(&["init", path]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("already exists"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(fs::read_to_string(&file).expect("read"), "keep me");
    assert!(matches!(
        config::init::write_example(&file, false),
        Err(ConfigError::AlreadyExists { .. })
    ));

    let out = gateway(&["init", "--force", path]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(mode(&file), 0o600);
    assert_eq!(passwords_in(&file).len(), 4);
}

#[test]
fn check_config_exits_non_zero_with_one_error_per_line() {
    let dir = temp_dir("check");
    let file = dir.path().join("bad.toml");
    let bad = base_toml()
        .replace("\"LAN2\"", "\"LAN1\"")
        .replace("number = \"203\"", "number = \"201\"");
    fs::write(&file, bad).expect("write");

    let out = gateway(&["check-config", file.to_str().expect("utf-8 path")]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let stderr = text(&out.stderr);
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 2, "{stderr}");
    assert!(
        lines[0].starts_with("system.lan_interface = \"LAN1\""),
        "{stderr}"
    );
    assert!(
        lines[1].starts_with("clients[2].number = \"201\""),
        "{stderr}"
    );
    assert_no_secret(&stderr, &[]);

    let missing = gateway(&["check-config", "/nonexistent/gateway.toml"]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(text(&missing.stderr).contains("cannot read"));

    let run = gateway(&["run", "--config", file.to_str().expect("utf-8 path")]);
    assert_eq!(run.status.code(), Some(1));
    assert!(text(&run.stderr).contains("system.lan_interface"));
}

#[test]
fn the_embedded_default_validates_with_stable_generated_passwords() {
    let dir = temp_dir("embedded");
    let data_dir = dir.path().join("data/gateway");

    let first = embedded::load(&data_dir).expect("embedded default validates");
    let store = data_dir.join(embedded::PASSWORDS_FILE);
    assert_eq!(first.passwords_file, store);
    assert_eq!(mode(&store), 0o600);
    assert_eq!(mode(&data_dir), 0o700);

    let config = &first.config;
    let numbers: Vec<&str> = config.clients().iter().map(|c| c.number.as_str()).collect();
    assert_eq!(numbers, ["201", "202", "210"]);
    assert!(
        config
            .client("201")
            .is_some_and(|c| c.internet_registration)
    );
    assert_eq!(config.hfa_addr().to_string(), "127.0.0.1:4060");
    assert!(config.is_company_lan("127.0.0.5".parse().expect("ip")));
    assert!(!config.is_company_lan("127.0.1.10".parse().expect("ip")));
    assert!(config.warnings().is_empty(), "{:?}", config.warnings());

    let second = embedded::load(&data_dir).expect("reloads");
    for client in config.clients() {
        let again = second.config.client(&client.number).expect("same clients");
        let (Some(one), Some(two)) = (&client.password, &again.password) else {
            panic!("client {} has no password", client.number);
        };
        assert!(
            one.constant_time_eq(two.expose().as_bytes()),
            "password of {} changed",
            client.number
        );
        assert!(
            fs::read_to_string(&store)
                .expect("store")
                .contains(one.expose())
        );
    }
    let template = config::parse(embedded::DEFAULT_TOML, embedded::ORIGIN).expect("parses");
    assert!(
        template.clients.iter().all(|c| c.password.is_none()),
        "ships no password"
    );
}

#[test]
fn check_config_prints_the_company_routers_forwards_for_the_model() {
    let dir = temp_dir("forwards");
    for (model, range) in [("X5", "30274-30529"), ("S", "30528-30887")] {
        let file = dir.path().join(format!("{model}.toml"));
        let toml = base_toml().replace("model = \"X5\"", &format!("model = \"{model}\""));
        fs::write(&file, toml).expect("write");
        let out = gateway(&["check-config", file.to_str().expect("utf-8 path")]);
        let summary = text(&out.stdout);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        let forwards: Vec<&str> = summary
            .lines()
            .skip_while(|line| !line.starts_with("company router port forwards (guide 3.1):"))
            .skip(1)
            .take_while(|line| line.starts_with("  - "))
            .collect();
        assert_eq!(forwards.len(), 3, "{summary}");
        assert!(
            forwards[0].contains("TCP 4070")
                && forwards[0].ends_with("system TCP 4060 (HFA phones)"),
            "{summary}"
        );
        assert!(
            forwards[1].contains("TCP 8802 -> system TCP 8802"),
            "{summary}"
        );
        assert!(
            forwards[2].contains(&format!("UDP {range} -> system UDP {range}"))
                && forwards[2].contains("1:1"),
            "{model}: {summary}"
        );
        assert!(
            summary.contains("public address: company.example.com (DNS name"),
            "{summary}"
        );
        assert!(
            summary.contains("STUN: stun.example.net:3478 (system STUN configuration)"),
            "{summary}"
        );
    }
}

#[test]
fn check_config_warns_about_a_public_address_that_is_not_public_ipv4() {
    let dir = temp_dir("private");
    for (address, words) in [
        ("192.168.1.2", "a private address"),
        ("127.0.0.1", "a loopback address"),
        ("2001:db8::2", "an IPv6 address"),
    ] {
        let file = dir.path().join("gateway.toml");
        let toml = base_toml().replace("\"company.example.com\"", &format!("\"{address}\""));
        fs::write(&file, toml).expect("write");
        let out = gateway(&["check-config", file.to_str().expect("utf-8 path")]);
        let summary = text(&out.stdout);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        assert!(summary.contains("warnings: 1"), "{summary}");
        assert!(
            summary.contains(&format!("network.public_address = \"{address}\": {words}"))
                && summary.contains("public IPv4 address or a DNS name")
                && summary.contains("guide 4.1"),
            "{summary}"
        );
    }
}

#[test]
fn the_demo_configuration_names_no_stun_server_that_is_not_there() {
    let dir = temp_dir("demo");
    let loaded = embedded::load(dir.path()).expect("the demo config loads");
    let summary = loaded.config.summary().to_string();
    assert!(
        summary.contains("STUN: none (static public address)"),
        "{summary}"
    );
    assert!(
        summary.contains("public address: 127.0.0.1 (static)"),
        "{summary}"
    );
}
