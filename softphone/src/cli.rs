//! The headless command line, for QA scripts and load tests: every line it
//! prints on stdout is one state change, so a script can wait for a line.
//!
//! Exit codes: 0 success (or interrupted while registered), 1 runtime
//! failure, 2 bad arguments or settings, 3 registration declined.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args as ClapArgs, Parser, Subcommand};
use shared::hfa::{MacAddress, PhoneId};
use shared::hfa_engine::phone::{PhoneEvent, PhoneState, PhoneTimers};
use shared::secret::Secret;
use shared::version::SoftwareVersion;

use crate::hfa::{GatewayAddress, HfaAccount, HfaClient};

/// Exit code of a declined registration.
pub const EXIT_DECLINED: u8 = 3;
/// Exit code of unusable arguments or settings.
pub const EXIT_USAGE: u8 = 2;

#[derive(Debug, Parser)]
#[command(
    name = "softphone",
    version,
    about = "Device@Home softphone: OpenStage HFA phone and myPortal to go VoIP client"
)]
pub struct Args {
    /// More log output on stderr (-v info, -vv debug).
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Act as an OpenStage HFA desk phone.
    #[command(subcommand)]
    Hfa(HfaCommand),
}

#[derive(Debug, Subcommand)]
pub enum HfaCommand {
    /// Register and keep the registration alive until interrupted (Ctrl-C).
    Register(AccountArgs),
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
    /// Phone model reported to the system.
    #[arg(long, value_enum, default_value = "openstage60")]
    pub phone_type: PhoneType,
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
}

/// Phone models (HFA phone ids).
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum PhoneType {
    Openstage20,
    Openstage40,
    Openstage60,
    Openstage80,
    DeskphoneIp55,
}

impl PhoneType {
    fn id(self) -> PhoneId {
        match self {
            Self::Openstage20 => PhoneId::OPENSTAGE_20,
            Self::Openstage40 => PhoneId::OPENSTAGE_40,
            Self::Openstage60 => PhoneId::OPENSTAGE_60,
            Self::Openstage80 => PhoneId::OPENSTAGE_80,
            Self::DeskphoneIp55 => PhoneId::DESKPHONE_IP_55,
        }
    }
}

fn parse_mac(text: &str) -> Result<MacAddress, String> {
    let bytes: Vec<u8> = text
        .split([':', '-'])
        .map(|part| u8::from_str_radix(part, 16))
        .collect::<Result<_, _>>()
        .map_err(|_| format!("{text:?} is not a MAC address like 02:1a:00:00:02:01"))?;
    let bytes: [u8; 6] = bytes
        .try_into()
        .map_err(|_| format!("{text:?} does not have 6 bytes"))?;
    Ok(MacAddress(bytes))
}

impl AccountArgs {
    /// The account, or a message naming the setting that is wrong.
    pub fn account(&self) -> Result<HfaAccount, String> {
        let gateway = GatewayAddress::parse(&self.gateway).map_err(|e| e.to_string())?;
        let text = std::fs::read_to_string(&self.password_file)
            .map_err(|e| format!("password-file {}: {e}", self.password_file.display()))?;
        let password = Secret::new(text.lines().next().unwrap_or_default());
        let mut account =
            HfaAccount::new(gateway, &self.number, password).map_err(|e| e.to_string())?;
        account.phone_id = self.phone_type.id();
        if let Some(version) = self.software_version {
            account.software_version = version;
        }
        if let Some(mac) = self.mac {
            account.mac = mac;
        }
        account.dls_address = self.dls.clone();
        account.bind_address = self.bind;
        Ok(account)
    }

    pub fn timers(&self) -> PhoneTimers {
        PhoneTimers {
            alive_interval: Duration::from_secs(self.alive_interval.max(1)),
            ..PhoneTimers::default()
        }
    }
}

pub fn init_logging(verbose: u8) {
    let level = match verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}

pub async fn run(args: Args) -> ExitCode {
    match args.command {
        Command::Hfa(HfaCommand::Register(account)) => register(&account).await,
    }
}

async fn register(args: &AccountArgs) -> ExitCode {
    let account = match args.account() {
        Ok(account) => account,
        Err(message) => {
            eprintln!("softphone: {message}");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    for warning in account.warnings() {
        eprintln!("warning: {warning}");
    }
    println!("hfa {} at {}: starting", account.number, account.gateway);
    let (client, mut events) = HfaClient::spawn(account, args.timers());
    loop {
        tokio::select! {
            event = events.recv() => match event {
                Some(event) => {
                    if let Some(line) = describe(&event) {
                        println!("{line}");
                    }
                    if let PhoneEvent::StateChanged(PhoneState::Declined { cause }) = event {
                        eprintln!("softphone: registration declined: {}", cause.describe());
                        client.stop().await;
                        return ExitCode::from(EXIT_DECLINED);
                    }
                }
                None => return ExitCode::FAILURE,
            },
            _ = tokio::signal::ctrl_c() => {
                println!("interrupted: closing the connection");
                client.stop().await;
                return ExitCode::SUCCESS;
            }
        }
    }
}

/// One line per event a QA script may wait for.
fn describe(event: &PhoneEvent) -> Option<String> {
    match event {
        PhoneEvent::StateChanged(state) => Some(format!("state: {state}")),
        PhoneEvent::Registered { session, system } => Some(format!(
            "registered: session {} with {:?} V{}R{}",
            session.0, system.system, system.major, system.minor
        )),
        PhoneEvent::ConnectionLost(loss) => Some(format!("connection lost: {loss}")),
        PhoneEvent::Received(message) => Some(format!("received: {message:?}")),
        PhoneEvent::Connect | PhoneEvent::Disconnect => None,
    }
}
