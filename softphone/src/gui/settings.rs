//! What the desktop app remembers between runs, per profile: the accounts
//! (HFA and myPortal to go) and the user's choices in `settings.toml`, the
//! HFA password and the UC password each alone in a file only the user may
//! read (mode 0600), and the call journal.
//!
//! A profile is a directory: `$XDG_CONFIG_HOME/device-at-home/softphone/
//! <profile>/` (`--profile NAME`, `default` without one), so several
//! accounts run side by side.

use std::io::Write as _;
use std::net::IpAddr;
use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use shared::hfa::PhoneId;
use shared::secret::Secret;

use crate::hfa::account::DEFAULT_HFA_PORT;
use crate::portal::trust::KnownGateways;
use crate::portal::{Network, PortalSettings, SettingsError, Trust, TrustError, VoipFlags};

/// The phone models the account dialog offers (guide section 4: the
/// devices that support System Device@Home).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PhoneType {
    OpenStage40,
    OpenStage60,
    DeskPhoneIp55g,
}

impl PhoneType {
    pub const ALL: [Self; 3] = [Self::OpenStage40, Self::OpenStage60, Self::DeskPhoneIp55g];

    pub fn id(self) -> PhoneId {
        match self {
            Self::OpenStage40 => PhoneId::OPENSTAGE_40,
            Self::OpenStage60 => PhoneId::OPENSTAGE_60,
            Self::DeskPhoneIp55g => PhoneId::DESKPHONE_IP_55,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::OpenStage40 => "OpenStage 40 HFA",
            Self::OpenStage60 => "OpenStage 60 HFA",
            Self::DeskPhoneIp55g => "DeskPhone IP 55G HFA",
        }
    }
}

/// The HFA account as the dialog saved it (the password is kept apart).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountSettings {
    /// The company's public IP address or DNS name (guide 4.1).
    pub gateway_host: String,
    /// The external port the company router forwards to the system's 4060.
    pub gateway_port: u16,
    pub number: String,
    pub phone_type: PhoneType,
}

impl Default for AccountSettings {
    fn default() -> Self {
        Self {
            gateway_host: String::new(),
            gateway_port: DEFAULT_HFA_PORT,
            number: String::new(),
            phone_type: PhoneType::OpenStage60,
        }
    }
}

/// Which phone the app is: an HFA desk phone (guide 4.1) or the
/// myPortal to go VoIP client (guide 4.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Personality {
    #[default]
    Hfa,
    Portal,
}

/// The myPortal to go account as the VoIP settings page saved it (the UC
/// password is kept apart), with the network the device was last on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortalAccount {
    /// The user's call number.
    pub user: String,
    /// "User Account - WAN server IP address / port", `host:port`.
    pub wan: String,
    /// "User Account - LAN server IP address / port", `ip:port`.
    pub lan: Option<String>,
    /// "More - VoIP settings: VoIP".
    pub voip: bool,
    /// "More - VoIP settings: Use VoIP in remote WiFi networks".
    pub remote_wifi: bool,
    pub network: Network,
    /// This PC's address in the company WiFi (`None`: the system's choice).
    pub company_bind: Option<IpAddr>,
    /// This PC's address in a remote WiFi or on mobile data.
    pub remote_bind: Option<IpAddr>,
    /// The known-gateways store of trust on first use (`None`: the command
    /// line's default store).
    pub known_gateways: Option<PathBuf>,
}

impl PortalAccount {
    /// Where the app's sockets bind on `network`.
    pub fn bind_for(&self, network: Network) -> Option<IpAddr> {
        match network {
            Network::CompanyWifi => self.company_bind,
            Network::RemoteWifi | Network::Mobile => self.remote_bind,
        }
    }

    pub fn flags(&self) -> VoipFlags {
        VoipFlags {
            voip: self.voip,
            remote_wifi: self.remote_wifi,
        }
    }

    /// The store trust on first use reads and writes.
    pub fn store_path(&self) -> Result<PathBuf, TrustError> {
        match &self.known_gateways {
            Some(path) => Ok(path.clone()),
            None => KnownGateways::default_path().ok_or(TrustError::NoConfigDir),
        }
    }

    /// The agent's settings on the current network, checked.
    pub fn settings(&self, password: Secret) -> Result<PortalSettings, PortalAccountError> {
        let trust = Trust::Tofu {
            store: self.store_path()?,
            accept: None,
        };
        let mut settings = PortalSettings::new(
            &self.user,
            password,
            &self.wan,
            self.lan.as_deref(),
            self.network,
            trust,
        )?;
        settings.flags = self.flags();
        settings.bind = self.bind_for(self.network);
        Ok(settings)
    }
}

/// Why a saved myPortal to go account cannot run.
#[derive(Debug, thiserror::Error)]
pub enum PortalAccountError {
    /// No place for the known-gateways store.
    #[error(transparent)]
    Trust(#[from] TrustError),
    /// A setting breaks a rule of guide 4.2.
    #[error(transparent)]
    Settings(#[from] SettingsError),
}

/// Light or dark.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Theme {
    Light,
    #[default]
    Dark,
}

/// Everything in `settings.toml`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// `None` until the first-run dialog is completed.
    pub account: Option<AccountSettings>,
    /// Which of the two accounts the app runs.
    pub personality: Personality,
    /// The myPortal to go account, once saved.
    pub portal: Option<PortalAccount>,
    pub theme: Theme,
    /// Microphone by id (`None`: the system's default).
    pub input_device: Option<String>,
    /// Speaker by id (`None`: the system's default).
    pub output_device: Option<String>,
    /// The device that rings by id (`None`: the speaker).
    pub ringing_device: Option<String>,
    /// Speaker volume, percent.
    pub volume: Option<u8>,
    /// The desk phone's firmware release once the system delivered one
    /// (connected internally, guide 1.3.4), registered with from then on;
    /// `None`: the softphone's default release.
    pub hfa_release: Option<String>,
    /// The live views left open (they open again at the next start).
    pub open_views: OpenViews,
}

/// Which live views are open (the View menu).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct OpenViews {
    pub path: bool,
    pub quality: bool,
}

/// Why a profile could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    /// No home or config directory to keep settings in.
    #[error("no configuration directory (set HOME or XDG_CONFIG_HOME)")]
    NoConfigDir,
    /// A profile name that is not a plain directory name.
    #[error("profile {0:?}: use letters, digits, '-' and '_' only")]
    BadName(String),
    /// Reading or writing a file failed.
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// `settings.toml` is not valid.
    #[error("{}: {message}", path.display())]
    Parse { path: PathBuf, message: String },
}

/// One profile's directory.
#[derive(Debug, Clone)]
pub struct Profile {
    dir: PathBuf,
}

const SETTINGS_FILE: &str = "settings.toml";
const PASSWORD_FILE: &str = "hfa-password";
const UC_PASSWORD_FILE: &str = "uc-password";
const JOURNAL_FILE: &str = "journal.toml";

impl Profile {
    /// The profile `name` in the user's config directory.
    pub fn named(name: &str) -> Result<Self, ProfileError> {
        let valid = !name.is_empty()
            && name
                .chars()
                .all(|ch| ch.is_ascii_alphanumeric() || ch == '-' || ch == '_');
        if !valid {
            return Err(ProfileError::BadName(name.to_owned()));
        }
        let base = dirs::config_dir().ok_or(ProfileError::NoConfigDir)?;
        Ok(Self::at(
            base.join("device-at-home").join("softphone").join(name),
        ))
    }

    /// A profile in `dir` (tests, the demo).
    pub fn at(dir: PathBuf) -> Self {
        Self { dir }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file holding the HFA password (mode 0600).
    pub fn password_path(&self) -> PathBuf {
        self.dir.join(PASSWORD_FILE)
    }

    pub fn journal_path(&self) -> PathBuf {
        self.dir.join(JOURNAL_FILE)
    }

    /// The saved settings; the defaults when there are none yet.
    pub fn load(&self) -> Result<Settings, ProfileError> {
        let path = self.dir.join(SETTINGS_FILE);
        match std::fs::read_to_string(&path) {
            Ok(text) => toml::from_str(&text).map_err(|error| ProfileError::Parse {
                path,
                message: error.message().to_owned(),
            }),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(Settings::default()),
            Err(source) => Err(ProfileError::Io { path, source }),
        }
    }

    pub fn save(&self, settings: &Settings) -> Result<(), ProfileError> {
        let text = toml::to_string(settings).map_err(|error| ProfileError::Parse {
            path: self.dir.join(SETTINGS_FILE),
            message: error.to_string(),
        })?;
        self.write(SETTINGS_FILE, &text, 0o600)
    }

    /// The stored HFA password, if any.
    pub fn password(&self) -> Result<Option<Secret>, ProfileError> {
        let path = self.dir.join(PASSWORD_FILE);
        match std::fs::read_to_string(&path) {
            Ok(text) => Ok(Some(Secret::new(text.lines().next().unwrap_or_default()))),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(ProfileError::Io { path, source }),
        }
    }

    /// Stores the HFA password in its own file, readable only by the user.
    pub fn save_password(&self, password: &Secret) -> Result<(), ProfileError> {
        self.write(PASSWORD_FILE, password.expose(), 0o600)
    }

    /// The stored myPortal to go UC password, if any.
    pub fn uc_password(&self) -> Result<Option<Secret>, ProfileError> {
        let path = self.dir.join(UC_PASSWORD_FILE);
        match std::fs::read_to_string(&path) {
            Ok(text) => Ok(Some(Secret::new(text.lines().next().unwrap_or_default()))),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(ProfileError::Io { path, source }),
        }
    }

    /// Stores the UC password as the HFA one: its own file, mode 0600.
    pub fn save_uc_password(&self, password: &Secret) -> Result<(), ProfileError> {
        self.write(UC_PASSWORD_FILE, password.expose(), 0o600)
    }

    pub fn uc_password_path(&self) -> PathBuf {
        self.dir.join(UC_PASSWORD_FILE)
    }

    /// Writes `name` through a temporary file with `mode`, so a crash
    /// never leaves half a file and the content is never readable by others.
    pub(crate) fn write(&self, name: &str, text: &str, mode: u32) -> Result<(), ProfileError> {
        let io = |path: &Path| {
            let path = path.to_owned();
            move |source| ProfileError::Io { path, source }
        };
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&self.dir)
            .map_err(io(&self.dir))?;
        let path = self.dir.join(name);
        let temporary = self.dir.join(format!(".{name}.new"));
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(mode)
            .open(&temporary)
            .map_err(io(&temporary))?;
        // An existing file keeps its old mode on open: set it explicitly.
        file.set_permissions(std::fs::Permissions::from_mode(mode))
            .map_err(io(&temporary))?;
        file.write_all(text.as_bytes()).map_err(io(&temporary))?;
        file.sync_all().map_err(io(&temporary))?;
        std::fs::rename(&temporary, &path).map_err(io(&path))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_round_trip_and_the_password_stays_apart() {
        let dir = tempfile::tempdir().expect("temp dir");
        let profile = Profile::at(dir.path().join("p"));
        assert_eq!(profile.load().expect("defaults"), Settings::default());
        let settings = Settings {
            account: Some(AccountSettings {
                gateway_host: "company.example.com".into(),
                gateway_port: 4070,
                number: "201".into(),
                phone_type: PhoneType::DeskPhoneIp55g,
            }),
            personality: Personality::Portal,
            portal: Some(PortalAccount {
                user: "210".into(),
                wan: "company.example.com:8802".into(),
                lan: Some("10.10.0.2:8802".into()),
                voip: true,
                remote_wifi: false,
                network: Network::RemoteWifi,
                company_bind: None,
                remote_bind: Some("192.168.178.20".parse().expect("ip")),
                known_gateways: None,
            }),
            theme: Theme::Light,
            input_device: Some("alsa:pulse".into()),
            output_device: None,
            ringing_device: Some("alsa:hw:CARD=USB,DEV=0".into()),
            volume: Some(80),
            hfa_release: Some("V3R0.33.1".into()),
            open_views: OpenViews {
                path: true,
                quality: false,
            },
        };
        profile.save(&settings).expect("saved");
        profile
            .save_password(&Secret::new("s3cret!"))
            .expect("password saved");
        profile
            .save_uc_password(&Secret::new("uc-s3cret"))
            .expect("UC password saved");
        assert_eq!(profile.load().expect("loaded"), settings);
        let text = std::fs::read_to_string(dir.path().join("p/settings.toml")).expect("read");
        assert!(!text.contains("s3cret"), "{text}");
        let password = profile.password().expect("read").expect("stored");
        assert_eq!(password.expose(), "s3cret!");
        let mode = std::fs::metadata(dir.path().join("p/hfa-password"))
            .expect("stat")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        assert!(!text.contains("uc-s3cret"), "{text}");
        let uc = profile.uc_password().expect("read").expect("stored");
        assert_eq!(uc.expose(), "uc-s3cret");
        let mode = std::fs::metadata(profile.uc_password_path())
            .expect("stat")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn the_portal_account_binds_per_network_and_names_a_bad_value() {
        let mut account = PortalAccount {
            user: "210".into(),
            wan: "company.example.com:18802".into(),
            lan: Some("10.10.0.2:8802".into()),
            voip: true,
            remote_wifi: true,
            network: Network::Mobile,
            company_bind: Some("10.10.0.77".parse().expect("ip")),
            remote_bind: Some("192.168.178.20".parse().expect("ip")),
            known_gateways: Some("/tmp/known.toml".into()),
        };
        let settings = account.settings(Secret::new("pw")).expect("valid");
        assert_eq!(
            settings.bind, account.remote_bind,
            "mobile data: the remote address"
        );
        assert_eq!(settings.wan.port, 18802);
        assert!(settings.flags.remote_wifi);
        assert_eq!(
            settings.trust,
            Trust::Tofu {
                store: "/tmp/known.toml".into(),
                accept: None
            }
        );
        assert_eq!(account.bind_for(Network::CompanyWifi), account.company_bind);
        assert_eq!(account.bind_for(Network::RemoteWifi), account.remote_bind);
        account.lan = Some("osbiz.local".into());
        let refused = account
            .settings(Secret::new("pw"))
            .expect_err("a name")
            .to_string();
        assert!(refused.starts_with("lan = \"osbiz.local\""), "{refused}");
    }

    #[test]
    fn profile_names_are_plain() {
        assert!(matches!(
            Profile::named("../x"),
            Err(ProfileError::BadName(_))
        ));
        assert!(matches!(Profile::named(""), Err(ProfileError::BadName(_))));
    }
}
