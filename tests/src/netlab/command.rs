//! Running the lab's system tools (`ip`, `nft`, `iptables-nft`,
//! `conntrack`, `turnserver`): a failure carries the command line and what
//! the tool printed.

use std::io::Write;
use std::process::{Command, Stdio};

use super::LabError;

/// Runs `program args`; its standard output on success.
pub fn run(program: &str, args: &[&str]) -> Result<String, LabError> {
    run_with_input(program, args, None)
}

/// Runs `program args` with `input` on its standard input.
pub fn run_with_input(
    program: &str,
    args: &[&str],
    input: Option<&str>,
) -> Result<String, LabError> {
    let line = format!("{program} {}", args.join(" "));
    let mut child = Command::new(program)
        .args(args)
        .stdin(if input.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|error| LabError::Tool {
            command: line.clone(),
            output: format!("cannot start it: {error} (make deps installs the lab's tools)"),
        })?;
    if let (Some(input), Some(mut stdin)) = (input, child.stdin.take()) {
        stdin
            .write_all(input.as_bytes())
            .map_err(|error| LabError::Tool {
                command: line.clone(),
                output: format!("cannot write its input: {error}"),
            })?;
    }
    let output = child.wait_with_output().map_err(|error| LabError::Tool {
        command: line.clone(),
        output: error.to_string(),
    })?;
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    } else {
        Err(LabError::Tool {
            command: line,
            output: format!(
                "{}: {}{}",
                output.status,
                String::from_utf8_lossy(&output.stderr).trim(),
                String::from_utf8_lossy(&output.stdout).trim()
            ),
        })
    }
}

/// Runs `program args` inside the network namespace `ns`.
pub fn run_in(ns: &str, program: &str, args: &[&str]) -> Result<String, LabError> {
    let mut full = vec!["netns", "exec", ns, program];
    full.extend_from_slice(args);
    run("ip", &full)
}

/// Runs `program args` inside `ns` with `input` on its standard input.
pub fn run_in_with_input(
    ns: &str,
    program: &str,
    args: &[&str],
    input: &str,
) -> Result<String, LabError> {
    let mut full = vec!["netns", "exec", ns, program];
    full.extend_from_slice(args);
    run_with_input("ip", &full, Some(input))
}
