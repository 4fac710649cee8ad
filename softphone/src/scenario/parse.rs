//! Reading a scenario file: TOML, then the `${name}` variables filled in
//! (string values only), then each party and step read on its own so that
//! an error names it: "step 4 (dial): missing field `number`".

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use super::model::{Action, DEFAULT_TIMEOUT, Header, Party, Scenario, Step, parse_duration};
use crate::hfa::call_flow::Plan;

/// Reads scenario `text`; `vars` (from the command line) override the
/// file's `[vars]`; relative file names are taken from `dir`.
pub fn parse(text: &str, vars: &BTreeMap<String, String>, dir: &Path) -> Result<Scenario, String> {
    let header: Header = toml::from_str(text).map_err(|e| syntax_error(text, &e))?;
    let mut known = header.vars.clone();
    known.extend(vars.iter().map(|(k, v)| (k.clone(), v.clone())));
    let default_timeout = header.timeout.unwrap_or(DEFAULT_TIMEOUT);
    let mut parties = Vec::new();
    for (index, value) in header.parties.into_iter().enumerate() {
        let title = format!("party {}{}", index + 1, named(&value, "name"));
        let value = substitute(value, &known).map_err(|e| format!("{title}: {e}"))?;
        let party: Party = value.try_into().map_err(|e| format!("{title}: {e}"))?;
        parties.push(resolve_paths(party, dir));
    }
    check_parties(&parties)?;
    let mut steps = Vec::new();
    for (index, value) in header.steps.into_iter().enumerate() {
        let number = index + 1;
        let title = format!("step {number}{}", named(&value, "action"));
        let step = read_step(number, value, &known, default_timeout)
            .map_err(|e| format!("{title}: {e}"))?;
        check_step(&step, &parties).map_err(|e| format!("{title}: {e}"))?;
        steps.push(step);
    }
    if steps.is_empty() {
        return Err("step: the scenario has no [[step]]".to_owned());
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
fn syntax_error(text: &str, error: &toml::de::Error) -> String {
    let Some(span) = error.span() else {
        return error.message().to_owned();
    };
    let before = text.get(..span.start).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before.len() - before.rfind('\n').map_or(0, |at| at + 1) + 1;
    format!("line {line}, column {column}: {}", error.message())
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
) -> Result<Step, String> {
    let toml::Value::Table(mut table) = substitute(value, vars)? else {
        return Err("a step is a table ([[step]])".to_owned());
    };
    let timeout = match table.remove("timeout") {
        None => default_timeout,
        Some(toml::Value::String(text)) => {
            parse_duration(&text).map_err(|e| format!("field timeout: {e}"))?
        }
        Some(other) => {
            return Err(format!(
                "field timeout: {other} is not a duration in quotes like \"10s\""
            ));
        }
    };
    let action: Action = toml::Value::Table(table)
        .try_into()
        .map_err(|e: toml::de::Error| e.to_string())?;
    Ok(Step {
        number,
        action,
        timeout,
    })
}

/// Fills `${name}` in every string of `value` from `vars`.
fn substitute(value: toml::Value, vars: &BTreeMap<String, String>) -> Result<toml::Value, String> {
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
                .map(|(key, item)| {
                    substitute(item, vars)
                        .map(|item| (key.clone(), item))
                        .map_err(|e| format!("field {key}: {e}"))
                })
                .collect::<Result<_, _>>()?,
        ),
        other => other,
    })
}

/// `text` with each `${name}` replaced by its value.
pub fn expand(text: &str, vars: &BTreeMap<String, String>) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            return Err(format!("{text:?}: \"${{\" without a closing \"}}\""));
        };
        let name = &after[..end];
        let value = vars.get(name).ok_or_else(|| {
            let option = match name {
                "gateway" | "portal" => format!("--{name} HOST:PORT"),
                _ => format!("--set {name}=VALUE"),
            };
            format!("{text:?}: ${{{name}}} is not defined (give {option}, or a value in [vars])")
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

fn check_parties(parties: &[Party]) -> Result<(), String> {
    let mut names = HashSet::new();
    for (index, party) in parties.iter().enumerate() {
        let title = format!("party {} ({})", index + 1, party.name());
        if party.name().is_empty() {
            return Err(format!("party {}: field name is empty", index + 1));
        }
        if !names.insert(party.name()) {
            return Err(format!("{title}: field name: another party has this name"));
        }
        let (password, file) = match party {
            Party::Hfa(hfa) => (&hfa.password, &hfa.password_file),
            Party::Portal(portal) => (&portal.password, &portal.password_file),
        };
        if password.is_some() == file.is_some() {
            return Err(format!(
                "{title}: give exactly one of the fields password and password_file"
            ));
        }
        if let Party::Portal(portal) = party
            && portal.pin.is_some() == portal.ca.is_some()
        {
            return Err(format!(
                "{title}: give exactly one of the fields pin (the gateway's certificate \
                 fingerprint) and ca (a PEM file)"
            ));
        }
    }
    Ok(())
}

fn check_step(step: &Step, parties: &[Party]) -> Result<(), String> {
    let name = step.action.party();
    let party = parties
        .iter()
        .find(|party| party.name() == name)
        .ok_or_else(|| format!("field party: no party is named {name:?}"))?;
    step.action.fits(party)?;
    match &step.action {
        Action::Dial { number, .. } => dialable("number", number),
        Action::Forward { to: Some(to), .. } => dialable("to", to),
        Action::Dtmf { digits, .. }
            if digits.is_empty() || !digits.chars().all(|c| "0123456789*#ABCD".contains(c)) =>
        {
            Err(format!(
                "field digits: {digits:?} is not DTMF: use 0-9, *, # and A-D"
            ))
        }
        Action::Quality {
            min_mos: None,
            max_loss_percent: None,
            max_jitter_ms: None,
            ..
        } => Err("give at least one of min_mos, max_loss_percent and max_jitter_ms".to_owned()),
        _ => Ok(()),
    }
}

/// `Ok` if `number` (field `field`) can be dialled.
fn dialable(field: &str, number: &str) -> Result<(), String> {
    Plan::call(number, std::time::Duration::ZERO)
        .map(drop)
        .map_err(|e| format!("field {field}: {e}"))
}

#[cfg(test)]
mod tests;
