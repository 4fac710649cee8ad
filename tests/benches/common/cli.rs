//! The options every benchmark binary takes, and its exit: it runs only
//! with the `--bench` that `cargo bench` adds, so that `cargo test
//! --benches` (or `--all-targets`) does not start a benchmark.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

/// Options common to the benchmarks (flattened into each one's command line).
#[derive(Debug, Args)]
pub struct BenchOptions {
    /// The gateway binary [default: `gateway` in this bench's target
    /// directory, i.e. target/release/gateway].
    #[arg(long)]
    pub gateway: Option<PathBuf>,
    /// Added by `cargo bench`. Without it (as under `cargo test --benches`)
    /// the benchmark does not run.
    #[arg(long)]
    pub bench: bool,
    /// Bench name filters that `cargo bench FILTER` passes on; ignored.
    #[arg(hide = true)]
    pub filters: Vec<String>,
}

/// Runs `bench` if `--bench` was given, else says how to run it.
pub fn run(
    name: &str,
    options: &BenchOptions,
    bench: impl FnOnce() -> anyhow::Result<()>,
) -> ExitCode {
    if options.bench {
        return exit_code(bench());
    }
    eprintln!(
        "{name}: a benchmark, skipped without --bench; run it with \
         `cargo bench -p e2e-tests --bench {name}`"
    );
    ExitCode::SUCCESS
}

/// Success, or the error's chain on stderr and failure.
pub fn exit_code(result: anyhow::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
