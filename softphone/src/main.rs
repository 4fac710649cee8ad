use std::process::ExitCode;

use clap::Parser;
use softphone::cli::{Args, Command};

fn main() -> ExitCode {
    let args = Args::parse();
    softphone::cli::init_logging(args.verbose, args.trace_profile());
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
    // The window owns the main thread; the engine runs on the runtime.
    match args.command {
        None => softphone::gui::run(args.gui, &runtime),
        Some(Command::Gui(gui)) => softphone::gui::run(gui, &runtime),
        Some(command) => runtime.block_on(softphone::cli::run(command)),
    }
}
