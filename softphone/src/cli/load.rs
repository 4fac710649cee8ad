//! `softphone load`: runs the load generator ([`crate::load`]), prints its
//! report on stdout and writes it as JSON on request.

use std::process::ExitCode;

use crate::load::LoadArgs;
use crate::load::run::run as run_load;

/// Exit code of a load run with failed registrations or calls.
pub const EXIT_LOAD_FAILURES: u8 = 6;

pub async fn run(args: LoadArgs) -> ExitCode {
    let report = match run_load(&args).await {
        Ok(report) => report,
        Err(error) => {
            eprintln!("softphone load: {error}");
            return ExitCode::from(super::EXIT_USAGE);
        }
    };
    print!("{report}");
    if let Some(path) = &args.json {
        let written = serde_json::to_string_pretty(&report)
            .map_err(std::io::Error::other)
            .and_then(|json| std::fs::write(path, json + "\n"));
        if let Err(error) = written {
            eprintln!(
                "softphone load: --json {}: cannot write: {error}",
                path.display()
            );
            return ExitCode::FAILURE;
        }
    }
    if report.failures() == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_LOAD_FAILURES)
    }
}
