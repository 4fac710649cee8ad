//! `softphone feedback`: the feedback archive of guide 7 (see
//! [`crate::feedback::archive`]), written from a profile's trace, calls
//! and settings.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args as ClapArgs;

use super::usage;
use crate::feedback::archive::{self, Request};
use crate::gui::settings::Profile;

/// `softphone feedback` arguments.
#[derive(Debug, ClapArgs)]
pub struct FeedbackArgs {
    /// The profile whose trace, calls and setup go in (the window's
    /// --profile, or the headless commands').
    #[arg(long, default_value = "default")]
    pub profile: String,
    /// The archive to write (default: softphone-feedback-TIME.tar.gz here).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// The router at home, make and model, e.g. "FRITZ!Box 7590 (7.57)".
    #[arg(long, value_name = "TEXT")]
    pub home_router: Option<String>,
    /// The router at the office, make and model.
    #[arg(long, value_name = "TEXT")]
    pub office_router: Option<String>,
    /// A STUN server to learn the home router's public address from.
    #[arg(long, value_name = "HOST[:PORT]")]
    pub stun: Option<String>,
}

/// Writes the archive and prints where, and what it holds.
pub async fn run(args: FeedbackArgs) -> ExitCode {
    let profile = match Profile::named(&args.profile) {
        Ok(profile) => profile,
        Err(error) => return usage(error),
    };
    let request = Request {
        profile_dir: profile.dir().to_owned(),
        out: args
            .out
            .unwrap_or_else(|| PathBuf::from(archive::default_name())),
        home_router: args.home_router,
        office_router: args.office_router,
        stun: args.stun,
    };
    match archive::create(request).await {
        Ok(written) => {
            println!("feedback archive written: {}", written.path.display());
            for file in written.files {
                println!("  {file}");
            }
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("softphone: {error}");
            ExitCode::FAILURE
        }
    }
}
