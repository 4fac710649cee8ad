use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use super::*;
use crate::scenario::model::CallStateName;

const PARTIES: &str = r#"
name = "t"
timeout = "4s"

[vars]
gateway = "192.0.2.1:4070"

[[party]]
kind = "hfa"
name = "anna"
gateway = "${gateway}"
number = "201"
password_file = "anna.pw"

[[party]]
kind = "portal"
name = "dan"
user = "210"
password = "x"
wan = "${gateway}"
pin = "AB"
"#;

fn parsed(steps: &str, vars: &[(&str, &str)]) -> Result<Scenario, ParseError> {
    let vars: BTreeMap<String, String> = vars
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    parse(&format!("{PARTIES}{steps}"), &vars, Path::new("/etc/qa"))
}

#[test]
fn variables_fill_strings_and_the_command_line_wins() {
    let steps = "[[step]]\naction = \"register\"\nparty = \"anna\"\ntimeout = \"1m\"\n\
                 [[step]]\naction = \"expect-call\"\nparty = \"dan\"\nstate = \"held\"\n";
    let scenario = parsed(steps, &[("gateway", "company.example.com:4070")]).expect("parses");
    let Party::Hfa(anna) = &scenario.parties[0] else {
        panic!("an HFA phone")
    };
    assert_eq!(anna.gateway, "company.example.com:4070");
    assert_eq!(
        anna.password_file.as_deref(),
        Some(Path::new("/etc/qa/anna.pw")),
        "relative to the scenario"
    );
    assert_eq!(scenario.steps[0].timeout, Duration::from_secs(60));
    assert_eq!(
        scenario.steps[1].timeout,
        Duration::from_secs(4),
        "the default"
    );
    assert_eq!(
        scenario.steps[1].action,
        Action::ExpectCall {
            party: "dan".into(),
            state: CallStateName::Held,
            reason: None
        }
    );
}

#[test]
fn errors_name_the_step_and_the_field() {
    let missing = parsed("[[step]]\naction = \"dial\"\nparty = \"anna\"\n", &[]);
    let error = missing.expect_err("no number").to_string();
    assert!(
        error.starts_with("step 1 (dial): ") && error.contains("number"),
        "{error}"
    );
    let unknown = parsed(
        "[[step]]\naction = \"dial\"\nparty = \"zoe\"\nnumber = \"1\"\n",
        &[],
    );
    assert_eq!(
        unknown.expect_err("no zoe").to_string(),
        "step 1 (dial): field party: no party is named \"zoe\""
    );
    let tone = parsed(
        "[[step]]\naction = \"expect-tone\"\nparty = \"dan\"\ntone = \"busy\"\n",
        &[],
    );
    assert!(
        tone.expect_err("apps have no tones")
            .to_string()
            .starts_with("step 1 (expect-tone): party \"dan\" is a myPortal to go app"),
    );
    let bad_number = parsed(
        "[[step]]\naction = \"dial\"\nparty = \"anna\"\nnumber = \"20a\"\n",
        &[],
    );
    assert!(
        bad_number
            .expect_err("not a number")
            .to_string()
            .starts_with("step 1 (dial): field number: \"20a\" is not a number to dial"),
    );
    let timeout = parsed(
        "[[step]]\naction = \"answer\"\nparty = \"anna\"\ntimeout = \"soon\"\n",
        &[],
    );
    assert!(
        timeout
            .expect_err("not a duration")
            .to_string()
            .starts_with("step 1 (answer): field timeout: \"soon\" is not a duration"),
    );
    let undefined = parsed(
        "[[step]]\naction = \"dial\"\nparty = \"anna\"\nnumber = \"${echo}\"\n",
        &[],
    );
    assert!(
        undefined
            .expect_err("no such variable")
            .to_string()
            .contains("field number: \"${echo}\": ${echo} is not defined (give --set echo=VALUE"),
    );
}

#[test]
fn a_party_needs_one_password_and_one_trust() {
    let text = PARTIES.replace("password_file = \"anna.pw\"", "");
    let error = parse(
        &format!("{text}[[step]]\naction = \"answer\"\nparty = \"anna\"\n"),
        &BTreeMap::new(),
        Path::new("."),
    )
    .expect_err("no password")
    .to_string();
    assert_eq!(
        error,
        "party 1 (anna): give exactly one of the fields password and password_file"
    );
}

#[test]
fn the_shipped_scenarios_parse() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios");
    let vars: BTreeMap<String, String> = [
        ("gateway", "192.0.2.1:4070"),
        ("portal", "192.0.2.1:8802"),
        ("portal_pin", "AB:CD"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    let mut count = 0;
    for entry in std::fs::read_dir(&dir).expect("scenarios/") {
        let path = entry.expect("an entry").path();
        let text = std::fs::read_to_string(&path).expect("readable");
        parse(&text, &vars, &dir).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        count += 1;
    }
    assert!(count >= 10);
}

#[test]
fn a_syntax_error_names_the_line_without_quoting_it() {
    let text = "name = \"x\"\n[[party]]\nkind = \"hfa\"\npassword = \"s3cret\" oops\n";
    let error = parse(text, &BTreeMap::new(), Path::new("."))
        .expect_err("bad TOML")
        .to_string();
    assert!(error.starts_with("line 4, column "), "{error}");
    assert!(!error.contains("s3cret"), "{error}");
}
