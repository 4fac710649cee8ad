//! The scenario reader's errors: each names the party or step, then the
//! field, then what is wrong with its value.

use crate::hfa::call_flow::NotDialable;
use crate::scenario::model::{NotADuration, WrongParty};

/// Why a scenario file cannot run, naming the party or step and field.
#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    /// Not TOML (the offending line is not quoted: it may hold a password).
    #[error("line {line}, column {column}: {message}")]
    Syntax {
        line: usize,
        column: usize,
        message: String,
    },
    /// Not TOML, at no place the parser could name.
    #[error("{0}")]
    SyntaxSomewhere(String),
    /// Party `number` (1-based; `name` is " (its name)" or empty) is wrong.
    #[error("party {number}{name}: {error}")]
    Party {
        number: usize,
        name: String,
        error: Box<EntryError>,
    },
    /// Step `number` (`action` is " (its action)" or empty) is wrong.
    #[error("step {number}{action}: {error}")]
    Step {
        number: usize,
        action: String,
        error: Box<EntryError>,
    },
    /// The file has no step.
    #[error("step: the scenario has no [[step]]")]
    NoSteps,
}

/// What is wrong in one party or step.
#[derive(Debug, thiserror::Error)]
pub enum EntryError {
    /// In the value of field `field`.
    #[error("field {field}: {error}")]
    Field {
        field: String,
        error: Box<EntryError>,
    },
    /// A `${name}` in a value.
    #[error(transparent)]
    Variable(#[from] VariableError),
    /// The table does not deserialize (a missing or unknown field).
    #[error("{0}")]
    Toml(#[from] toml::de::Error),
    /// A `step = ...` that is not a table.
    #[error("a step is a table ([[step]])")]
    NotATable,
    /// A `timeout` that is not a duration.
    #[error("field timeout: {0}")]
    Timeout(NotADuration),
    /// A `timeout` that is not a string.
    #[error("field timeout: {0} is not a duration in quotes like \"10s\"")]
    TimeoutNotText(toml::Value),
    /// A party named "".
    #[error("field name is empty")]
    EmptyName,
    /// Two parties of one name.
    #[error("field name: another party has this name")]
    DuplicateName,
    /// Both or neither of `password` and `password_file`.
    #[error("give exactly one of the fields password and password_file")]
    PasswordChoice,
    /// Both or neither of `pin` and `ca`.
    #[error(
        "give exactly one of the fields pin (the gateway's certificate fingerprint) and ca (a \
         PEM file)"
    )]
    TrustChoice,
    /// A step for a party the file does not have.
    #[error("field party: no party is named {0:?}")]
    UnknownParty(String),
    /// A step the party's kind cannot take.
    #[error(transparent)]
    WrongParty(#[from] WrongParty),
    /// A `number` or `to` that is not dial-pad characters.
    #[error("field {field}: {error}")]
    NotDialable {
        field: &'static str,
        error: NotDialable,
    },
    /// `digits` that are not DTMF.
    #[error("field digits: {0:?} is not DTMF: use 0-9, *, # and A-D")]
    NotDtmf(String),
    /// A quality step with nothing to check.
    #[error("give at least one of min_mos, max_loss_percent and max_jitter_ms")]
    NoQualityBound,
}

/// A `${name}` that cannot be filled in.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VariableError {
    /// `${` without `}`.
    #[error("{text:?}: \"${{\" without a closing \"}}\"")]
    Unclosed { text: String },
    /// `option` is how to give it: `--gateway HOST:PORT`, `--set name=VALUE`.
    #[error("{text:?}: ${{{name}}} is not defined (give {option}, or a value in [vars])")]
    Undefined {
        text: String,
        name: String,
        option: String,
    },
}
