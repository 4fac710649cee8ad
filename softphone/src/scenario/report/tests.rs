use quick_xml::Reader;
use quick_xml::events::Event;

use super::*;

fn step(number: usize, status: StepStatus, message: &str) -> StepReport {
    StepReport {
        number,
        action: "expect-display",
        party: "ben".into(),
        status,
        message: message.into(),
        seconds: 0.25,
        lines: vec!["display: <Call> & \"more\"\u{7}".into()],
    }
}

fn report() -> ScenarioReport {
    ScenarioReport {
        name: "A & B <call>".into(),
        description: String::new(),
        steps: vec![
            step(1, StepStatus::Passed, "registered"),
            step(
                2,
                StepStatus::Failed,
                "expected \"201 Anna\"; saw <202 Ben>",
            ),
            StepReport {
                lines: Vec::new(),
                ..step(3, StepStatus::Skipped, "not run: step 2 failed")
            },
        ],
        elapsed: Duration::from_millis(1500),
    }
}

#[test]
fn junit_escapes_and_reads_back_with_counts_and_the_failed_step() {
    let xml = junit(&[report()]).expect("written");
    let mut reader = Reader::from_str(&xml);
    let mut names = Vec::new();
    let mut failure = None;
    let mut suite_counts = None;
    loop {
        match reader.read_event().expect("well-formed") {
            Event::Start(e) | Event::Empty(e) => {
                let get = |key: &str| {
                    e.attributes()
                        .map(|a| a.expect("attribute"))
                        .find(|a| a.key.as_ref() == key.as_bytes())
                        .map(|a| {
                            a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                                .expect("escaped")
                                .into_owned()
                        })
                };
                names.push(String::from_utf8_lossy(e.name().as_ref()).into_owned());
                match e.name().as_ref() {
                    b"testsuite" => {
                        suite_counts =
                            Some((get("name"), get("tests"), get("failures"), get("skipped")));
                    }
                    b"failure" => failure = get("message"),
                    _ => {}
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    assert_eq!(
        suite_counts,
        Some((
            Some("A & B <call>".into()),
            Some("3".into()),
            Some("1".into()),
            Some("1".into())
        ))
    );
    assert_eq!(
        failure.as_deref(),
        Some("step 2 (expect-display) ben: expected \"201 Anna\"; saw <202 Ben>")
    );
    assert_eq!(
        names,
        [
            "testsuites",
            "testsuite",
            "testcase",
            "system-out",
            "testcase",
            "failure",
            "system-out",
            "testcase",
            "skipped"
        ]
    );
    assert!(!xml.contains('\u{7}'), "no control characters in XML 1.0");
}

#[test]
fn json_says_whether_everything_passed() {
    let value: serde_json::Value = serde_json::from_str(&json(&[report()])).expect("JSON");
    assert_eq!(value["passed"], false);
    assert_eq!(value["scenarios"][0]["steps"][1]["status"], "failed");
    assert_eq!(value["scenarios"][0]["seconds"], 1.5);
}
