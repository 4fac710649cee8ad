//! The desktop softphone: an eframe window with the HFA desk phone's face
//! or the myPortal to go face.
//!
//! The run loop: `main` builds the tokio runtime; [`run`] starts the
//! engines on it ([`engine`] for HFA, [`portal_engine`] for myPortal to
//! go) and hands the main thread to eframe, whose frames call
//! [`app::PhoneApp::ui`]. The engines' events wake the window with
//! `request_repaint`; between events an idle phone draws nothing.
//!
//! - [`app`]: the shell (menus, status line, journal, dialogs) around the
//!   personality in use
//! - [`settings`]: the profile on disk (settings, the password files, the journal)
//! - [`account`]: the first-run account dialog and its checks
//! - [`instance`]: one window per profile; a second `softphone tel:…` hands over
//! - [`face`]: the display, function keys with LEDs, dial pad, hook, mute, volume
//! - [`portal_face`]: the myPortal to go face: status field, network
//!   selector, dial pad and call screen; [`portal_settings`] its VoIP
//!   settings page, [`portal_engine`] its agent off the UI thread,
//!   [`portal_journal`] its calls in the journal
//! - [`journal`]: the call journal, read off what the phone shows
//! - [`notification`]: the desktop notification of an incoming call
//! - [`sound`]: the sound devices, the ringer and tones, the audio settings
//! - [`demo`]: `make run`: the demo office's gateway and a virtual party in-process,
//!   with [`demo_router`] as the company router's port forward for myPortal to go
//! - [`path`]: the path view, a live picture of the registration's and call's path
//! - [`quality`]: the quality panel, live plots of the call's figures
//! - [`views`]: both, in windows opened from the View menu
//! - [`feedback`]: the call summaries and "Create feedback archive…" (guide 7)

pub mod account;
pub mod app;
pub mod demo;
pub mod demo_router;
pub mod engine;
pub mod face;
pub mod feedback;
pub mod instance;
pub mod journal;
pub mod notification;
pub mod path;
pub mod portal_engine;
pub mod portal_face;
pub mod portal_journal;
pub mod portal_settings;
pub mod quality;
pub mod settings;
pub mod sound;
pub mod views;

#[cfg(test)]
mod portal_tests;
#[cfg(test)]
mod tests;

use std::process::ExitCode;

use shared::hfa_engine::phone::PhoneTimers;

use app::{AppOptions, PhoneApp};
use settings::Profile;

/// `softphone` without a subcommand, or `softphone gui`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct GuiArgs {
    /// Settings profile: several accounts side by side, each in its own
    /// directory under the config directory.
    #[arg(long, default_value = "default")]
    pub profile: String,
    /// Run the demo: the demo office's gateway in this process, this app
    /// registered as 201 "at home", and 202 as a virtual party.
    #[arg(long)]
    pub demo: bool,
    /// Calls without sound devices (silence in, nothing out).
    #[arg(long)]
    pub no_audio: bool,
    /// A `tel:` link (or a number) to dial, e.g. tel:+4989123456.
    #[arg(value_name = "TEL_URI")]
    pub tel: Option<String>,
}

impl GuiArgs {
    /// The profile the window runs in: the demo has its own.
    pub fn profile_in_use(&self) -> &str {
        if self.demo { "demo" } else { &self.profile }
    }
}

/// Whether a window can open: an X11 or Wayland display is named.
pub fn display_available() -> bool {
    ["DISPLAY", "WAYLAND_DISPLAY"]
        .iter()
        .any(|name| std::env::var_os(name).is_some_and(|value| !value.is_empty()))
}

/// The dial-pad characters of a `tel:` link or a typed number. Separators
/// go, and so does `+`, which has no key on an HFA phone: the system's dial
/// plan reads the digits.
pub fn number_of_tel(link: &str) -> Option<String> {
    let rest = link.strip_prefix("tel:").unwrap_or(link);
    // Parameters (";phone-context=...") are not part of the number.
    let number = rest.split(';').next().unwrap_or_default();
    let digits: String = number
        .chars()
        .filter(|ch| ch.is_ascii_digit() || *ch == '*' || *ch == '#')
        .collect();
    (!digits.is_empty()).then_some(digits)
}

/// Opens the window and runs until it is closed.
pub fn run(args: GuiArgs, runtime: &tokio::runtime::Runtime) -> ExitCode {
    if !display_available() && args.demo {
        return run_headless_demo(runtime);
    }
    if !display_available() {
        eprintln!(
            "softphone: no display (neither DISPLAY nor WAYLAND_DISPLAY is set); \
             run headless instead, e.g. `softphone hfa register --help`"
        );
        return ExitCode::from(crate::cli::EXIT_USAGE);
    }
    let dial = match args.tel.as_deref().map(number_of_tel) {
        Some(None) => {
            eprintln!("softphone: {:?} has no number to dial", args.tel);
            return ExitCode::from(crate::cli::EXIT_USAGE);
        }
        Some(Some(number)) => Some(number),
        None => None,
    };
    // The demo runs in a throw-away profile: no hand-over.
    let (options, demo, instance) = if args.demo {
        match runtime.block_on(demo::Demo::start()) {
            Ok(demo) => (demo.app_options(!args.no_audio, dial), Some(demo), None),
            Err(error) => {
                eprintln!("softphone: the demo did not start: {error:#}");
                return ExitCode::FAILURE;
            }
        }
    } else {
        let profile = match Profile::named(&args.profile) {
            Ok(profile) => profile,
            Err(error) => {
                eprintln!("softphone: {error}");
                return ExitCode::from(crate::cli::EXIT_USAGE);
            }
        };
        let instance = match instance::socket_path(&args.profile)
            .map(|path| instance::claim(&path, dial.as_deref()))
        {
            Some(Ok(instance::Claim::Handed)) => {
                match &dial {
                    Some(number) => println!(
                        "softphone: the running softphone (profile {}) dials {number}",
                        args.profile
                    ),
                    None => println!(
                        "softphone: the softphone of profile {} is already running",
                        args.profile
                    ),
                }
                return ExitCode::SUCCESS;
            }
            Some(Ok(instance::Claim::First(instance))) => Some(instance),
            Some(Err(error)) => {
                eprintln!("softphone: no tel: hand-over for this window: {error}");
                None
            }
            None => None,
        };
        let options = AppOptions {
            profile,
            audio_devices: !args.no_audio,
            timers: PhoneTimers::default(),
            bind: None,
            dial,
            list_devices: crate::audio::list_devices,
            notifications: true,
        };
        (options, None, instance)
    };
    let handle = runtime.handle().clone();
    let native = eframe::NativeOptions {
        viewport: eframe::egui::ViewportBuilder::default()
            .with_title("Device@Home softphone")
            .with_app_id("device-at-home-softphone")
            .with_inner_size([900.0, 600.0])
            .with_min_inner_size([720.0, 480.0]),
        ..Default::default()
    };
    // Borrowed: the socket stays until the window has closed.
    let serving = instance.as_ref();
    let result = eframe::run_native(
        "Device@Home softphone",
        native,
        Box::new(move |_creation| {
            let mut app = PhoneApp::new(options, &handle);
            if let Some(instance) = serving
                && let Err(error) = instance.serve(app.sender())
            {
                eprintln!("softphone: no tel: hand-over for this window: {error}");
            }
            if let Some(demo) = demo {
                app.set_demo(demo);
            }
            Ok(Box::new(app))
        }),
    );
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("softphone: the window could not open: {error}");
            ExitCode::FAILURE
        }
    }
}

/// `make run` without a display: the same demo office and virtual party,
/// and the one command that calls in, until Ctrl-C.
fn run_headless_demo(runtime: &tokio::runtime::Runtime) -> ExitCode {
    runtime.block_on(async {
        let mut interrupt = crate::hfa::session::Interrupt::listen();
        let demo = match demo::Demo::start().await {
            Ok(demo) => demo,
            Err(error) => {
                eprintln!("softphone: the demo did not start: {error:#}");
                return ExitCode::FAILURE;
            }
        };
        println!(
            "softphone: no display (DISPLAY and WAYLAND_DISPLAY unset): the demo runs headless; \
             202 answers calls with speech. Call in from another terminal with:"
        );
        println!("  {}", demo.headless_command());
        println!("and walk myPortal to go (210) through the networks with:");
        println!("  {}", demo.headless_portal_command());
        interrupt.recv().await;
        ExitCode::SUCCESS
    })
}

#[cfg(test)]
mod link_tests {
    use super::*;

    #[test]
    fn tel_links_become_dial_pad_digits() {
        assert_eq!(
            number_of_tel("tel:+4989123456").as_deref(),
            Some("4989123456")
        );
        assert_eq!(
            number_of_tel("tel:202;phone-context=x").as_deref(),
            Some("202")
        );
        assert_eq!(number_of_tel("tel:*98").as_deref(), Some("*98"));
        assert_eq!(number_of_tel("202").as_deref(), Some("202"));
        assert_eq!(number_of_tel("tel:abc"), None);
    }
}
