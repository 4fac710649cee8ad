//! `softphone scenario run FILE...`: runs QA scenarios (docs/scenarios.md)
//! and writes their reports.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args as ClapArgs, Subcommand};

use super::usage;
use crate::scenario::report::{self, ScenarioReport, StepReport, StepStatus};
use crate::scenario::{parse, runner};

/// Exit code of a run where an expectation did not hold.
pub const EXIT_EXPECTATION_FAILED: u8 = 7;

#[derive(Debug, Subcommand)]
pub enum ScenarioCommand {
    /// Run scenario files, each step within its timeout; exit 0 only when
    /// every expectation held.
    Run(RunArgs),
}

#[derive(Debug, ClapArgs)]
pub struct RunArgs {
    /// Scenario files (TOML).
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// The HFA address of the gateway (its public address and forwarded
    /// port, or the LAN address): the variable ${gateway}.
    #[arg(long, value_name = "HOST:PORT")]
    pub gateway: Option<String>,
    /// The myPortal to go server (port 8802 or the forwarded one): the
    /// variable ${portal}.
    #[arg(long, value_name = "HOST:PORT")]
    pub portal: Option<String>,
    /// Write a JUnit XML report here.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Write a JSON report here.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Set the variable ${NAME} (overrides the file's [vars]).
    #[arg(long = "set", value_name = "NAME=VALUE", value_parser = parse_assignment)]
    pub vars: Vec<(String, String)>,
}

/// A `--set` that is not `NAME=VALUE`.
#[derive(Debug, thiserror::Error)]
#[error("{0:?} is not NAME=VALUE")]
struct NotAnAssignment(String);

fn parse_assignment(text: &str) -> Result<(String, String), NotAnAssignment> {
    match text.split_once('=') {
        Some((name, value)) if !name.is_empty() => Ok((name.to_owned(), value.to_owned())),
        _ => Err(NotAnAssignment(text.to_owned())),
    }
}

/// A scenario file that cannot run (the file is named by the caller).
#[derive(Debug, thiserror::Error)]
enum LoadError {
    /// The file cannot be read.
    #[error("{0}")]
    Read(std::io::Error),
    /// The file does not make a scenario.
    #[error(transparent)]
    Parse(#[from] parse::ParseError),
    /// A party's settings do not make an account.
    #[error(transparent)]
    Prepare(#[from] crate::scenario::party::PrepareError),
}

/// A report that could not be written.
#[derive(Debug, thiserror::Error)]
enum ReportError {
    /// The XML could not be made.
    #[error("junit: {0}")]
    Junit(std::io::Error),
    /// `format` is junit or json.
    #[error("{format} {}: {source}", path.display())]
    Write {
        format: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
}

impl RunArgs {
    fn variables(&self) -> BTreeMap<String, String> {
        let mut vars: BTreeMap<String, String> = self.vars.iter().cloned().collect();
        if let Some(gateway) = &self.gateway {
            vars.insert("gateway".to_owned(), gateway.clone());
        }
        if let Some(portal) = &self.portal {
            vars.insert("portal".to_owned(), portal.clone());
        }
        vars
    }
}

pub async fn run(command: ScenarioCommand) -> ExitCode {
    let ScenarioCommand::Run(args) = command;
    let vars = args.variables();
    // Every file is read and checked before the first one runs.
    let mut loaded = Vec::new();
    for file in &args.files {
        match load(file, &vars) {
            Ok(scenario) => loaded.push(scenario),
            Err(message) => return usage(format!("{}: {message}", file.display())),
        }
    }
    let mut reports = Vec::new();
    for (scenario, prepared) in loaded {
        println!("scenario: {}", scenario.name);
        let report = runner::run(&scenario, prepared, print_step).await;
        println!(
            "scenario: {}: {}",
            scenario.name,
            if report.passed() { "PASSED" } else { "FAILED" }
        );
        reports.push(report);
    }
    if let Err(message) = write_reports(&args, &reports) {
        eprintln!("softphone: {message}");
        return ExitCode::FAILURE;
    }
    if reports.iter().all(ScenarioReport::passed) {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_EXPECTATION_FAILED)
    }
}

type Loaded = (
    crate::scenario::Scenario,
    std::collections::HashMap<String, crate::scenario::party::Prepared>,
);

fn load(file: &Path, vars: &BTreeMap<String, String>) -> Result<Loaded, LoadError> {
    let text = std::fs::read_to_string(file).map_err(LoadError::Read)?;
    let dir = file.parent().unwrap_or(Path::new("."));
    let scenario = parse::parse(&text, vars, dir)?;
    let prepared = runner::prepare_all(&scenario)?;
    Ok((scenario, prepared))
}

fn print_step(step: &StepReport) {
    let verdict = match step.status {
        StepStatus::Passed => "PASS",
        StepStatus::Failed => "FAIL",
        StepStatus::Skipped => "SKIP",
    };
    println!("{verdict} {}: {}", step.title(), step.message);
}

fn write_reports(args: &RunArgs, reports: &[ScenarioReport]) -> Result<(), ReportError> {
    let write = |format, path: &PathBuf, text: String| {
        std::fs::write(path, text).map_err(|source| ReportError::Write {
            format,
            path: path.clone(),
            source,
        })
    };
    if let Some(path) = &args.junit {
        write(
            "junit",
            path,
            report::junit(reports).map_err(ReportError::Junit)?,
        )?;
    }
    if let Some(path) = &args.json {
        write("json", path, report::json(reports))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::cli::{Args, Command};

    #[test]
    fn addresses_and_assignments_become_variables() {
        let Ok(Args {
            command: Some(Command::Scenario(ScenarioCommand::Run(args))),
            ..
        }) = Args::try_parse_from([
            "softphone",
            "scenario",
            "run",
            "a.toml",
            "b.toml",
            "--gateway",
            "company.example.com:4070",
            "--set",
            "home_ip=192.168.1.50",
            "--set",
            "greeting=a=b",
        ])
        else {
            panic!("scenario run parses");
        };
        assert_eq!(args.files.len(), 2);
        let vars = args.variables();
        assert_eq!(vars["gateway"], "company.example.com:4070");
        assert_eq!(vars["home_ip"], "192.168.1.50");
        assert_eq!(vars["greeting"], "a=b", "split at the first =");
        assert!(!vars.contains_key("portal"));
        assert!(
            Args::try_parse_from(["softphone", "scenario", "run", "a.toml", "--set", "=x"])
                .is_err()
        );
        assert!(
            Args::try_parse_from(["softphone", "scenario", "run"]).is_err(),
            "a file is required"
        );
    }
}
