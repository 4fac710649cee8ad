//! Issue 15 item 4: every scenario shipped in `scenarios/` passes through
//! the real `softphone scenario run` against our gateway (HFA and the
//! myPortal to go server, in-process on loopback, with an office holding
//! the scenarios' accounts); the JUnit report read back has one test
//! suite per scenario and every test case passed. A scenario with a wrong
//! expectation exits non-zero with a JUnit failure naming the step.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use e2e_tests::portal::{TempDir, temp_dir};
use e2e_tests::{LAN_IP, Subscriber, eve_abroad, next_rtp_range, office};
use gateway::clock::Clock;
use gateway::gateway::{Gateway, StartOptions};
use quick_xml::Reader;
use quick_xml::events::Event;
use shared::hfa_engine::system::SystemTimers;

/// The scenarios' accounts besides the test office's: 204 Dora in the
/// office (transfer and forwarding target), 205 Eve allowed abroad and
/// from home (toll fraud).
fn scenario_subscribers() -> [Subscriber; 2] {
    [
        Subscriber::hfa("204", "Dora", "OpenStage 40")
            .licensed()
            .password("Dora%desk-2718"),
        eve_abroad().at_home(),
    ]
}

/// The exit code of a run whose expectation did not hold.
const EXIT_EXPECTATION_FAILED: i32 = 7;

struct Office {
    gateway: Gateway,
    _data: TempDir,
}

impl Office {
    async fn start() -> Self {
        let data = temp_dir("scenarios");
        let options = StartOptions {
            hfa_listen: Some(SocketAddr::new(LAN_IP, 0)),
            portal_listen: Some(SocketAddr::new(LAN_IP, 0)),
            timers: SystemTimers::default(),
            clock: Clock::system(),
            rtp_range: Some(next_rtp_range()),
            ..StartOptions::default()
        };
        let config = office()
            .data_dir(data.path())
            .subscribers(scenario_subscribers())
            .validated();
        let gateway = match Gateway::start(config, options).await {
            Ok(gateway) => gateway,
            Err(error) => panic!("the scenario office failed to start: {error}"),
        };
        Self {
            gateway,
            _data: data,
        }
    }

    /// `softphone scenario run FILES` against this office, with reports
    /// written into `dir`.
    async fn run(&self, files: &[PathBuf], dir: &Path) -> Output {
        let portal = self.gateway.portal_addr().expect("the portal server runs");
        let pin = self
            .gateway
            .portal_fingerprint()
            .expect("the portal has a certificate");
        let mut command = Command::new(softphone_binary());
        command
            .args(["scenario", "run"])
            .args(files)
            .arg("--gateway")
            .arg(self.gateway.hfa_addr().to_string())
            .arg("--portal")
            .arg(portal.to_string())
            .arg("--set")
            .arg(format!("portal_pin={pin}"))
            .arg("--junit")
            .arg(dir.join("report.xml"))
            .arg("--json")
            .arg(dir.join("report.json"));
        // The gateway runs on this test's runtime: wait off it.
        tokio::task::spawn_blocking(move || command.output())
            .await
            .expect("the wait for softphone")
            .expect("softphone runs")
    }
}

/// The `softphone` binary of this build, next to this test's `deps`
/// directory (`cargo test --workspace` builds it for the softphone's own
/// tests; alone: `cargo build -p softphone` first).
fn softphone_binary() -> PathBuf {
    let me = std::env::current_exe().expect("the test's own path");
    let binary = me
        .parent()
        .and_then(Path::parent)
        .map(|dir| dir.join("softphone"))
        .expect("the test runs from target/PROFILE/deps");
    assert!(
        binary.exists(),
        "{} missing: build it with `cargo build -p softphone`",
        binary.display()
    );
    binary
}

fn shipped_scenarios() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("the scenarios directory")
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "toml"))
        .collect();
    files.sort();
    files
}

/// A JUnit report as read back: its suites with their counts and cases.
#[derive(Debug, Default)]
struct Suite {
    name: String,
    tests: usize,
    failures: usize,
    cases: Vec<Case>,
}

#[derive(Debug, Default)]
struct Case {
    name: String,
    /// The `message` of its `<failure>`, if it failed.
    failure: Option<String>,
    skipped: bool,
}

/// Parses `xml` in the shape of the JUnit schema: `<testsuites>` holding
/// `<testsuite name tests failures errors skipped time>`, each holding
/// `<testcase classname name time>` with an optional `<failure message>`
/// or `<skipped>`; panics on anything else.
fn read_junit(xml: &str) -> Vec<Suite> {
    let mut reader = Reader::from_str(xml);
    let mut suites: Vec<Suite> = Vec::new();
    let mut path: Vec<String> = Vec::new();
    loop {
        let event = reader.read_event().expect("well-formed XML");
        let (start, empty) = match &event {
            Event::Start(start) => (Some(start.clone()), false),
            Event::Empty(start) => (Some(start.clone()), true),
            Event::End(_) => {
                path.pop();
                continue;
            }
            Event::Eof => break,
            _ => continue,
        };
        let Some(start) = start else { continue };
        let name = String::from_utf8_lossy(start.name().as_ref()).into_owned();
        let attr = |key: &str| -> Option<String> {
            start
                .attributes()
                .map(|a| a.expect("a well-formed attribute"))
                .find(|a| a.key.as_ref() == key.as_bytes())
                .map(|a| {
                    a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                        .expect("an escaped value")
                        .into_owned()
                })
        };
        let parent = path.last().map(String::as_str);
        match (parent, name.as_str()) {
            (None, "testsuites") => {}
            (Some("testsuites"), "testsuite") => {
                for required in ["errors", "skipped", "time"] {
                    assert!(attr(required).is_some(), "testsuite without {required}");
                }
                let number = |key| attr(key).and_then(|v| v.parse().ok()).unwrap_or(usize::MAX);
                suites.push(Suite {
                    name: attr("name").expect("a suite name"),
                    tests: number("tests"),
                    failures: number("failures"),
                    cases: Vec::new(),
                });
            }
            (Some("testsuite"), "testcase") => {
                assert!(attr("classname").is_some() && attr("time").is_some());
                let suite = suites.last_mut().expect("inside a suite");
                suite.cases.push(Case {
                    name: attr("name").expect("a case name"),
                    ..Case::default()
                });
            }
            (Some("testcase"), "failure" | "skipped" | "system-out") => {
                let case = suites
                    .last_mut()
                    .and_then(|suite| suite.cases.last_mut())
                    .expect("inside a case");
                match name.as_str() {
                    "failure" => case.failure = Some(attr("message").expect("a message")),
                    "skipped" => case.skipped = true,
                    _ => {}
                }
            }
            other => panic!("{other:?} is not where JUnit puts it"),
        }
        if !empty {
            path.push(name);
        }
    }
    suites
}

fn report_of(dir: &Path) -> Vec<Suite> {
    let xml = std::fs::read_to_string(dir.join("report.xml")).expect("the JUnit report");
    read_junit(&xml)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_shipped_scenario_passes_against_our_gateway() {
    let office = Office::start().await;
    let files = shipped_scenarios();
    assert!(files.len() >= 10, "the library: {files:?}");
    let dir = temp_dir("scenario-reports");
    let output = office.run(&files, dir.path()).await;
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "softphone scenario run: {}\n{stdout}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let suites = report_of(dir.path());
    assert_eq!(suites.len(), files.len(), "one testsuite per scenario");
    for suite in &suites {
        assert!(!suite.cases.is_empty(), "{}: no test cases", suite.name);
        assert_eq!(suite.tests, suite.cases.len(), "{}", suite.name);
        assert_eq!(suite.failures, 0, "{}", suite.name);
        for case in &suite.cases {
            assert!(
                case.failure.is_none() && !case.skipped,
                "{}: {case:?}",
                suite.name
            );
        }
    }
    let json = std::fs::read_to_string(dir.path().join("report.json")).expect("the JSON report");
    assert!(json.starts_with("{\n  \"passed\": true,"), "{json}");
    office.gateway.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_expectation_fails_naming_the_step() {
    let office = Office::start().await;
    let dir = temp_dir("scenario-wrong");
    let scenario = dir.path().join("wrong.toml");
    std::fs::write(
        &scenario,
        r#"
name = "Ben's display read as Anna's"
timeout = "3s"

[vars]
lan_ip = "127.0.0.1"

[[party]]
kind = "hfa"
name = "ben"
gateway = "${gateway}"
number = "202"
password = "Ben!desk-4711"
bind = "${lan_ip}"

[[step]]
action = "register"
party = "ben"

[[step]]
action = "expect-display"
party = "ben"
top = "201 Anna"

[[step]]
action = "hang-up"
party = "ben"
"#,
    )
    .expect("write the scenario");
    let output = office.run(&[scenario], dir.path()).await;
    assert_eq!(
        output.status.code(),
        Some(EXIT_EXPECTATION_FAILED),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
    let suites = report_of(dir.path());
    assert_eq!(suites.len(), 1);
    let suite = &suites[0];
    assert_eq!((suite.tests, suite.failures), (3, 1));
    assert!(suite.cases[0].failure.is_none());
    assert_eq!(suite.cases[1].name, "step 2 (expect-display) ben");
    let failure = suite.cases[1].failure.as_deref().expect("step 2 failed");
    assert!(
        failure.starts_with(
            "step 2 (expect-display) ben: expected the display's top row with \"201 Anna\""
        ),
        "{failure}"
    );
    assert!(failure.contains("saw display \"202 Ben\""), "{failure}");
    assert!(
        suite.cases[2].skipped,
        "the step after the failure is skipped"
    );
    office.gateway.stop().await;
}
