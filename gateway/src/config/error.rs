//! Why a configuration is refused.
//!
//! Each message names the field (`network.hfa_port`, `clients[2].number`,
//! `client 203 (Anna).password`), the offending value (never a password),
//! the rule and the section of the vendor guide it comes from, so that an
//! administrator can fix the file without reading this code.

use std::fmt;
use std::io;
use std::path::PathBuf;

use shared::version::{SoftwareVersion, VersionError};

use super::calls::InternetCalls;
use super::net::HostError;
use super::numbering::NumberError;
use super::password::{RULE, Weakness};
use super::system::{LanInterface, RtpRange, SystemModel};

/// One reason the configuration cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The configuration file could not be read.
    #[error("{}: cannot read the configuration: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// What the OS said.
        source: io::Error,
    },
    /// A file of the configuration layer (example config, default
    /// passwords) could not be written.
    #[error("{}: cannot write: {source}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// What the OS said.
        source: io::Error,
    },
    /// `init` would overwrite an existing file.
    #[error("{}: already exists; pass --force to overwrite it", path.display())]
    AlreadyExists {
        /// The file.
        path: PathBuf,
    },
    /// No data directory is configured and the environment names none.
    #[error(
        "system.data_dir is not set and neither $XDG_DATA_HOME nor $HOME is set to an absolute \
         path: set system.data_dir"
    )]
    NoDataDir,
    /// The TOML is malformed or does not fit the schema: syntax error,
    /// unknown or missing field, wrong type or unknown value.
    #[error("{origin}: line {line}, column {column}: {message}")]
    Parse {
        /// The file name, or what the text is (e.g. "embedded default").
        origin: String,
        /// 1-based line of the error.
        line: usize,
        /// 1-based column (in characters) of the error.
        column: usize,
        /// The TOML parser's message, which names an unknown field.
        message: String,
    },
    /// Device@Home on another interface than LAN2.
    #[error(
        "system.lan_interface = \"{0}\": Device@Home is only supported on the LAN2 interface, \
         behind an internet router (scenario 1); LAN1 (WAN) is not supported (guide 1.3.1, 2.1)"
    )]
    UnsupportedInterface(LanInterface),
    /// An ITSP trunk on another interface than Device@Home.
    #[error(
        "itsp[{index}] ({name}).interface = \"{interface}\": ITSP trunks and Device@Home must \
         use the same LAN interface, here system.lan_interface = \"{system}\" (guide 1.3.1)"
    )]
    ItspInterfaceMismatch {
        /// Position in `[[itsp]]`.
        index: usize,
        /// The trunk's name.
        name: String,
        /// The trunk's interface.
        interface: LanInterface,
        /// Device@Home's interface.
        system: LanInterface,
    },
    /// A booster with model S, which is software on a server.
    #[error(
        "system.booster = true: a booster card/server exists only for the X1/X3/X5/X8 models, \
         not for model S (guide 1.3.5)"
    )]
    BoosterOnS,
    /// A port set to 0.
    #[error("{field} = 0: a port must be from 1 to 65535 (guide 2.5)")]
    PortZero {
        /// The field path.
        field: &'static str,
    },
    /// HFA and HTTPS on the same TCP port.
    #[error(
        "network.https_port = {port}: same TCP port as network.hfa_port; HFA and HTTPS need \
         separate ports (guide 2.5.1)"
    )]
    PortClash {
        /// The port used twice.
        port: u16,
    },
    /// An RTP range whose last port is below its first.
    #[error("network.rtp_ports = {0}: the last port is below the first (guide 2.5.2)")]
    RtpRangeReversed(RtpRange),
    /// An RTP range starting on an odd port.
    #[error(
        "network.rtp_ports.first = {}: must be even, RTP uses the even port and RTCP the next \
         odd one (guide 2.5.2)", .0.first
    )]
    RtpRangeOddStart(RtpRange),
    /// An RTP range too small for the model's RTP proxy channels.
    #[error(
        "network.rtp_ports = {range}: holds {} ports, but the {channels} RTP proxy channels of \
         model {model} need {} (2 per channel: RTP + RTCP) (guide 1.3.5, 2.5.2)",
        range.len(), channels * 2
    )]
    RtpRangeTooSmall {
        /// The configured range.
        range: RtpRange,
        /// The model.
        model: SystemModel,
        /// Its RTP proxy channels.
        channels: u32,
    },
    /// No internet call possible although a client registers over the internet.
    #[error(
        "{calls}: client(s) {} are enabled for internet registration, but with 0 simultaneous \
         internet calls no Device@Home call can be made; set a value bigger than zero \
         (guide 2.3)", internet_clients.join(", ")
    )]
    NoInternetCalls {
        /// The setting that gave 0.
        calls: InternetCalls,
        /// Numbers of the internet-enabled clients.
        internet_clients: Vec<String>,
    },
    /// A certificate without its key, or a key without its certificate.
    #[error(
        "{given} is set but {missing} is not: give both PEM files (certificate and private \
         key), or neither for a self-signed certificate generated by the gateway (guide 1.3.3)"
    )]
    PortalIdentityHalf {
        /// The field given.
        given: &'static str,
        /// The field missing.
        missing: &'static str,
    },
    /// The portal's certificate or key cannot be used.
    #[error("{field} = \"{}\": {reason}", path.display())]
    PortalIdentity {
        /// The field path.
        field: &'static str,
        /// The file named there.
        path: PathBuf,
        /// What is wrong with it.
        reason: super::portal::IdentityError,
    },
    /// A minimum version that does not parse.
    #[error("{field} = \"{value}\": {source} (guide 4)")]
    InvalidVersion {
        /// The field path.
        field: &'static str,
        /// The text written.
        value: String,
        /// Why it does not parse.
        source: VersionError,
    },
    /// A minimum version below the guide's.
    #[error(
        "{field} = \"{value}\": below the guide's minimum {minimum}; minimum versions may be \
         raised, never lowered (guide 4)"
    )]
    VersionBelowGuide {
        /// The field path.
        field: &'static str,
        /// The configured minimum.
        value: SoftwareVersion,
        /// The guide's minimum.
        minimum: SoftwareVersion,
    },
    /// No company LAN prefix.
    #[error(
        "network.company_lan = []: at least one company LAN prefix is needed to tell a \
         registration from the LAN from one over the internet (guide 1.1)"
    )]
    NoCompanyLan,
    /// A public address that is neither an IP address nor a DNS name.
    #[error(
        "network.public_address = \"{value}\": not an IP address nor a valid DNS name: {reason} \
         (guide 3.2, 4.1)"
    )]
    InvalidPublicAddress {
        /// The text written.
        value: String,
        /// What is wrong with it.
        reason: HostError,
    },
    /// Neither a public address nor a STUN server to detect it.
    #[error(
        "network.public_address is not set and there is no STUN server to detect it (stun.server, \
         or an ITSP's stun_server with stun_enabled = true){}: set one of them (guide 2.4, 3.2, 4.1)",
        if internet_clients.is_empty() { String::new() } else {
            format!("; client(s) {} registering over the internet could not be reached", internet_clients.join(", "))
        }
    )]
    NoPublicAddressSource {
        /// Numbers of the internet-enabled clients.
        internet_clients: Vec<String>,
    },
    /// A STUN server that is not `host[:port]`.
    #[error("{field} = \"{value}\": not a STUN server host[:port]: {reason} (guide 2.4)")]
    InvalidStunServer {
        /// The field path.
        field: String,
        /// The text written.
        value: String,
        /// What is wrong with it.
        reason: HostError,
    },
    /// A dialing prefix that is empty or not digits.
    #[error("{field} = \"{value}\": a prefix is one or more digits (guide 2.2)")]
    InvalidPrefix {
        /// The field path.
        field: String,
        /// The text written.
        value: String,
    },
    /// A country code that is not 1 to 3 digits.
    #[error(
        "dialing.country_code = \"{value}\": a country code is 1 to 3 digits, without \"+\" or \
         \"00\" and not beginning with 0 (\"49\" Germany, \"43\" Austria, \"41\" Switzerland); \
         premium and international numbers are recognised by it (guide 2.2)"
    )]
    InvalidCountryCode {
        /// The text written.
        value: String,
    },
    /// Premium-rate prefixes without the country they belong to.
    #[error(
        "dialing.premium_prefixes = {value} is set but dialing.country_code is not: without the \
         system's own country code a premium number dialled in international format (00, the \
         country code, then the number) is not recognised and connects; set \
         dialing.country_code (\"49\" for Germany). {COS_RULE} (guide 2.2)"
    )]
    PremiumWithoutCountryCode {
        /// The prefixes written, as a TOML list.
        value: String,
    },
    /// Another country with the built-in (German) premium-rate prefixes.
    #[error(
        "dialing.country_code = \"{value}\": dialing.premium_prefixes is not set, and its \
         defaults {defaults} are Germany's (+49); list the premium-rate prefixes of +{value} \
         there (or [] if there are none). {COS_RULE} (guide 2.2)"
    )]
    PremiumPrefixesOfAnotherCountry {
        /// The country code written.
        value: String,
        /// The built-in prefixes, as a TOML list.
        defaults: String,
    },
    /// A premium-rate prefix that is no number range.
    #[error("{field} = \"{value}\": not a number range: {reason}. {COS_RULE} (guide 2.2)")]
    InvalidPremiumPrefix {
        /// The field path.
        field: String,
        /// The text written.
        value: String,
        /// Why it is no number.
        reason: NumberError,
    },
    /// An IRSF prefix not in E.164 form.
    #[error(
        "{field} = \"{value}\": an IRSF prefix is written in E.164 form, \"+\", the country code \
         and further digits, 15 at most, e.g. \"+8816\". {COS_RULE} (guide 2.2)"
    )]
    InvalidIrsfPrefix {
        /// The field path.
        field: String,
        /// The text written.
        value: String,
    },
    /// A codec preference without G.711.
    #[error(
        "media.codec_preference = {value}: must include \"pcma\" or \"pcmu\"; every device offers \
         G.711 and myPortal to go VoIP supports only G.711 (guide 1.3.3)"
    )]
    NoG711 {
        /// The list written.
        value: String,
    },
    /// A number outside the range the system accepts.
    #[error("{field} = {value}: must be between {min} and {max}")]
    OutOfRange {
        /// The field path.
        field: String,
        /// The number written.
        value: u32,
        /// Smallest accepted.
        min: u32,
        /// Largest accepted.
        max: u32,
    },
    /// A service code that is empty or not digits and `*`.
    #[error("{field} = \"{value}\": a service code is one or more digits or * (guide 2.2)")]
    InvalidServiceCode {
        /// The field path.
        field: String,
        /// The text written.
        value: String,
    },
    /// Two numbers of which one begins with the other.
    #[error(
        "{field} = \"{value}\" overlaps {other_field} = \"{other}\": one begins with the other, so the \
         system could not tell when a dialled number is complete; give them different first digits"
    )]
    NumberingConflict {
        /// The field path of the first number.
        field: String,
        /// The first number.
        value: String,
        /// The field path of the second number.
        other_field: String,
        /// The second number.
        other: String,
    },
    /// A client number that is empty or not digits.
    #[error(
        "clients[{index}].number = \"{value}\": a call number is one or more digits (guide 4.1)"
    )]
    InvalidClientNumber {
        /// Position in `[[clients]]`.
        index: usize,
        /// The text written.
        value: String,
    },
    /// Two clients with one number.
    #[error(
        "clients[{index}].number = \"{number}\": already used by clients[{first_index}]; call \
         numbers are unique (guide 4.1)"
    )]
    DuplicateClientNumber {
        /// Position of the second use.
        index: usize,
        /// The number.
        number: String,
        /// Position of the first use.
        first_index: usize,
    },
    /// A client without a name.
    #[error("clients[{index}].name is empty: every client needs a name (guide 2.2)")]
    EmptyClientName {
        /// Position in `[[clients]]`.
        index: usize,
    },
    /// myPortal to go VoIP for a Deskshare user.
    #[error(
        "{client}.deskshare = true: myPortal to go VoIP is not released in combination with \
         Deskshare users (guide 1.3.3)"
    )]
    DeskshareMyPortal {
        /// The client, `client 210 (Dan)`.
        client: String,
    },
    /// A SIP client enabled for internet registration: nothing serves SIP
    /// Device@Home yet, so such a client could never register.
    #[error(
        "{client}.internet_registration = true: SIP Device@Home (guide 1.3.5) is not served \
         by this system yet; only HFA phones and myPortal to go register from the internet. \
         Set internet_registration = false for this SIP client"
    )]
    InternetSipNotServed {
        /// The client.
        client: String,
    },
    /// Internet registration without an IP user license.
    #[error(
        "{client}.ip_user_license = false: a client enabled for internet registration needs an \
         IP user license (guide 1.2.1)"
    )]
    InternetWithoutLicense {
        /// The client.
        client: String,
    },
    /// Authentication off while some client registers over the internet.
    #[error(
        "{client}.authentication = false: as soon as one client is enabled for internet \
         registration (here {}), Authentication must be on for ALL clients, internal or \
         external (guide 1.2.1, 2.2)", internet_clients.join(", ")
    )]
    AuthenticationOff {
        /// The client.
        client: String,
        /// Numbers of the internet-enabled clients.
        internet_clients: Vec<String>,
    },
    /// No password where one is needed.
    #[error(
        "{client}.password is not set: a client with Authentication on needs a password, and \
         as soon as one client is enabled for internet registration every client needs a \
         strong, individual one (guide 2.2)"
    )]
    PasswordMissing {
        /// The client.
        client: String,
    },
    /// A password that is not strong while some client registers over the internet.
    #[error(
        "{client}.password is not strong: {}; {RULE}, and one is required for ALL clients as \
         soon as one is enabled for internet registration (guide 1.2.1, 2.2)",
        join(weaknesses)
    )]
    WeakPassword {
        /// The client.
        client: String,
        /// Every rule the password breaks.
        weaknesses: Vec<Weakness>,
    },
    /// Two clients sharing a password while some client registers over the internet.
    #[error(
        "{client}.password is the same as the password of {other}: passwords must be \
         individual for ALL clients as soon as one is enabled for internet registration \
         (guide 1.2.1, 2.2)"
    )]
    SharedPassword {
        /// The client.
        client: String,
        /// The earlier client with the same password.
        other: String,
    },
}

fn join(weaknesses: &[Weakness]) -> String {
    let texts: Vec<String> = weaknesses.iter().map(ToString::to_string).collect();
    texts.join(", ")
}

/// The guide's rule behind class of service and the barred ranges.
pub const COS_RULE: &str = "The guide asks to reduce the class of service \"to the required \
     needs ... in order to prevent toll fraud by dialing expensive premium or international \
     numbers or by programming call forwarding to such numbers\"";

/// Everything wrong with a configuration: all errors, not just the first.
#[derive(Debug)]
pub struct ConfigErrors(Vec<ConfigError>);

impl ConfigErrors {
    /// Wraps the collected errors.
    pub fn new(errors: Vec<ConfigError>) -> Self {
        Self(errors)
    }

    /// The errors, in the order they were found.
    pub fn errors(&self) -> &[ConfigError] {
        &self.0
    }

    /// The errors, owned.
    pub fn into_errors(self) -> Vec<ConfigError> {
        self.0
    }
}

impl From<ConfigError> for ConfigErrors {
    fn from(error: ConfigError) -> Self {
        Self(vec![error])
    }
}

/// One error per line.
impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, error) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{error}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}
