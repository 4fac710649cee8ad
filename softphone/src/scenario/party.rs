//! The parties of a running scenario: an HFA phone ([`HfaClient`] with
//! media, its [`PhoneModel`] fed by what the gateway sends) or a myPortal
//! to go app ([`PortalAgent`]), each keeping what its user would see and
//! the lines the headless commands would print.
//!
//! Events are taken one at a time ([`Running::next`]), so a step sees
//! every state its party passes through, in order, even ones that did not
//! last.

use std::collections::VecDeque;
use std::net::IpAddr;
use std::path::PathBuf;

use shared::hfa::DeclineCause;
use shared::hfa_engine::phone::{PhoneEvent, PhoneState, PhoneTimers};
use shared::media::StreamStats;
use shared::portal::CallView;
use shared::secret::Secret;
use shared::version::VersionError;
use tokio::sync::mpsc::UnboundedReceiver;

use super::model::{HfaParty, Party, PortalParty};
use crate::audio::NullBackend;
use crate::hfa::account::AccountError;
use crate::hfa::client::MediaHandle;
use crate::hfa::phone_model::{PhoneModel, press_digit, press_feature};
use crate::hfa::{GatewayAddress, HfaAccount, HfaClient};
use crate::media::MediaOptions;
use crate::media::call::MediaReport;
use crate::portal::agent::{AgentCommand, AgentEvent, AgentTimers, PortalAgent};
use crate::portal::trust::FingerprintError;
use crate::portal::{Network, PortalSettings, SettingsError, Status, Trust, VoipFlags};

/// The lines kept per party for reports.
const KEPT_LINES: usize = 40;

/// A party's settings, checked before the first step runs.
#[derive(Debug)]
pub enum Prepared {
    Hfa(HfaAccount),
    Portal {
        settings: PortalSettings,
        company_bind: Option<IpAddr>,
        home_bind: Option<IpAddr>,
    },
}

/// A party whose settings do not make an account.
#[derive(Debug, thiserror::Error)]
#[error("party {party:?}: {error}")]
pub struct PrepareError {
    pub party: String,
    pub error: SettingError,
}

/// The field of a party that is wrong, and why.
#[derive(Debug, thiserror::Error)]
pub enum SettingError {
    /// A `gateway` that is not HOST[:PORT].
    #[error("field gateway: {0}")]
    Gateway(AccountError),
    /// A `password_file` that cannot be read.
    #[error("field password_file: {}: {source}", path.display())]
    PasswordFile {
        path: PathBuf,
        source: std::io::Error,
    },
    /// Neither `password` nor `password_file`.
    #[error("give the field password or password_file")]
    NoPassword,
    /// A number or password the account refuses.
    #[error("field number or password: {0}")]
    Account(AccountError),
    /// A `software_version` that is not one.
    #[error("field software_version: {text:?}: {source}")]
    SoftwareVersion { text: String, source: VersionError },
    /// A `pin` that is not a SHA-256 fingerprint.
    #[error("field pin: {text:?}: {source}")]
    Pin {
        text: String,
        source: FingerprintError,
    },
    /// Neither `pin` nor `ca`.
    #[error("give the field pin or ca")]
    NoTrust,
    /// A user, address or network the app's settings refuse.
    #[error(transparent)]
    Portal(#[from] SettingsError),
}

/// A party that could not start.
#[derive(Debug, thiserror::Error)]
#[error("cannot open the media sockets: {0}")]
pub struct StartError(#[from] std::io::Error);

/// Builds `party`'s account, or says which field is wrong.
pub fn prepare(party: &Party) -> Result<Prepared, PrepareError> {
    let fail = |error| PrepareError {
        party: party.name().to_owned(),
        error,
    };
    match party {
        Party::Hfa(hfa) => prepare_hfa(hfa).map(Prepared::Hfa).map_err(fail),
        Party::Portal(portal) => prepare_portal(portal).map_err(fail),
    }
}

fn password(inline: Option<&String>, file: Option<&PathBuf>) -> Result<Secret, SettingError> {
    match (inline, file) {
        (Some(text), _) => Ok(Secret::new(text.as_str())),
        (None, Some(path)) => std::fs::read_to_string(path)
            .map(|text| Secret::new(text.lines().next().unwrap_or_default()))
            .map_err(|source| SettingError::PasswordFile {
                path: path.clone(),
                source,
            }),
        (None, None) => Err(SettingError::NoPassword),
    }
}

fn prepare_hfa(party: &HfaParty) -> Result<HfaAccount, SettingError> {
    let gateway = GatewayAddress::parse(&party.gateway).map_err(SettingError::Gateway)?;
    let password = password(party.password.as_ref(), party.password_file.as_ref())?;
    let mut account =
        HfaAccount::new(gateway, &party.number, password).map_err(SettingError::Account)?;
    if let Some(kind) = party.phone_type {
        account.phone_id = kind.id();
    }
    if let Some(version) = &party.software_version {
        account.software_version =
            version
                .parse()
                .map_err(|source| SettingError::SoftwareVersion {
                    text: version.clone(),
                    source,
                })?;
    }
    account.bind_address = party.bind;
    Ok(account)
}

fn prepare_portal(party: &PortalParty) -> Result<Prepared, SettingError> {
    let password = password(party.password.as_ref(), party.password_file.as_ref())?;
    let trust = match (&party.pin, &party.ca) {
        (Some(pin), _) => Trust::Pin(pin.parse().map_err(|source| SettingError::Pin {
            text: pin.clone(),
            source,
        })?),
        (None, Some(ca)) => Trust::Ca(ca.clone()),
        (None, None) => return Err(SettingError::NoTrust),
    };
    let mut settings = PortalSettings::new(
        &party.user,
        password,
        &party.wan,
        party.lan.as_deref(),
        party.network,
        trust,
    )?;
    settings.flags = VoipFlags {
        voip: true,
        remote_wifi: party.remote_wifi_voip,
    };
    settings.bind = match party.network {
        Network::CompanyWifi => party.bind,
        Network::RemoteWifi | Network::Mobile => party.home_bind.or(party.bind),
    };
    Ok(Prepared::Portal {
        settings,
        company_bind: party.bind,
        home_bind: party.home_bind.or(party.bind),
    })
}

/// A started party.
#[derive(Debug)]
pub enum Running {
    Hfa(HfaRun),
    Portal(PortalRun),
}

/// A running HFA phone and what it shows.
#[derive(Debug)]
pub struct HfaRun {
    client: HfaClient,
    events: UnboundedReceiver<PhoneEvent>,
    media: MediaHandle,
    pub model: PhoneModel,
    pub registered: bool,
    pub declined: Option<DeclineCause>,
    /// The last registration event's line ("connection lost: ...").
    pub last_event: Option<String>,
    pub quality: Option<StreamStats>,
    pub lines: VecDeque<String>,
}

/// A running app and what it shows.
#[derive(Debug)]
pub struct PortalRun {
    agent: PortalAgent,
    events: UnboundedReceiver<AgentEvent>,
    pub status: Option<Status>,
    pub call: Option<CallView>,
    pub quality: Option<StreamStats>,
    pub flags: VoipFlags,
    pub company_bind: Option<IpAddr>,
    pub home_bind: Option<IpAddr>,
    pub lines: VecDeque<String>,
}

/// The media of a scenario's party: G.711, silence sent, nothing played
/// (quality figures come from the packets, not the sound).
fn silent_media() -> MediaOptions {
    MediaOptions::g711(Box::new(NullBackend))
}

impl Running {
    /// Starts the party: registration begins at once.
    pub async fn start(prepared: Prepared) -> Result<Self, StartError> {
        match prepared {
            Prepared::Hfa(account) => {
                let (client, events, media) =
                    HfaClient::spawn_with_media(account, PhoneTimers::default(), silent_media())
                        .await?;
                Ok(Self::Hfa(HfaRun {
                    client,
                    events,
                    media,
                    model: PhoneModel::new(),
                    registered: false,
                    declined: None,
                    last_event: None,
                    quality: None,
                    lines: VecDeque::new(),
                }))
            }
            Prepared::Portal {
                settings,
                company_bind,
                home_bind,
            } => {
                let flags = settings.flags;
                let (agent, events) =
                    PortalAgent::spawn(settings, silent_media(), AgentTimers::default()).await?;
                Ok(Self::Portal(PortalRun {
                    agent,
                    events,
                    status: None,
                    call: None,
                    quality: None,
                    flags,
                    company_bind,
                    home_bind,
                    lines: VecDeque::new(),
                }))
            }
        }
    }

    /// Takes the party's next event and applies it; its line, or `None`
    /// once the party has stopped.
    pub async fn next(&mut self) -> Option<String> {
        let line = match self {
            Self::Hfa(run) => run.next().await?,
            Self::Portal(run) => run.next().await?,
        };
        let lines = self.lines_mut();
        if lines.len() == KEPT_LINES {
            lines.pop_front();
        }
        lines.push_back(line.clone());
        Some(line)
    }

    fn lines_mut(&mut self) -> &mut VecDeque<String> {
        match self {
            Self::Hfa(run) => &mut run.lines,
            Self::Portal(run) => &mut run.lines,
        }
    }

    /// The last figures of the call's media.
    pub fn quality(&self) -> Option<&StreamStats> {
        match self {
            Self::Hfa(run) => run.quality.as_ref(),
            Self::Portal(run) => run.quality.as_ref(),
        }
    }

    /// Closes the connection (logs out) and waits for the party's task.
    pub async fn stop(self) {
        match self {
            Self::Hfa(run) => run.client.stop().await,
            Self::Portal(run) => run.agent.stop().await,
        }
    }
}

impl HfaRun {
    async fn next(&mut self) -> Option<String> {
        loop {
            let line = tokio::select! {
                event = self.events.recv() => self.apply(event?),
                Some(report) = self.media.reports.recv() => Some(self.report(report)),
            };
            if line.is_some() {
                return line;
            }
        }
    }

    fn apply(&mut self, event: PhoneEvent) -> Option<String> {
        match &event {
            PhoneEvent::Received(message) => {
                let changes = self.model.apply(message);
                let lines: Vec<String> = changes.iter().map(ToString::to_string).collect();
                return (!lines.is_empty()).then(|| lines.join("; "));
            }
            PhoneEvent::Registered { .. } => self.registered = true,
            PhoneEvent::StateChanged(PhoneState::Declined { cause }) => {
                self.registered = false;
                self.declined = Some(*cause);
            }
            PhoneEvent::StateChanged(_) | PhoneEvent::ConnectionLost(_) => {
                self.registered = false;
            }
            _ => {}
        }
        let line = crate::hfa::session::describe(&event);
        if line.is_some() {
            self.last_event.clone_from(&line);
        }
        line
    }

    fn report(&mut self, report: MediaReport) -> String {
        if let MediaReport::Quality(stats) | MediaReport::Stopped(stats) = &report {
            self.quality = Some(stats.clone());
        }
        report.to_string()
    }

    /// Sends the key presses of `digits`.
    pub fn keys(&self, digits: &str) {
        for message in digits.chars().filter_map(press_digit) {
            self.client.send(message);
        }
    }

    /// The function key labelled `label`, if the gateway labelled one.
    pub fn key_labelled(&self, label: &str) -> Option<u8> {
        (1..=20).find(|fpk| self.model.label(*fpk) == Some(label))
    }

    /// Presses function key `fpk`.
    pub fn press_key(&self, fpk: u8) {
        if let Some(message) = press_feature(fpk) {
            self.client.send(message);
        }
    }

    pub fn off_hook(&mut self) {
        let message = self.model.off_hook();
        self.client.send(message);
    }

    pub fn on_hook(&mut self) {
        let message = self.model.on_hook();
        self.client.send(message);
    }

    /// Sends `digits` in the call's media (RFC 4733).
    pub fn dtmf(&self, digits: &str) {
        for digit in digits.chars() {
            self.client.send_dtmf(digit);
        }
    }
}

impl PortalRun {
    async fn next(&mut self) -> Option<String> {
        let event = self.events.recv().await?;
        match &event {
            AgentEvent::Status(change) => self.status = Some(change.status.clone()),
            AgentEvent::Call(view) => self.call = Some(view.clone()),
            AgentEvent::Media(MediaReport::Quality(stats) | MediaReport::Stopped(stats)) => {
                self.quality = Some(stats.clone());
            }
            _ => {}
        }
        Some(crate::portal::lines::describe(&event))
    }

    pub fn send(&self, command: AgentCommand) {
        self.agent.send(command);
    }
}
