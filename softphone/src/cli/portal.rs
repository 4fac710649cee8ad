//! `softphone portal ...`: the myPortal to go VoIP client, headless.
//!
//! The UC password comes from `--password-file` or the environment
//! variable `SOFTPHONE_PASSWORD`, never from the command line (where the
//! process list and the shell history would show it).

use std::net::IpAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args as ClapArgs, Subcommand};
use shared::secret::Secret;

use super::{AudioArgs, DialArgs, EXIT_CALL_FAILED, EXIT_DECLINED, usage};
use crate::audio::NullBackend;
use crate::hfa::call_flow::{Outcome, Plan};
use crate::media::MediaOptions;
use crate::portal::agent::AgentTimers;
use crate::portal::demo::{self, DemoBinds};
use crate::portal::session::{self, PortalEnd};
use crate::portal::settings::{Network, PortalSettings, SettingsError, VoipFlags};
use crate::portal::trust::{Fingerprint, GatewayVerifier, Trust, TrustError, provider};

/// Why `--opus` is refused here.
pub const G711_ONLY: &str = "opus: myPortal to go VoIP supports only the G.711 codec (guide 1.3.3)";

/// The environment variable that may hold the UC password.
pub const PASSWORD_ENV: &str = "SOFTPHONE_PASSWORD";

#[derive(Debug, Subcommand)]
pub enum PortalCommand {
    /// Log in, register for VoIP and stay registered until interrupted
    /// (Ctrl-C), printing every status change.
    Register(PortalArgs),
    /// Register, dial NUMBER, and hang up a while after the call connects.
    Call(PortalCallArgs),
    /// Register, answer the first incoming call, and hang up after a while
    /// or when the other side ends the call.
    Answer(PortalAnswerArgs),
    /// Walk through the guide's network changes (company WiFi, remote WiFi
    /// with "Use VoIP in remote WiFi networks" off, then on, mobile data,
    /// company WiFi again), printing each status with its re-registration
    /// time; with --call, carry a call from the company WiFi to a remote
    /// WiFi and show that it survives.
    DemoSwitch(DemoArgs),
}

/// The app's settings (guide 4.2).
#[derive(Debug, ClapArgs)]
pub struct PortalArgs {
    /// The user's call number.
    #[arg(long)]
    pub user: String,
    /// Write the app's own traffic to FILE as pcapng for Wireshark: its
    /// HTTPS to the servers (TCP, decrypted with the key log this app
    /// writes to $SSLKEYLOGFILE) and its calls' RTP/RTCP.
    #[arg(long, value_name = "FILE")]
    pub capture: Option<PathBuf>,
    /// File holding the UC password (first line); without it, the
    /// environment variable SOFTPHONE_PASSWORD.
    #[arg(long)]
    pub password_file: Option<PathBuf>,
    /// WAN server: the company's public IP or DNS name, with port 8802 or
    /// the forwarded one, e.g. company.example.com:8802.
    #[arg(long, value_name = "HOST:PORT")]
    pub wan: String,
    /// LAN server: the system's internal IP in the company WiFi, e.g.
    /// 10.10.0.2:8802.
    #[arg(long, value_name = "HOST:PORT")]
    pub lan: Option<String>,
    /// The network the device is on.
    #[arg(long, default_value = "company-wifi", value_parser = parse_network)]
    pub network: Network,
    /// Switch the "VoIP" flag off.
    #[arg(long)]
    pub no_voip: bool,
    /// Switch "Use VoIP in remote WiFi networks" on.
    #[arg(long)]
    pub remote_wifi_voip: bool,
    /// Trust only the certificate with this SHA-256 fingerprint (AB:CD:...).
    #[arg(long, value_name = "FP", conflicts_with_all = ["ca", "accept_fingerprint", "known_gateways"])]
    pub pin: Option<Fingerprint>,
    /// Trust certificates issued by the CA(s) in this PEM file.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["accept_fingerprint", "known_gateways"])]
    pub ca: Option<PathBuf>,
    /// Trust on first use: accept this fingerprint if the gateway is not
    /// known yet (without it, an unknown certificate is shown and, on a
    /// terminal, you are asked).
    #[arg(long, value_name = "FP")]
    pub accept_fingerprint: Option<Fingerprint>,
    /// The known-gateways store of trust on first use (default:
    /// $XDG_CONFIG_HOME/device-at-home/known-gateways.toml).
    #[arg(long, value_name = "FILE")]
    pub known_gateways: Option<PathBuf>,
    /// Local address for signalling and media (default: chosen by the
    /// system).
    #[arg(long)]
    pub bind: Option<IpAddr>,
    /// The app version reported at login.
    #[arg(long, default_value = "V2R1.61.14")]
    pub app_version: String,
    /// The profile that keeps the app's client trace and call figures
    /// (for `softphone feedback`).
    #[arg(long, default_value = "default")]
    pub profile: String,
}

impl PortalCommand {
    /// The app's settings, whichever the command.
    pub fn settings(&self) -> &PortalArgs {
        match self {
            Self::Register(args) => args,
            Self::Call(call) => &call.settings,
            Self::Answer(answer) => &answer.settings,
            Self::DemoSwitch(demo) => &demo.settings,
        }
    }
}

/// `portal call`.
#[derive(Debug, ClapArgs)]
pub struct PortalCallArgs {
    #[command(flatten)]
    pub settings: PortalArgs,
    #[command(flatten)]
    pub audio: AudioArgs,
    #[command(flatten)]
    pub dial: DialArgs,
}

/// `portal answer`.
#[derive(Debug, ClapArgs)]
pub struct PortalAnswerArgs {
    #[command(flatten)]
    pub settings: PortalArgs,
    #[command(flatten)]
    pub audio: AudioArgs,
    /// Hang up this long after connecting; without it, stay until the
    /// other side ends the call.
    #[arg(long, value_parser = humantime::parse_duration)]
    pub hangup_after: Option<Duration>,
}

/// `portal demo-switch`.
#[derive(Debug, ClapArgs)]
pub struct DemoArgs {
    #[command(flatten)]
    pub settings: PortalArgs,
    /// Local address in the remote WiFi and on mobile data (--bind is the
    /// one in the company WiFi).
    #[arg(long)]
    pub home_bind: Option<IpAddr>,
    /// Make the LAN server unreachable: use a local address that accepts
    /// connections and never answers, to show the fall back to the WAN
    /// server.
    #[arg(long)]
    pub lan_unreachable: bool,
    /// Dial NUMBER in the company WiFi (with "Use VoIP in remote WiFi
    /// networks" on), move to a remote WiFi with the call up and show that
    /// it survives (re-registered via WAN, media still received), then hang
    /// up and walk on; exits non-zero if the call did not survive. E.g.
    /// '*98', the echo test.
    #[arg(long, value_name = "NUMBER", value_parser = parse_number)]
    pub call: Option<String>,
    /// The call's audio; without --play, --record, --input or --output no
    /// sound device is used.
    #[command(flatten)]
    pub audio: AudioArgs,
}

/// A number to dial: dial-pad characters, as `portal call` takes them.
fn parse_number(text: &str) -> Result<String, crate::hfa::call_flow::NotDialable> {
    Plan::call(text, Duration::ZERO).map(|_| text.to_owned())
}

fn parse_network(text: &str) -> Result<Network, SettingsError> {
    text.parse()
}

/// App options that do not make the app's settings.
#[derive(Debug, thiserror::Error)]
pub enum PortalArgsError {
    /// A `--password-file` that cannot be read.
    #[error("password-file {}: {source}", path.display())]
    PasswordFile {
        path: PathBuf,
        source: std::io::Error,
    },
    /// No password from a file or the environment.
    #[error(
        "password: give --password-file FILE or set {PASSWORD_ENV} (never on the command line)"
    )]
    NoPassword,
    /// A CA file that cannot be read, or no store for known gateways.
    #[error(transparent)]
    Trust(#[from] TrustError),
    /// The user, addresses or app version (the message names which).
    #[error(transparent)]
    Settings(#[from] SettingsError),
}

impl PortalArgs {
    /// The settings, or why not, naming the setting that is wrong.
    pub fn settings(
        &self,
        env_password: Option<String>,
    ) -> Result<PortalSettings, PortalArgsError> {
        let password = match (&self.password_file, env_password) {
            (Some(path), _) => {
                let text = std::fs::read_to_string(path).map_err(|source| {
                    PortalArgsError::PasswordFile {
                        path: path.clone(),
                        source,
                    }
                })?;
                Secret::new(text.lines().next().unwrap_or_default())
            }
            (None, Some(password)) => Secret::new(password),
            (None, None) => return Err(PortalArgsError::NoPassword),
        };
        let trust = match (&self.pin, &self.ca, &self.known_gateways) {
            (Some(pin), _, _) => Trust::Pin(*pin),
            (None, Some(ca), _) => {
                let trust = Trust::Ca(ca.clone());
                // A CA file that cannot be read is a usage error, not a
                // refusal by the gateway.
                GatewayVerifier::new(self.wan.clone(), &trust, provider())?;
                trust
            }
            (None, None, Some(store)) => Trust::Tofu {
                store: store.clone(),
                accept: self.accept_fingerprint,
            },
            (None, None, None) => Trust::tofu(self.accept_fingerprint)?,
        };
        let mut settings = PortalSettings::new(
            &self.user,
            password,
            &self.wan,
            self.lan.as_deref(),
            self.network,
            trust,
        )?;
        settings.flags = VoipFlags {
            voip: !self.no_voip,
            remote_wifi: self.remote_wifi_voip,
        };
        settings.bind = self.bind;
        settings.set_app("android", &self.app_version)?;
        Ok(settings)
    }

    /// The profile's call log, with this app noted as its device: done
    /// when the command runs, not when its settings are only checked.
    fn call_log(
        &self,
    ) -> Result<Option<crate::feedback::CallLog>, crate::feedback::ProfileRefused> {
        let device = crate::feedback::Device {
            device: crate::feedback::archive::PORTAL_DEVICE.to_owned(),
            release: self.app_version.clone(),
            number: self.user.clone(),
            gateway: self.wan.clone(),
        };
        crate::feedback::headless_log(&self.profile, device, self.capture.as_deref())
    }
}

/// Runs a `portal` command.
pub async fn run(command: PortalCommand) -> ExitCode {
    let env_password = std::env::var(PASSWORD_ENV).ok();
    if let PortalCommand::Call(PortalCallArgs { audio, .. })
    | PortalCommand::Answer(PortalAnswerArgs { audio, .. })
    | PortalCommand::DemoSwitch(DemoArgs { audio, .. }) = &command
        && audio.opus
    {
        return usage(G711_ONLY);
    }
    let (args, plan, media) = match command {
        PortalCommand::Register(args) => (args, None, no_audio()),
        PortalCommand::Call(call) => match call.dial.plan() {
            Ok(plan) => (call.settings, Some(plan), call.audio.media()),
            Err(message) => return usage(&message),
        },
        PortalCommand::Answer(answer) => {
            let plan = Plan::Answer {
                hangup_after: answer.hangup_after,
            };
            (answer.settings, Some(plan), answer.audio.media())
        }
        PortalCommand::DemoSwitch(demo) => return run_demo(demo, env_password).await,
    };
    let mut settings = match args.settings(env_password) {
        Ok(settings) => settings,
        Err(message) => return usage(&message),
    };
    settings.call_log = match args.call_log() {
        Ok(log) => log,
        Err(message) => return usage(&message),
    };
    let mut media = media;
    media.capture = match super::open_capture(args.capture.as_deref()) {
        Ok(capture) => capture,
        Err(message) => return usage(&message),
    };
    settings.capture = media.capture.clone();
    for warning in settings.warnings() {
        eprintln!("warning: {warning}");
    }
    println!(
        "portal {} via WAN {}{} on {}: starting",
        settings.user,
        settings.wan,
        settings
            .lan
            .as_ref()
            .map(|lan| format!(", LAN {lan}"))
            .unwrap_or_default(),
        settings.network
    );
    exit_code(&session::run(settings, plan, media).await)
}

async fn run_demo(demo: DemoArgs, env_password: Option<String>) -> ExitCode {
    let mut settings = match demo.settings.settings(env_password) {
        Ok(settings) => settings,
        Err(message) => return usage(&message),
    };
    settings.call_log = match demo.settings.call_log() {
        Ok(log) => log,
        Err(message) => return usage(&message),
    };
    // Kept open for the demo's length: connections wait there unanswered.
    let mut _black_hole = None;
    if demo.lan_unreachable {
        let ip = demo
            .settings
            .bind
            .unwrap_or(IpAddr::V4(std::net::Ipv4Addr::LOCALHOST));
        match tokio::net::TcpListener::bind((ip, 0)).await {
            Ok(listener) => {
                let address = listener.local_addr().ok();
                println!(
                    "LAN server made unreachable: {} accepts connections and never answers",
                    address.map(|a| a.to_string()).unwrap_or_default()
                );
                settings.lan = address
                    .and_then(|a| crate::portal::settings::ServerAddress::parse(&a.to_string()));
                _black_hole = Some(listener);
            }
            Err(error) => return usage(format!("lan-unreachable: {error}")),
        }
    }
    let binds = DemoBinds {
        company: demo.settings.bind,
        home: demo.home_bind,
    };
    let mut media = demo_media(&demo.audio);
    media.capture = match super::open_capture(demo.settings.capture.as_deref()) {
        Ok(capture) => capture,
        Err(message) => return usage(&message),
    };
    settings.capture = media.capture.clone();
    match demo::demo(settings, media, binds, demo.call, AgentTimers::default()).await {
        Ok(_) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("softphone: {message}");
            ExitCode::FAILURE
        }
    }
}

fn no_audio() -> MediaOptions {
    MediaOptions::g711(Box::new(NullBackend))
}

/// The demo's media: no sound device unless an audio option names a file
/// or a device (a demo runs headless).
fn demo_media(audio: &AudioArgs) -> MediaOptions {
    if audio.play.is_some()
        || audio.record.is_some()
        || audio.input.is_some()
        || audio.output.is_some()
    {
        audio.media()
    } else {
        let mut media = no_audio();
        media.advertise = audio.advertise;
        media
    }
}

/// The exit code of how a session ended, with its reason on stderr.
fn exit_code(end: &PortalEnd) -> ExitCode {
    match end {
        PortalEnd::Interrupted | PortalEnd::Call(Outcome::Connected) => ExitCode::SUCCESS,
        PortalEnd::Call(Outcome::Failed(reason)) => {
            println!("call failed: {reason}");
            eprintln!("softphone: call failed: {reason}");
            ExitCode::from(EXIT_CALL_FAILED)
        }
        PortalEnd::Refused(status) => {
            println!("refused: {status}");
            eprintln!("softphone: {status}");
            ExitCode::from(EXIT_DECLINED)
        }
        PortalEnd::AgentGone => ExitCode::FAILURE,
    }
}

#[cfg(test)]
mod tests;
