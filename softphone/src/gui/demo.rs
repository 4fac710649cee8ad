//! `make run`: the demo office in this process. The gateway runs the
//! built-in configuration of `gateway run` (same data directory, so the
//! same generated passwords); this app registers as 201 Anna "at home"
//! (from 127.0.1.10, outside the demo's company LAN, so through the SBC);
//! and 202 Ben is a virtual party on the company LAN that answers every
//! call with speech and calls 201 on request ("Call me").
//!
//! The myPortal to go personality is 210 Dan, with the gateway's HTTPS
//! port as its LAN server and the company router's port forward
//! ([`PortForward`]) on the office's "public" address as its WAN server;
//! this PC is 127.0.0.10 in the company WiFi and 127.0.1.10 elsewhere.

use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};

use gateway::config::{ConfigError, ConfigErrors, data_dir, embedded};
use gateway::gateway::{Gateway, StartError, StartOptions};
use shared::hfa_engine::phone::{PhoneEvent, PhoneTimers};
use tokio::sync::mpsc;

use super::app::AppOptions;
use super::demo_router::PortForward;
use super::path::probe::GatewayProbe;
use super::settings::{
    AccountSettings, Personality, PhoneType, PortalAccount, Profile, ProfileError,
};
use crate::audio::{AudioBackend, WavBackend};
use crate::hfa::press_digit;
use crate::hfa::{
    AccountError, Change, GatewayAddress, HfaAccount, HfaClient, Hook, PhoneModel, ToneKind,
};
use crate::media::MediaOptions;
use crate::portal::Network;

/// Where the app connects from: a loopback address outside the demo
/// office's company LAN (127.0.0.0/24), i.e. "over the internet".
pub const HOME_IP: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 1, 10));

/// This PC in the demo's company WiFi (inside 127.0.0.0/24).
pub const COMPANY_IP: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 10));

/// The demo office's public address, where its router forwards 8802.
pub const PUBLIC_IP: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 2, 1));

/// The app's number in the demo, and the virtual party's.
pub const USER: &str = "201";
pub const PARTY: &str = "202";
/// The app's number as myPortal to go.
pub const PORTAL_USER: &str = "210";

/// Why the demo did not start.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    /// No data directory for the demo office.
    #[error("no data directory for the demo office: {0}")]
    DataDir(#[from] ConfigError),
    /// The built-in office configuration did not load.
    #[error("the demo office's configuration: {0}")]
    Config(#[from] ConfigErrors),
    /// A demo number has no password in the office.
    #[error("the demo office has no password for {0}")]
    NoPassword(&'static str),
    /// The company router's port forward did not start.
    #[error("the demo's port forward on {address} cannot listen: {source}")]
    Forward {
        address: std::net::SocketAddr,
        source: std::io::Error,
    },
    /// The gateway did not start (its ports are taken, most often).
    #[error("the demo gateway cannot listen on {address} (is `gateway run` running?): {source}")]
    Gateway {
        address: std::net::SocketAddr,
        source: Box<StartError>,
    },
    /// The demo profile could not be written.
    #[error(transparent)]
    Profile(#[from] ProfileError),
    /// The virtual party's account is not valid.
    #[error("the virtual party's account: {0}")]
    Account(#[from] AccountError),
    /// The virtual party's speech could not be written.
    #[error("the virtual party's speech file: {0}")]
    Speech(#[from] hound::Error),
    /// The virtual party could not connect.
    #[error("the virtual party cannot connect: {0}")]
    Party(#[from] std::io::Error),
}

/// The running demo: the gateway and the virtual party.
pub struct Demo {
    /// Runs while the demo lives (its tasks are on the app's runtime).
    gateway: Gateway,
    /// The WAN server of myPortal to go.
    _forward: PortForward,
    profile: Profile,
    party: Party,
    /// Where the gateway's HFA server listens.
    hfa: std::net::SocketAddr,
    /// The model's RTP port range (the company router forwards it 1:1).
    rtp_ports: gateway::config::RtpRange,
    /// myPortal to go's servers: the gateway's HTTPS port, and the port
    /// forward to it.
    lan: std::net::SocketAddr,
    wan: std::net::SocketAddr,
}

/// A virtual party: a phone with no one at it that answers every call
/// and calls when told.
pub(crate) struct Party {
    commands: mpsc::UnboundedSender<String>,
}

impl Party {
    /// Dials `number`.
    pub(crate) fn call(&self, number: &str) {
        let _ = self.commands.send(number.to_owned());
    }
}

impl Demo {
    /// Starts the gateway and the virtual party, and prepares the demo
    /// profile (201's account and password) for the app.
    pub async fn start() -> Result<Self, DemoError> {
        let data_dir = data_dir::default_data_dir()?;
        let config = embedded::load(&data_dir)?.config;
        let password = |number: &'static str| {
            config
                .client(number)
                .and_then(|client| client.password.clone())
                .ok_or(DemoError::NoPassword(number))
        };
        let (user_password, party_password) = (password(USER)?, password(PARTY)?);
        let portal_password = password(PORTAL_USER)?;
        let hfa = config.hfa_addr();
        let rtp_ports = config.rtp_ports();
        let lan = config.https_addr();
        let options = StartOptions {
            portal_listen: Some(lan),
            ..StartOptions::default()
        };
        let gateway =
            Gateway::start(config, options)
                .await
                .map_err(|source| DemoError::Gateway {
                    address: hfa,
                    source: Box::new(source),
                })?;
        let public = std::net::SocketAddr::new(PUBLIC_IP, lan.port());
        let forward =
            PortForward::start(public, lan)
                .await
                .map_err(|source| DemoError::Forward {
                    address: public,
                    source,
                })?;
        let profile = Profile::named("demo")?;
        let mut settings = profile.load().unwrap_or_default();
        settings.account = Some(AccountSettings {
            gateway_host: hfa.ip().to_string(),
            gateway_port: hfa.port(),
            number: USER.to_owned(),
            phone_type: PhoneType::OpenStage60,
        });
        // The network the user last chose is kept.
        let network = settings
            .portal
            .as_ref()
            .map_or(Network::CompanyWifi, |account| account.network);
        settings.portal = Some(PortalAccount {
            user: PORTAL_USER.to_owned(),
            wan: forward.address().to_string(),
            lan: Some(lan.to_string()),
            voip: true,
            remote_wifi: false,
            network,
            company_bind: Some(COMPANY_IP),
            remote_bind: Some(HOME_IP),
            // The command line's store: what one accepts, the other trusts.
            known_gateways: None,
        });
        profile.save(&settings)?;
        profile.save_password(&user_password)?;
        profile.save_uc_password(&portal_password)?;
        let speech = write_speech(&data_dir)?;
        let gateway_address = GatewayAddress {
            host: hfa.ip().to_string(),
            port: hfa.port(),
        };
        let account = HfaAccount::new(gateway_address, PARTY, party_password)?;
        let speech = WavBackend::playing(speech);
        let party = Party::start(account, Box::new(speech)).await?;
        Ok(Self {
            gateway,
            rtp_ports,
            wan: forward.address(),
            _forward: forward,
            lan,
            profile,
            party,
            hfa,
        })
    }

    /// How the app runs in the demo: the demo profile, from "home".
    pub fn app_options(&self, audio_devices: bool, dial: Option<String>) -> AppOptions {
        AppOptions {
            profile: self.profile.clone(),
            audio_devices,
            timers: PhoneTimers::default(),
            bind: Some(HOME_IP),
            dial,
            list_devices: crate::audio::list_devices,
            notifications: true,
        }
    }

    /// The one command that calls into the demo without the window: a
    /// headless 201 "at home" calling 202.
    pub fn headless_command(&self) -> String {
        format!(
            "cargo run --bin softphone -- hfa call {PARTY} --gateway {} --number {USER} \
             --password-file {} --bind {HOME_IP}",
            self.hfa,
            self.profile.password_path().display()
        )
    }

    /// The gateway's side of the path view: its HFA and HTTPS ports, RTP
    /// range, SBC.
    pub fn gateway_probe(&self) -> GatewayProbe {
        GatewayProbe::new(
            self.gateway.sbc_shared(),
            self.hfa.port(),
            Some(self.lan.port()),
            (self.rtp_ports.first, self.rtp_ports.last),
        )
    }

    /// The network walk of myPortal to go without the window: 210 through
    /// the same LAN and WAN servers, carrying a call to the echo test.
    pub fn headless_portal_command(&self) -> String {
        format!(
            "cargo run --bin softphone -- portal demo-switch --user {PORTAL_USER} --wan {} \
             --lan {} --password-file {} --bind {COMPANY_IP} --home-bind {HOME_IP} --call '*98'",
            self.wan,
            self.lan,
            self.profile.uc_password_path().display()
        )
    }

    /// 202 calls the user as `personality`.
    pub fn call_me(&self, personality: Personality) {
        self.party.call(match personality {
            Personality::Hfa => USER,
            Personality::Portal => PORTAL_USER,
        });
    }
}

/// The virtual party's voice: the gateway's recorded announcement, as a
/// WAV file in the data directory.
fn write_speech(data_dir: &Path) -> Result<PathBuf, hound::Error> {
    let path = data_dir.join("virtual-party-speech.wav");
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 8000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut writer = hound::WavWriter::create(&path, spec)?;
    let prompts = gateway::media::announcement::Prompts::load();
    for sample in prompts.for_codec(shared::media::Codec::Pcma).iter() {
        writer.write_sample(*sample)?;
    }
    writer.finalize()?;
    Ok(path)
}

impl Party {
    /// Registers `account` and runs it: it answers whatever rings with
    /// `audio`, hangs up when the other side has (busy tone), and dials
    /// when told.
    pub(crate) async fn start(
        account: HfaAccount,
        audio: Box<dyn AudioBackend>,
    ) -> std::io::Result<Self> {
        let media = MediaOptions::g711(audio);
        let (client, mut events, mut media) =
            HfaClient::spawn_with_media(account, PhoneTimers::default(), media).await?;
        let (commands, mut command_rx) = mpsc::unbounded_channel::<String>();
        tokio::spawn(async move {
            let mut model = PhoneModel::new();
            loop {
                tokio::select! {
                    event = events.recv() => match event {
                        Some(PhoneEvent::Received(message)) => {
                            for change in model.apply(&message) {
                                let message = match change {
                                    Change::Ringer(true) if model.hook() == Hook::OnHook => {
                                        Some(model.off_hook())
                                    }
                                    Change::Tone(Some(ToneKind::Busy | ToneKind::Congestion))
                                        if model.hook() == Hook::OffHook =>
                                    {
                                        Some(model.on_hook())
                                    }
                                    _ => None,
                                };
                                if let Some(message) = message {
                                    client.send(message);
                                }
                            }
                        }
                        Some(_) => {}
                        None => break,
                    },
                    number = command_rx.recv() => match number {
                        Some(number) if model.hook() == Hook::OnHook => {
                            client.send(model.off_hook());
                            for message in number.chars().filter_map(press_digit) {
                                client.send(message);
                            }
                        }
                        Some(_) => {} // busy on a call already
                        None => break,
                    },
                    // The party's media reports are not shown.
                    Some(_) = media.reports.recv() => {}
                }
            }
            client.stop().await;
        });
        Ok(Self { commands })
    }
}
