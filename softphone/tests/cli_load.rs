//! `softphone load` as a QA engineer runs it: the real binary against a
//! gateway on loopback (our own, in this process, with an office of eight
//! phones and four myPortal to go apps, its portal on real HTTPS),
//! asserting on its report, its JSON and its exit code.

use std::path::Path;
use std::process::Output;
use std::time::Duration;

use gateway::config;
use gateway::gateway::{Gateway, StartOptions};
use gateway::testing::{self, Subscriber};
use serde_json::Value;
use tokio::process::Command;

/// The office's phones: 301 to 308.
const NUMBERS: std::ops::RangeInclusive<u32> = 301..=308;

/// The office's myPortal to go apps: 311 to 314.
const APPS: std::ops::RangeInclusive<u32> = 311..=314;

/// Long enough for anything on loopback; reached only when a test fails.
const PATIENCE: Duration = Duration::from_secs(60);

fn password(number: u32) -> String {
    format!("Load-{number}!desk")
}

fn uc_password(number: u32) -> String {
    format!("Portal-{number}#uc")
}

/// The office: phones 301..=308 and apps 311..=314 on the LAN
/// (127.0.0.0/24), each with its own password; the gateway's files (its
/// portal certificate) in `data`.
fn office(data: &Path) -> testing::Office {
    let phones = NUMBERS.map(|number| {
        Subscriber::hfa(
            &number.to_string(),
            &format!("Phone {number}"),
            "OpenStage 60",
        )
        .licensed()
        .password(&password(number))
    });
    let apps = APPS.map(|number| {
        Subscriber::portal(&number.to_string(), &format!("App {number}"))
            .licensed()
            .password(&uc_password(number))
    });
    testing::Office::x3()
        .on_loopback()
        .data_dir(data)
        .subscribers(phones.chain(apps))
}

/// Our gateway with HFA and the myPortal to go HTTPS server on loopback,
/// and the directory of its files.
struct Office {
    gateway: Gateway,
    _data: tempfile::TempDir,
}

impl Office {
    async fn start(rtp_first: u16) -> Self {
        let data = tempfile::tempdir().expect("a temp dir");
        let config = office(data.path()).validated();
        let options = StartOptions {
            hfa_listen: Some("127.0.0.1:0".parse().expect("an address")),
            portal_listen: Some("127.0.0.1:0".parse().expect("an address")),
            rtp_range: Some(config::RtpRange {
                first: rtp_first,
                last: rtp_first + 127,
            }),
            ..StartOptions::default()
        };
        let gateway = Gateway::start(config, options)
            .await
            .expect("gateway starts");
        Self {
            gateway,
            _data: data,
        }
    }

    fn hfa(&self) -> String {
        self.gateway.hfa_addr().to_string()
    }

    fn portal(&self) -> String {
        self.gateway
            .portal_addr()
            .expect("the portal runs")
            .to_string()
    }

    fn fingerprint(&self) -> String {
        self.gateway
            .portal_fingerprint()
            .expect("the portal has a certificate")
            .to_owned()
    }
}

/// Writes `lines` to `name` in `dir`; its path.
fn write_lines(dir: &Path, name: &str, lines: &[String]) -> String {
    let path = dir.join(name);
    std::fs::write(&path, lines.join("\n")).expect("write the file");
    path.to_str().expect("a UTF-8 path").to_owned()
}

async fn load(args: &[&str]) -> Output {
    let run = Command::new(env!("CARGO_BIN_EXE_softphone"))
        .arg("load")
        .args(args)
        .kill_on_drop(true)
        .output();
    tokio::time::timeout(PATIENCE, run)
        .await
        .expect("softphone load ends by itself")
        .expect("softphone load runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The run's stdout and stderr, once it exited 0 (else both are shown).
fn succeeded(output: &Output) -> (String, String) {
    let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));
    assert!(
        output.status.success(),
        "{:?}\n{stdout}\n{stderr}",
        output.status
    );
    (stdout, stderr)
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).expect("the JSON report is written");
    serde_json::from_str(&text).expect("the JSON report parses")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn load_registers_every_phone_and_calls_with_media() {
    let office = Office::start(27000).await;
    let dir = tempfile::tempdir().expect("a temp dir");
    let passwords = dir.path().join("passwords");
    let lines: Vec<String> = NUMBERS.map(password).collect();
    std::fs::write(&passwords, lines.join("\n")).expect("write the passwords");
    let json = dir.path().join("report.json");
    let target = office.hfa();
    let output = load(&[
        "--gateway",
        &target,
        "--numbers",
        "301-308",
        "--passwords",
        passwords.to_str().expect("a UTF-8 path"),
        "--bind",
        "127.0.0.1-127.0.0.4",
        "--register-rate",
        "0",
        "--call-rate",
        "5",
        "--hold",
        "500ms",
        "--duration",
        "4s",
        "--json",
        json.to_str().expect("a UTF-8 path"),
    ])
    .await;
    let (stdout, stderr) = succeeded(&output);
    assert!(stdout.contains("registrations: 8/8 phones"), "{stdout}");
    assert!(stdout.contains("call failures: 0"), "{stdout}");
    assert!(
        stderr.contains("registered 8/8"),
        "no progress line: {stderr}"
    );

    let report = read_json(&json);
    assert_eq!(report["gateway"], target.as_str());
    assert_eq!(report["registrations"]["registered"], 8);
    assert_eq!(report["registrations"]["failures"], serde_json::json!({}));
    let completed = report["calls"]["completed"].as_u64().expect("a count");
    assert!(completed >= 4, "calls at 5/s for 4 s, 4 pairs: {report:#}");
    assert_eq!(report["calls"]["setup"]["samples"], completed);
    for percentile in ["p50_ms", "p90_ms", "p99_ms", "max_ms"] {
        let value = report["calls"]["setup"][percentile].as_f64();
        assert!(value.is_some_and(|ms| ms > 0.0), "{percentile}: {report:#}");
    }
    assert_eq!(report["calls"]["failures"], serde_json::json!({}));
    // Every phone of every call sent and received 20 ms G.711 frames for
    // the half-second hold.
    let rtp = &report["rtp"];
    assert_eq!(rtp["streams"].as_u64(), Some(2 * completed), "{rtp:#}");
    let received = rtp["packets_received"].as_u64().expect("a count");
    assert!(received >= 2 * completed * 10, "{rtp:#}");
    assert!(
        rtp["loss_fraction"].as_f64().expect("a fraction") < 0.01,
        "{rtp:#}"
    );
    assert!(rtp["jitter_ms_mean"].as_f64().is_some(), "{rtp:#}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_password_shows_as_a_failure_by_cause() {
    let office = Office::start(27200).await;
    let dir = tempfile::tempdir().expect("a temp dir");
    let accounts = dir.path().join("accounts.toml");
    let entries = format!(
        "[[accounts]]\nnumber = \"301\"\npassword = \"{}\"\n\n\
         [[accounts]]\nnumber = \"302\"\npassword = \"not-the-password-1\"\n",
        password(301)
    );
    std::fs::write(&accounts, entries).expect("write the accounts");
    let json = dir.path().join("report.json");
    let output = load(&[
        "--gateway",
        &office.hfa(),
        "--accounts",
        accounts.to_str().expect("a UTF-8 path"),
        "--duration",
        "2s",
        "--json",
        json.to_str().expect("a UTF-8 path"),
    ])
    .await;
    let stdout = text(&output.stdout);
    assert_eq!(output.status.code(), Some(6), "{stdout}");
    assert!(stdout.contains("registrations: 1/2 phones"), "{stdout}");
    assert!(
        stdout.contains("1× declined: Wrong password: check the HFA password"),
        "{stdout}"
    );
    let report = read_json(&json);
    let failures = &report["registrations"]["failures"];
    assert_eq!(
        failures["declined: Wrong password: check the HFA password"], 1,
        "{report:#}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn phones_and_apps_call_each_other_with_media() {
    let office = Office::start(27400).await;
    let dir = tempfile::tempdir().expect("a temp dir");
    let passwords = write_lines(dir.path(), "passwords", &[password(301), password(302)]);
    let app_passwords = write_lines(
        dir.path(),
        "apps",
        &APPS.map(uc_password).collect::<Vec<_>>(),
    );
    let json = dir.path().join("report.json");
    let (hfa, portal, fingerprint) = (office.hfa(), office.portal(), office.fingerprint());
    // Phones 301-302 and apps 311-314: two phone/app pairs taking turns
    // (app → phone, phone → app) and one pair of apps.
    let output = load(&[
        "--gateway",
        &hfa,
        "--numbers",
        "301-302",
        "--passwords",
        &passwords,
        "--app-numbers",
        "311-314",
        "--app-passwords",
        &app_passwords,
        "--portal",
        &portal,
        "--pin",
        &fingerprint,
        "--register-rate",
        "0",
        "--call-rate",
        "0",
        "--hold",
        "300ms",
        "--duration",
        "4s",
        "--json",
        json.to_str().expect("a UTF-8 path"),
    ])
    .await;
    let (stdout, _) = succeeded(&output);
    assert!(stdout.contains("registrations: 2/2 phones"), "{stdout}");
    assert!(stdout.contains("app registrations: 4/4 apps"), "{stdout}");
    assert!(stdout.contains("call failures: 0"), "{stdout}");

    let report = read_json(&json);
    assert_eq!(report["registrations"]["registered"], 2, "{report:#}");
    assert_eq!(report["apps"]["registered"], 4, "{report:#}");
    assert_eq!(report["apps"]["failures"], serde_json::json!({}));
    assert_eq!(report["calls"]["pairs"], 3, "{report:#}");
    assert_eq!(report["calls"]["failures"], serde_json::json!({}));
    let by_kind = &report["calls"]["by_kind"];
    let count = |kind: &str| by_kind[kind]["completed"].as_u64().unwrap_or(0);
    for kind in ["app → phone", "phone → app", "app → app"] {
        assert!(count(kind) >= 1, "no {kind} call: {report:#}");
        let setup = by_kind[kind]["setup"]["p50_ms"].as_f64();
        assert!(setup.is_some_and(|ms| ms > 0.0), "{kind}: {report:#}");
    }
    // A phone/app pair takes turns: never more than one call apart.
    assert!(
        count("app → phone").abs_diff(count("phone → app")) <= 2,
        "{report:#}"
    );
    let completed = report["calls"]["completed"].as_u64().expect("a count");
    assert_eq!(
        completed,
        count("app → phone") + count("phone → app") + count("app → app"),
        "{report:#}"
    );
    // Every party of every call sent and received G.711 frames for the
    // 300 ms hold, the apps' as the phones'.
    let rtp = &report["rtp"];
    assert_eq!(rtp["streams"].as_u64(), Some(2 * completed), "{rtp:#}");
    let received = rtp["packets_received"].as_u64().expect("a count");
    assert!(received >= 2 * completed * 5, "{rtp:#}");
    assert!(
        rtp["loss_fraction"].as_f64().expect("a fraction") < 0.01,
        "{rtp:#}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_app_with_a_wrong_uc_password_shows_as_a_failure_by_cause() {
    let office = Office::start(27600).await;
    let dir = tempfile::tempdir().expect("a temp dir");
    let passwords = write_lines(dir.path(), "passwords", &[password(301)]);
    let app_passwords = write_lines(
        dir.path(),
        "apps",
        &[uc_password(311), "not-the-uc-password-1".to_owned()],
    );
    let json = dir.path().join("report.json");
    let (hfa, portal, fingerprint) = (office.hfa(), office.portal(), office.fingerprint());
    let output = load(&[
        "--gateway",
        &hfa,
        "--numbers",
        "301",
        "--passwords",
        &passwords,
        "--app-numbers",
        "311-312",
        "--app-passwords",
        &app_passwords,
        "--portal",
        &portal,
        "--pin",
        &fingerprint,
        "--duration",
        "2s",
        "--json",
        json.to_str().expect("a UTF-8 path"),
    ])
    .await;
    let stdout = text(&output.stdout);
    assert_eq!(output.status.code(), Some(6), "{stdout}");
    assert!(stdout.contains("app registrations: 1/2 apps"), "{stdout}");
    let cause = "refused: Login failed: wrong user or password";
    assert!(stdout.contains(&format!("1× {cause}")), "{stdout}");
    let report = read_json(&json);
    assert_eq!(report["apps"]["failures"][cause], 1, "{report:#}");
    assert_eq!(report["registrations"]["failures"], serde_json::json!({}));
}

#[tokio::test]
async fn load_refuses_to_run_without_a_target() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let passwords = dir.path().join("passwords");
    std::fs::write(&passwords, "Load-301!desk\n").expect("write the passwords");
    let output = load(&[
        "--numbers",
        "301-302",
        "--passwords",
        passwords.to_str().expect("a UTF-8 path"),
    ])
    .await;
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("--gateway"), "{stderr}");
    assert!(output.stdout.is_empty(), "nothing ran");
}
