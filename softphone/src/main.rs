use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = softphone::cli::Args::parse();
    softphone::cli::init_logging(args.verbose);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("softphone: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(softphone::cli::run(args))
}
