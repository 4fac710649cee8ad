//! What a run found: one [`ScenarioReport`] per scenario with a
//! [`StepReport`] per step, written as JSON and as JUnit XML (one
//! `<testsuite>` per scenario, one `<testcase>` per step, a `<failure>`
//! naming the step with what was expected and what was seen).

use std::io::Write;
use std::time::Duration;

use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesText, Event};
use serde::Serialize;

use super::model::Step;
use super::runner::StepFailure;

/// How a step that ran ended.
#[derive(Debug)]
pub enum StepOutcome {
    /// Passed, with what happened.
    Passed(String),
    Failed(StepFailure),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum StepStatus {
    Passed,
    Failed,
    /// Not run: an earlier step failed.
    Skipped,
}

/// One step's result.
#[derive(Debug, Clone, Serialize)]
pub struct StepReport {
    pub number: usize,
    pub action: &'static str,
    pub party: String,
    pub status: StepStatus,
    /// What happened, or for a failure what was expected and seen.
    pub message: String,
    pub seconds: f64,
    /// The lines the party printed during the step.
    pub lines: Vec<String>,
}

impl StepReport {
    pub fn ended(step: &Step, outcome: StepOutcome, elapsed: Duration, lines: Vec<String>) -> Self {
        let (status, message) = match outcome {
            StepOutcome::Passed(detail) => (StepStatus::Passed, detail),
            StepOutcome::Failed(failure) => (StepStatus::Failed, failure.to_string()),
        };
        Self {
            number: step.number,
            action: step.action.name(),
            party: step.action.party().to_owned(),
            status,
            message,
            seconds: elapsed.as_secs_f64(),
            lines,
        }
    }

    pub fn skipped(step: &Step, message: String) -> Self {
        Self {
            number: step.number,
            action: step.action.name(),
            party: step.action.party().to_owned(),
            status: StepStatus::Skipped,
            message,
            seconds: 0.0,
            lines: Vec::new(),
        }
    }

    /// "step 3 (dial) anna", as the console and the JUnit test case name
    /// it.
    pub fn title(&self) -> String {
        format!("step {} ({}) {}", self.number, self.action, self.party)
    }
}

/// One scenario's result.
#[derive(Debug, Clone, Serialize)]
pub struct ScenarioReport {
    pub name: String,
    pub description: String,
    pub steps: Vec<StepReport>,
    #[serde(rename = "seconds", serialize_with = "seconds")]
    pub elapsed: Duration,
}

fn seconds<S: serde::Serializer>(elapsed: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(elapsed.as_secs_f64())
}

impl ScenarioReport {
    /// Whether every step ran and every expectation held.
    pub fn passed(&self) -> bool {
        self.steps
            .iter()
            .all(|step| step.status == StepStatus::Passed)
    }

    fn count(&self, status: StepStatus) -> usize {
        self.steps
            .iter()
            .filter(|step| step.status == status)
            .count()
    }
}

/// The JSON report of `reports`.
pub fn json(reports: &[ScenarioReport]) -> String {
    #[derive(Serialize)]
    struct Run<'a> {
        passed: bool,
        scenarios: &'a [ScenarioReport],
    }
    let run = Run {
        passed: reports.iter().all(ScenarioReport::passed),
        scenarios: reports,
    };
    serde_json::to_string_pretty(&run).unwrap_or_default()
}

/// The JUnit XML report of `reports`: `<testsuites>` holding one
/// `<testsuite>` per scenario.
pub fn junit(reports: &[ScenarioReport]) -> std::io::Result<String> {
    let mut writer = Writer::new_with_indent(Vec::new(), b' ', 2);
    writer.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    let total = |status| reports.iter().map(|r| r.count(status)).sum::<usize>();
    let tests: usize = reports.iter().map(|r| r.steps.len()).sum();
    let time: f64 = reports.iter().map(|r| r.elapsed.as_secs_f64()).sum();
    writer
        .create_element("testsuites")
        .with_attributes([
            ("name", "softphone scenario run"),
            ("tests", tests.to_string().as_str()),
            ("failures", total(StepStatus::Failed).to_string().as_str()),
            ("errors", "0"),
            ("skipped", total(StepStatus::Skipped).to_string().as_str()),
            ("time", format!("{time:.3}").as_str()),
        ])
        .write_inner_content(|writer| {
            reports.iter().try_for_each(|report| suite(writer, report))
        })?;
    let mut bytes = writer.into_inner();
    writeln!(bytes)?;
    String::from_utf8(bytes).map_err(std::io::Error::other)
}

fn suite(writer: &mut Writer<Vec<u8>>, report: &ScenarioReport) -> std::io::Result<()> {
    writer
        .create_element("testsuite")
        .with_attributes([
            ("name", xml_safe(&report.name).as_str()),
            ("tests", report.steps.len().to_string().as_str()),
            (
                "failures",
                report.count(StepStatus::Failed).to_string().as_str(),
            ),
            ("errors", "0"),
            (
                "skipped",
                report.count(StepStatus::Skipped).to_string().as_str(),
            ),
            (
                "time",
                format!("{:.3}", report.elapsed.as_secs_f64()).as_str(),
            ),
        ])
        .write_inner_content(|writer| {
            report
                .steps
                .iter()
                .try_for_each(|step| case(writer, &report.name, step))
        })?;
    Ok(())
}

fn case(writer: &mut Writer<Vec<u8>>, scenario: &str, step: &StepReport) -> std::io::Result<()> {
    let title = step.title();
    let element = writer.create_element("testcase").with_attributes([
        ("classname", xml_safe(scenario).as_str()),
        ("name", title.as_str()),
        ("time", format!("{:.3}", step.seconds).as_str()),
    ]);
    element.write_inner_content(|writer| {
        match step.status {
            StepStatus::Passed => {}
            StepStatus::Failed => {
                let message = xml_safe(&format!("{title}: {}", step.message));
                writer
                    .create_element("failure")
                    .with_attributes([("message", message.as_str()), ("type", "expectation")])
                    .write_text_content(BytesText::new(&message))?;
            }
            StepStatus::Skipped => {
                writer
                    .create_element("skipped")
                    .with_attribute(("message", xml_safe(&step.message).as_str()))
                    .write_empty()?;
            }
        }
        if !step.lines.is_empty() {
            writer
                .create_element("system-out")
                .write_text_content(BytesText::new(&xml_safe(&step.lines.join("\n"))))?;
        }
        Ok(())
    })?;
    Ok(())
}

/// `text` with the characters XML 1.0 cannot hold (control characters
/// other than tab and line feed) shown as '?'.
fn xml_safe(text: &str) -> String {
    text.chars()
        .map(|ch| {
            if ch.is_control() && ch != '\n' && ch != '\t' {
                '?'
            } else {
                ch
            }
        })
        .collect()
}

#[cfg(test)]
mod tests;
