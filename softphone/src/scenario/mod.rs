//! `softphone scenario run`: QA scenarios in TOML, run against any
//! gateway address (ours or a real system) by the same engines the
//! headless commands drive, with JUnit XML and JSON reports.
//!
//! - [`model`]: what a file says (parties, steps);
//! - [`parse`]: reading it, `${name}` variables, errors naming the step
//!   and field;
//! - [`party`]: the running phones and apps;
//! - [`expect`]: the waiting steps' checks;
//! - [`runner`]: the steps in order, each within its timeout;
//! - [`report`]: JSON and JUnit XML.
//!
//! docs/scenarios.md is the format's reference.

pub mod expect;
pub mod model;
pub mod parse;
pub mod party;
pub mod report;
pub mod runner;

pub use model::{Action, Party, Scenario, Step};
pub use report::{ScenarioReport, StepReport, StepStatus};
