//! Reading a scenario file: TOML, then the `${name}` variables filled in
//! (string values only), then each party and step read on its own so that
//! an error names it: "step 4 (dial): missing field `number`".

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use super::model::{Action, DEFAULT_TIMEOUT, Header, Party, Scenario, Step, parse_duration};
use crate::hfa::call_flow::Plan;

mod error;

pub use error::{EntryError, ParseError, VariableError};

/// Reads scenario `text`; `vars` (from the command line) override the
/// file's `[vars]`; relative file names are taken from `dir`.
pub fn parse(
    text: &str,
    vars: &BTreeMap<String, String>,
    dir: &Path,
) -> Result<Scenario, ParseError> {
    let header: Header = toml::from_str(text).map_err(|e| syntax_error(text, &e))?;
    let mut known = header.vars.clone();
    known.extend(vars.iter().map(|(k, v)| (k.clone(), v.clone())));
    let default_timeout = header.timeout.unwrap_or(DEFAULT_TIMEOUT);
    let mut parties = Vec::new();
    for (index, value) in header.parties.into_iter().enumerate() {
        let name = named(&value, "name");
        let in_party = |error| ParseError::Party {
            number: index + 1,
            name,
            error: Box::new(error),
        };
        let party: Party = substitute(value, &known)
            .and_then(|value| value.try_into().map_err(EntryError::Toml))
            .map_err(in_party)?;
        parties.push(resolve_paths(party, dir));
    }
    check_parties(&parties)?;
    let mut steps = Vec::new();
    for (index, value) in header.steps.into_iter().enumerate() {
        let number = index + 1;
        let action = named(&value, "action");
        let in_step = |error| ParseError::Step {
            number,
            action,
            error: Box::new(error),
        };
        let step = read_step(number, value, &known, default_timeout)
            .and_then(|step| check_step(&step, &parties).map(|()| step))
            .map_err(in_step)?;
        steps.push(step);
    }
    if steps.is_empty() {
        return Err(ParseError::NoSteps);
    }
    Ok(Scenario {
        name: header.name,
        description: header.description,
        parties,
        steps,
    })
}

/// A TOML error as "line L, column C: what", without the offending line
/// itself (the toml crate quotes it, and it may hold an inline password).
fn syntax_error(text: &str, error: &toml::de::Error) -> ParseError {
    let message = error.message().to_owned();
    let Some(span) = error.span() else {
        return ParseError::SyntaxSomewhere(message);
    };
    let before = text.get(..span.start).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before.len() - before.rfind('\n').map_or(0, |at| at + 1) + 1;
    ParseError::Syntax {
        line,
        column,
        message,
    }
}

/// " (value)" of the table's `key`, for titles.
fn named(value: &toml::Value, key: &str) -> String {
    value
        .get(key)
        .and_then(toml::Value::as_str)
        .map(|name| format!(" ({name})"))
        .unwrap_or_default()
}

fn read_step(
    number: usize,
    value: toml::Value,
    vars: &BTreeMap<String, String>,
    default_timeout: std::time::Duration,
) -> Result<Step, EntryError> {
    let toml::Value::Table(mut table) = substitute(value, vars)? else {
        return Err(EntryError::NotATable);
    };
    let timeout = match table.remove("timeout") {
        None => default_timeout,
        Some(toml::Value::String(text)) => parse_duration(&text).map_err(EntryError::Timeout)?,
        Some(other) => return Err(EntryError::TimeoutNotText(other)),
    };
    let action: Action = toml::Value::Table(table).try_into()?;
    Ok(Step {
        number,
        action,
        timeout,
    })
}

/// Fills `${name}` in every string of `value` from `vars`.
fn substitute(
    value: toml::Value,
    vars: &BTreeMap<String, String>,
) -> Result<toml::Value, EntryError> {
    Ok(match value {
        toml::Value::String(text) => toml::Value::String(expand(&text, vars)?),
        toml::Value::Array(items) => toml::Value::Array(
            items
                .into_iter()
                .map(|item| substitute(item, vars))
                .collect::<Result<_, _>>()?,
        ),
        toml::Value::Table(table) => toml::Value::Table(
            table
                .into_iter()
                .map(|(key, item)| match substitute(item, vars) {
                    Ok(item) => Ok((key, item)),
                    Err(error) => Err(EntryError::Field {
                        field: key,
                        error: Box::new(error),
                    }),
                })
                .collect::<Result<_, _>>()?,
        ),
        other => other,
    })
}

/// `text` with each `${name}` replaced by its value.
pub fn expand(text: &str, vars: &BTreeMap<String, String>) -> Result<String, VariableError> {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            return Err(VariableError::Unclosed {
                text: text.to_owned(),
            });
        };
        let name = &after[..end];
        let value = vars.get(name).ok_or_else(|| VariableError::Undefined {
            text: text.to_owned(),
            name: name.to_owned(),
            option: match name {
                "gateway" | "portal" => format!("--{name} HOST:PORT"),
                _ => format!("--set {name}=VALUE"),
            },
        })?;
        out.push_str(value);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Password files and CA files relative to the scenario's directory.
fn resolve_paths(party: Party, dir: &Path) -> Party {
    let resolve = |path: Option<std::path::PathBuf>| path.map(|path| dir.join(path));
    match party {
        Party::Hfa(mut hfa) => {
            hfa.password_file = resolve(hfa.password_file);
            Party::Hfa(hfa)
        }
        Party::Portal(mut portal) => {
            portal.password_file = resolve(portal.password_file);
            portal.ca = resolve(portal.ca);
            Party::Portal(portal)
        }
    }
}

fn check_parties(parties: &[Party]) -> Result<(), ParseError> {
    let mut names = HashSet::new();
    for (index, party) in parties.iter().enumerate() {
        let in_party = |error| ParseError::Party {
            number: index + 1,
            name: format!(" ({})", party.name()),
            error: Box::new(error),
        };
        if party.name().is_empty() {
            return Err(ParseError::Party {
                number: index + 1,
                name: String::new(),
                error: Box::new(EntryError::EmptyName),
            });
        }
        if !names.insert(party.name()) {
            return Err(in_party(EntryError::DuplicateName));
        }
        let (password, file) = match party {
            Party::Hfa(hfa) => (&hfa.password, &hfa.password_file),
            Party::Portal(portal) => (&portal.password, &portal.password_file),
        };
        if password.is_some() == file.is_some() {
            return Err(in_party(EntryError::PasswordChoice));
        }
        if let Party::Portal(portal) = party
            && portal.pin.is_some() == portal.ca.is_some()
        {
            return Err(in_party(EntryError::TrustChoice));
        }
    }
    Ok(())
}

fn check_step(step: &Step, parties: &[Party]) -> Result<(), EntryError> {
    let name = step.action.party();
    let party = parties
        .iter()
        .find(|party| party.name() == name)
        .ok_or_else(|| EntryError::UnknownParty(name.to_owned()))?;
    step.action.fits(party)?;
    match &step.action {
        Action::Dial { number, .. } => dialable("number", number),
        Action::Forward { to: Some(to), .. } => dialable("to", to),
        Action::Dtmf { digits, .. }
            if digits.is_empty() || !digits.chars().all(|c| "0123456789*#ABCD".contains(c)) =>
        {
            Err(EntryError::NotDtmf(digits.clone()))
        }
        Action::Quality {
            min_mos: None,
            max_loss_percent: None,
            max_jitter_ms: None,
            ..
        } => Err(EntryError::NoQualityBound),
        _ => Ok(()),
    }
}

/// `Ok` if `number` (field `field`) can be dialled.
fn dialable(field: &'static str, number: &str) -> Result<(), EntryError> {
    Plan::call(number, std::time::Duration::ZERO)
        .map(drop)
        .map_err(|error| EntryError::NotDialable { field, error })
}

#[cfg(test)]
mod tests;
