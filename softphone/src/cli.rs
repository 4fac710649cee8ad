//! The headless command line, for QA scripts and load tests: every line it
//! prints on stdout is one state change, so a script can wait for a line.
//!
//! Exit codes:
//! - 0: success: `register` interrupted while running; `call` connected
//!   and hung up after `--hangup-after`; `answer` connected a call.
//! - 1: runtime failure (the client stopped by itself).
//! - 2: bad arguments or settings.
//! - 3: registration declined (`portal`: refused by a server, the
//!   certificate not trusted, or VoIP unavailable on the network).
//! - 4: the call failed: refused or busy (the reason is the display's
//!   bottom row, e.g. "202 busy", "not allowed"), ended by the other side
//!   before `--hangup-after`, lost with the connection, or interrupted
//!   before it connected.
//! - 5: `nat-check` found symmetric NAT (Device@Home will not work).
//! - 6: `load` saw failed registrations or calls (the report names them).
//! - 7: `scenario run`: an expectation did not hold (the reports name the
//!   step).

use shared::capture::Capture;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args as ClapArgs, Parser, Subcommand};
use shared::hfa::{MacAddress, PhoneId};
use shared::hfa_engine::phone::PhoneTimers;
use shared::secret::Secret;
use shared::version::SoftwareVersion;

use crate::audio::{AudioBackend, CpalBackend, NullBackend, PlayStart, WavBackend};
use crate::hfa::call_flow::{NotDialable, Outcome, Plan};
use crate::hfa::session::{self, SessionEnd};
use crate::hfa::{AccountError, GatewayAddress, HfaAccount};
use crate::media::MediaOptions;

pub mod feedback;
pub mod load;
pub mod nat_check;
pub mod portal;
pub mod scenario;

/// Exit code of a declined registration.
pub const EXIT_DECLINED: u8 = 3;
/// Exit code of unusable arguments or settings.
pub const EXIT_USAGE: u8 = 2;
/// Exit code of a call that failed.
pub const EXIT_CALL_FAILED: u8 = 4;

#[derive(Debug, Parser)]
#[command(
    name = "softphone",
    version,
    about = "Device@Home softphone: OpenStage HFA phone and myPortal to go VoIP client",
    long_about = "Device@Home softphone: OpenStage HFA phone and myPortal to go VoIP client.\n\n\
                  Without a subcommand it opens the desktop window (the same as `softphone gui`); \
                  the subcommands run headless.",
    args_conflicts_with_subcommands = true
)]
pub struct Args {
    /// More log output on stderr (-v info, -vv debug).
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    #[command(subcommand)]
    pub command: Option<Command>,
    /// The window's options when no subcommand is given.
    #[command(flatten)]
    pub gui: crate::gui::GuiArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Open the desktop window (the default without a subcommand).
    Gui(crate::gui::GuiArgs),
    /// Act as an OpenStage HFA desk phone.
    #[command(subcommand)]
    Hfa(Box<HfaCommand>),
    /// Act as the VoIP client of the myPortal to go app (HTTPS on 8802).
    #[command(subcommand)]
    Portal(Box<portal::PortalCommand>),
    /// Sound devices.
    #[command(subcommand)]
    Audio(AudioCommand),
    /// Check the home router's NAT type from home (guide 5): public
    /// address, mapping and filtering, by RFC 5780 discovery.
    NatCheck(nat_check::NatCheckArgs),
    /// Load a gateway: N HFA phones registering at a rate, calling each
    /// other in pairs at a rate with G.711 media; a report at the end.
    Load(Box<crate::load::LoadArgs>),
    /// Write the feedback archive of guide 7 (client trace, capture,
    /// setup and IP addresses, the last calls' quality) for support.
    Feedback(feedback::FeedbackArgs),
    /// QA scenarios in TOML against any gateway, with JUnit XML and JSON
    /// reports (docs/scenarios.md).
    #[command(subcommand)]
    Scenario(scenario::ScenarioCommand),
}

#[derive(Debug, Subcommand)]
pub enum AudioCommand {
    /// List the sound devices (ids and names for --input and --output).
    Devices,
}

#[derive(Debug, Subcommand)]
pub enum HfaCommand {
    /// Register and keep the registration alive until interrupted (Ctrl-C).
    Register(AccountArgs),
    /// Register, dial NUMBER (off-hook, a key press per digit, then #),
    /// and hang up a while after the call connects.
    Call(CallArgs),
    /// Register, answer the first incoming call, and hang up after a while
    /// or when the other side ends the call.
    Answer(AnswerArgs),
}

/// The audio of a call.
#[derive(Debug, ClapArgs)]
pub struct AudioArgs {
    /// Send this WAV file into the call instead of the microphone (with or
    /// without --record, both directions then use files: no sound device).
    /// It starts once the other side is heard (the path through the
    /// system's SBC is up), a second after the call connects at the latest.
    #[arg(long)]
    pub play: Option<PathBuf>,
    /// Write what is heard to this WAV file instead of the speaker.
    #[arg(long)]
    pub record: Option<PathBuf>,
    /// No sound device: silence in, what is heard discarded.
    #[arg(long, conflicts_with_all = ["play", "record", "input", "output"])]
    pub no_audio: bool,
    /// Microphone, by name or id (`softphone audio devices` lists them).
    #[arg(long)]
    pub input: Option<String>,
    /// Speaker, by name or id.
    #[arg(long)]
    pub output: Option<String>,
    /// Offer Opus (wideband) before G.711; used when the other side offers
    /// it too.
    #[arg(long)]
    pub opus: bool,
    /// Announce this RTP address instead of the phone's own (a port
    /// forward in front of it); RTCP one port above.
    #[arg(long)]
    pub advertise: Option<std::net::SocketAddr>,
}

impl AudioArgs {
    /// The media settings these options describe.
    pub fn media(&self) -> MediaOptions {
        let audio: Box<dyn AudioBackend> = if self.play.is_some() || self.record.is_some() {
            Box::new(WavBackend {
                play: self.play.clone(),
                record: self.record.clone(),
            })
        } else if self.no_audio {
            Box::new(NullBackend)
        } else {
            Box::new(CpalBackend {
                input: self.input.clone(),
                output: self.output.clone(),
            })
        };
        let mut media = MediaOptions::g711(audio);
        // A file is heard from its first frame: it starts once the path
        // through the system's SBC is up.
        media.play_start = PlayStart::WhenHeard;
        if self.opus {
            media.codecs.insert(0, crate::media::OPUS);
        }
        media.advertise = self.advertise;
        media
    }
}

/// `hfa call`.
#[derive(Debug, ClapArgs)]
pub struct CallArgs {
    #[command(flatten)]
    pub account: AccountArgs,
    #[command(flatten)]
    pub audio: AudioArgs,
    #[command(flatten)]
    pub dial: DialArgs,
}

/// What `hfa call` and `portal call` dial, and for how long.
#[derive(Debug, ClapArgs)]
pub struct DialArgs {
    /// The number to dial: digits, * and #.
    #[arg(value_name = "NUMBER")]
    pub destination: String,
    /// How long to stay connected before hanging up, e.g. 10s, 500ms, 1m.
    #[arg(long, default_value = "10s", value_parser = humantime::parse_duration)]
    pub hangup_after: Duration,
}

impl DialArgs {
    /// The call's plan, or why the number cannot be dialled.
    pub fn plan(&self) -> Result<Plan, NotDialable> {
        Plan::call(&self.destination, self.hangup_after)
    }
}

/// `hfa answer`.
#[derive(Debug, ClapArgs)]
pub struct AnswerArgs {
    #[command(flatten)]
    pub account: AccountArgs,
    #[command(flatten)]
    pub audio: AudioArgs,
    /// Go off-hook as soon as the phone rings (required: the only way a
    /// headless phone answers).
    #[arg(long, required = true)]
    pub auto: bool,
    /// Hang up this long after connecting, e.g. 10s; without it, stay until
    /// the other side ends the call.
    #[arg(long, value_parser = humantime::parse_duration)]
    pub hangup_after: Option<Duration>,
}

/// The phone's Device@Home settings (guide 4.1).
#[derive(Debug, ClapArgs)]
pub struct AccountArgs {
    /// The company's public IP or DNS name, with the forwarded port
    /// (default 4060), e.g. company.example.com:4070.
    #[arg(long)]
    pub gateway: String,
    /// Subscriber number.
    #[arg(long)]
    pub number: String,
    /// File holding the HFA password (first line); keeps it out of the
    /// process list and the shell history.
    #[arg(long)]
    pub password_file: PathBuf,
    /// Phone model reported to the system. OpenStage models offer G.722
    /// wideband audio before G.711; the DeskPhone IP 55 offers G.711 only.
    #[arg(long, value_enum, default_value = "openstage60")]
    pub phone_type: PhoneType,
    /// Turn the phone's G.722 off (its codec setting): offer G.711 only.
    #[arg(long)]
    pub no_g722: bool,
    /// Firmware version reported, e.g. V3R1.41.0.
    #[arg(long)]
    pub software_version: Option<SoftwareVersion>,
    /// MAC address, e.g. 02:1a:00:00:02:01 (default: derived from the number).
    #[arg(long, value_parser = parse_mac)]
    pub mac: Option<MacAddress>,
    /// Update service (DLS) address; must stay empty for Device@Home.
    #[arg(long)]
    pub dls: Option<String>,
    /// Local address to connect from (default: chosen by the system).
    #[arg(long)]
    pub bind: Option<std::net::IpAddr>,
    /// Alive Request period, in seconds.
    #[arg(long, default_value_t = 15)]
    pub alive_interval: u64,
    /// Write this phone's own traffic to FILE as pcapng for Wireshark: the
    /// HFA connection (TCP) and every call's RTP/RTCP.
    #[arg(long, value_name = "FILE")]
    pub capture: Option<PathBuf>,
    /// The profile that keeps this phone's client trace and call figures
    /// (for `softphone feedback`).
    #[arg(long, default_value = "default")]
    pub profile: String,
}

/// A `--capture FILE` that cannot be written.
#[derive(Debug, thiserror::Error)]
#[error("capture {}: {source}", path.display())]
pub struct CaptureError {
    pub path: PathBuf,
    source: std::io::Error,
}

/// `--capture FILE`: the capture, or why the file cannot be written.
pub fn open_capture(path: Option<&std::path::Path>) -> Result<Option<Capture>, CaptureError> {
    path.map(|path| {
        Capture::create(path).map_err(|source| CaptureError {
            path: path.to_owned(),
            source,
        })
    })
    .transpose()
}

/// Phone models (HFA phone ids); scenario files name them the same way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PhoneType {
    Openstage20,
    Openstage40,
    Openstage60,
    Openstage80,
    DeskphoneIp55,
}

impl PhoneType {
    /// The model's name, as the feedback archive reports it.
    fn name(self) -> &'static str {
        match self {
            Self::Openstage20 => "OpenStage 20 HFA",
            Self::Openstage40 => "OpenStage 40 HFA",
            Self::Openstage60 => "OpenStage 60 HFA",
            Self::Openstage80 => "OpenStage 80 HFA",
            Self::DeskphoneIp55 => "DeskPhone IP 55G HFA",
        }
    }

    pub fn id(self) -> PhoneId {
        match self {
            Self::Openstage20 => PhoneId::OPENSTAGE_20,
            Self::Openstage40 => PhoneId::OPENSTAGE_40,
            Self::Openstage60 => PhoneId::OPENSTAGE_60,
            Self::Openstage80 => PhoneId::OPENSTAGE_80,
            Self::DeskphoneIp55 => PhoneId::DESKPHONE_IP_55,
        }
    }
}

/// A `--mac` that is not one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MacError {
    /// Not hex bytes between `:` or `-`.
    #[error("{0:?} is not a MAC address like 02:1a:00:00:02:01")]
    NotHex(String),
    /// Not six bytes.
    #[error("{0:?} does not have 6 bytes")]
    Length(String),
}

fn parse_mac(text: &str) -> Result<MacAddress, MacError> {
    let bytes: Vec<u8> = text
        .split([':', '-'])
        .map(|part| u8::from_str_radix(part, 16))
        .collect::<Result<_, _>>()
        .map_err(|_| MacError::NotHex(text.to_owned()))?;
    let bytes: [u8; 6] = bytes
        .try_into()
        .map_err(|_| MacError::Length(text.to_owned()))?;
    Ok(MacAddress(bytes))
}

/// Account options that do not make an account.
#[derive(Debug, thiserror::Error)]
pub enum AccountArgsError {
    /// The gateway, number or password (the message names which).
    #[error(transparent)]
    Account(#[from] AccountError),
    /// A `--password-file` that cannot be read.
    #[error("password-file {}: {source}", path.display())]
    PasswordFile {
        path: PathBuf,
        source: std::io::Error,
    },
    /// A `--capture` file that cannot be written.
    #[error(transparent)]
    Capture(#[from] CaptureError),
    /// A `--profile` that cannot keep the figures.
    #[error(transparent)]
    Profile(#[from] crate::feedback::ProfileRefused),
}

impl AccountArgs {
    /// The account, or why not, naming the setting that is wrong.
    pub fn account(&self) -> Result<HfaAccount, AccountArgsError> {
        let gateway = GatewayAddress::parse(&self.gateway)?;
        let text = std::fs::read_to_string(&self.password_file).map_err(|source| {
            AccountArgsError::PasswordFile {
                path: self.password_file.clone(),
                source,
            }
        })?;
        let password = Secret::new(text.lines().next().unwrap_or_default());
        let mut account = HfaAccount::new(gateway, &self.number, password)?;
        account.phone_id = self.phone_type.id();
        if let Some(version) = self.software_version {
            account.software_version = version;
        }
        if let Some(mac) = self.mac {
            account.mac = mac;
        }
        account.dls_address = self.dls.clone();
        account.bind_address = self.bind;
        account.capture = open_capture(self.capture.as_deref())?;
        let device = crate::feedback::Device {
            device: self.phone_type.name().to_owned(),
            release: account.software_version.to_string(),
            number: self.number.clone(),
            gateway: self.gateway.clone(),
        };
        account.call_log =
            crate::feedback::headless_log(&self.profile, device, self.capture.as_deref())?;
        Ok(account)
    }

    /// Whether the phone offers G.722: an OpenStage model with its G.722
    /// setting left on.
    pub fn offers_g722(&self) -> bool {
        !self.no_g722 && crate::hfa::account::has_g722(self.phone_type.id())
    }

    pub fn timers(&self) -> PhoneTimers {
        PhoneTimers {
            alive_interval: Duration::from_secs(self.alive_interval.max(1)),
            ..PhoneTimers::default()
        }
    }
}

impl Args {
    /// The profile whose client trace this run writes: the window's, a
    /// phone's (`--profile`); none for `load` (thousands of phones, its
    /// own report), `scenario` (its own reports), `feedback` and `audio`.
    pub fn trace_profile(&self) -> Option<&str> {
        match &self.command {
            None => Some(self.gui.profile_in_use()),
            Some(Command::Gui(gui)) => Some(gui.profile_in_use()),
            Some(Command::Hfa(command)) => Some(match command.as_ref() {
                HfaCommand::Register(account) => &account.profile,
                HfaCommand::Call(call) => &call.account.profile,
                HfaCommand::Answer(answer) => &answer.account.profile,
            }),
            Some(Command::Portal(command)) => Some(&command.settings().profile),
            Some(Command::NatCheck(_)) => Some("default"),
            Some(
                Command::Audio(_) | Command::Load(_) | Command::Scenario(_) | Command::Feedback(_),
            ) => None,
        }
    }
}

/// Log output on stderr as `-v` and `RUST_LOG` say, and the client trace
/// of `profile` (see [`crate::feedback::trace`]) whatever they say.
pub fn init_logging(verbose: u8, profile: Option<&str>) {
    use tracing_subscriber::Layer as _;
    use tracing_subscriber::layer::SubscriberExt as _;
    use tracing_subscriber::util::SubscriberInitExt as _;
    let level = match verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    let stderr = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_filter(filter);
    let trace = profile.and_then(|name| {
        let dir = crate::gui::settings::Profile::named(name).ok()?;
        match crate::feedback::trace::ClientTrace::open(dir.dir()) {
            Ok(trace) => Some(trace),
            Err(error) => {
                eprintln!(
                    "softphone: no client trace in {}: {error}",
                    dir.dir().display()
                );
                None
            }
        }
    });
    tracing_subscriber::registry()
        .with(stderr)
        .with(trace.map(crate::feedback::trace::ClientTrace::filtered))
        .init();
    tracing::info!(
        version = env!("CARGO_PKG_VERSION"),
        pid = std::process::id(),
        "softphone started"
    );
}

/// Runs a headless subcommand (the window is [`crate::gui::run`]).
pub async fn run(command: Command) -> ExitCode {
    let command = match command {
        Command::Hfa(command) => *command,
        Command::Portal(command) => return portal::run(*command).await,
        Command::Audio(AudioCommand::Devices) => return list_devices(),
        Command::NatCheck(args) => return nat_check::run(args).await,
        Command::Load(args) => return load::run(*args).await,
        Command::Feedback(args) => return feedback::run(args).await,
        Command::Scenario(command) => return scenario::run(command).await,
        Command::Gui(_) => return usage("the window does not run inside the async runtime"),
    };
    let (account, plan) = match command {
        HfaCommand::Register(account) => (account, None),
        HfaCommand::Call(call) => match call.dial.plan() {
            Ok(plan) => (call.account, Some((plan, call.audio.media()))),
            Err(message) => return usage(&message),
        },
        HfaCommand::Answer(answer) => {
            let plan = Plan::Answer {
                hangup_after: answer.hangup_after,
            };
            (answer.account, Some((plan, answer.audio.media())))
        }
    };
    let hfa = match account.account() {
        Ok(hfa) => hfa,
        Err(message) => return usage(&message),
    };
    for warning in hfa.warnings() {
        eprintln!("warning: {warning}");
    }
    println!("hfa {} at {}: starting", hfa.number, hfa.gateway);
    let end = match plan {
        None => session::register(hfa, account.timers()).await,
        Some((plan, mut media)) => {
            media.capture = hfa.capture.clone();
            if account.offers_g722() {
                media.offer_g722();
            }
            session::call(hfa, account.timers(), plan, media).await
        }
    };
    exit_code(&end)
}

fn list_devices() -> ExitCode {
    let devices = crate::audio::list_devices();
    if devices.is_empty() {
        println!("no sound devices");
    }
    for device in devices {
        let directions = match (device.input, device.output) {
            (true, true) => "input, output",
            (true, false) => "input",
            (false, true) => "output",
            (false, false) => "-",
        };
        println!("{}\t{}\t({directions})", device.id, device.name);
    }
    ExitCode::SUCCESS
}

/// A usage error: the message on stderr, exit code 2.
fn usage(message: impl std::fmt::Display) -> ExitCode {
    eprintln!("softphone: {message}");
    ExitCode::from(EXIT_USAGE)
}

/// The exit code of how a session ended, with its reason on stderr.
fn exit_code(end: &SessionEnd) -> ExitCode {
    match end {
        SessionEnd::Interrupted | SessionEnd::Call(Outcome::Connected) => ExitCode::SUCCESS,
        SessionEnd::Call(Outcome::Failed(reason)) => {
            println!("call failed: {reason}");
            eprintln!("softphone: call failed: {reason}");
            ExitCode::from(EXIT_CALL_FAILED)
        }
        SessionEnd::Declined(cause) => {
            eprintln!("softphone: registration declined: {}", cause.describe());
            ExitCode::from(EXIT_DECLINED)
        }
        SessionEnd::ClientGone => ExitCode::FAILURE,
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    const ACCOUNT: [&str; 6] = [
        "--gateway",
        "127.0.0.1",
        "--number",
        "201",
        "--password-file",
        "pw",
    ];

    fn parse(words: &[&str]) -> Result<Args, clap::Error> {
        let account = ACCOUNT.iter().copied();
        Args::try_parse_from(
            ["softphone", "hfa"]
                .into_iter()
                .chain(words.iter().copied())
                .chain(account),
        )
    }

    #[test]
    fn the_command_line_is_consistent() {
        Args::command().debug_assert();
    }

    #[test]
    fn openstage_models_offer_g722_unless_it_is_turned_off() {
        let offers = |words: &[&str]| match parse(words) {
            Ok(Args {
                command: Some(Command::Hfa(command)),
                ..
            }) => match *command {
                HfaCommand::Call(call) => call.account.offers_g722(),
                other => panic!("a call: {other:?}"),
            },
            other => panic!("hfa call parses: {other:?}"),
        };
        assert!(offers(&["call", "202"]), "an OpenStage 60 by default");
        assert!(offers(&["call", "202", "--phone-type", "openstage40"]));
        assert!(!offers(&["call", "202", "--no-g722"]));
        assert!(!offers(&["call", "202", "--phone-type", "deskphone-ip55"]));
    }

    #[test]
    fn call_takes_the_number_and_a_human_duration() {
        let Ok(Args {
            command: Some(Command::Hfa(command)),
            ..
        }) = parse(&["call", "202", "--hangup-after", "1m 500ms"])
        else {
            panic!("hfa call parses");
        };
        let HfaCommand::Call(call) = *command else {
            panic!("a call")
        };
        assert_eq!(call.dial.destination, "202");
        assert_eq!(call.account.number, "201");
        assert_eq!(call.dial.hangup_after, Duration::from_millis(60_500));
        let Ok(Args {
            command: Some(Command::Hfa(command)),
            ..
        }) = parse(&["call", "202"])
        else {
            panic!("hfa call parses");
        };
        let HfaCommand::Call(call) = *command else {
            panic!("a call")
        };
        assert_eq!(call.dial.hangup_after, Duration::from_secs(10));
        assert!(parse(&["call", "202", "--hangup-after", "10x"]).is_err());
    }

    #[test]
    fn answer_needs_auto() {
        assert!(parse(&["answer"]).is_err());
        let Ok(Args {
            command: Some(Command::Hfa(command)),
            ..
        }) = parse(&["answer", "--auto", "--hangup-after", "2s"])
        else {
            panic!("hfa answer parses");
        };
        let HfaCommand::Answer(answer) = *command else {
            panic!("an answer")
        };
        assert_eq!(answer.hangup_after, Some(Duration::from_secs(2)));
    }
}
