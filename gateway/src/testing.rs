//! Test support: one builder for the OpenScape Business office every test
//! configures (system model, subscribers and their passwords, Device@Home
//! flags, network, STUN), and the test cast of subscribers with known
//! passwords.
//!
//! Compiled for this crate's own tests and, behind the `testing` feature,
//! for the tests of the other crates (their dev-dependencies turn it on;
//! the gateway's integration tests through a dev-dependency on itself).
//! It writes the TOML a system administrator writes, so every test goes
//! through the same parser and validation as `gateway run --config`.
//!
//! ```
//! use gateway::testing::{Office, Subscriber, cast};
//!
//! let config = Office::x3()
//!     .on_loopback()
//!     .subscriber(cast::anna())
//!     .subscriber(Subscriber::hfa("205", "Eve", "OpenStage 40").password("Eve-7#xQ2!k"))
//!     .validated();
//! assert_eq!(config.config().clients.len(), 2);
//! ```

use std::fmt::Write as _;
use std::path::Path;
use std::sync::atomic::{AtomicU16, Ordering};

use crate::config::{self, Config, RtpRange, ValidatedConfig};

/// An office configuration under construction; [`Office::toml`] is its
/// text, [`Office::validated`] the configuration a gateway starts with.
#[derive(Debug, Clone)]
#[must_use]
pub struct Office {
    model: &'static str,
    system: Table,
    network: Table,
    internet: Table,
    stun: Option<String>,
    subscribers: Vec<Subscriber>,
    sections: Vec<String>,
}

impl Office {
    /// Model X3 (the tests' usual office).
    pub fn x3() -> Self {
        Self::model("X3")
    }

    /// Model X5.
    pub fn x5() -> Self {
        Self::model("X5")
    }

    /// Model S (server based, the largest).
    pub fn s() -> Self {
        Self::model("S")
    }

    fn model(model: &'static str) -> Self {
        Self {
            model,
            system: Table::default(),
            network: Table::default(),
            internet: Table::default(),
            stun: None,
            subscribers: Vec::new(),
            sections: Vec::new(),
        }
    }

    /// The office on this machine's loopback: listening on 127.0.0.1,
    /// with [`Office::loopback_lan`], 1000 kbit/s upstream, STUN at
    /// 127.0.0.1:3478.
    pub fn on_loopback(self) -> Self {
        self.listen_address("127.0.0.1")
            .loopback_lan()
            .upstream_kbps(1000)
            .stun("127.0.0.1:3478")
    }

    /// The company LAN 127.0.0.0/24 (a phone bound to 127.0.1.x is "at
    /// home"), 127.0.0.1 its public address.
    pub fn loopback_lan(self) -> Self {
        self.public_address("127.0.0.1")
            .company_lan(&["127.0.0.0/24"])
    }

    /// The gateway's data directory (its certificate, stores, logs).
    pub fn data_dir(mut self, dir: &Path) -> Self {
        self.system
            .set("data_dir", quoted(&dir.display().to_string()));
        self
    }

    /// The address the gateway's servers bind to.
    pub fn listen_address(self, address: &str) -> Self {
        self.network_value("listen_address", address)
    }

    /// The company router's public address; without one the gateway asks
    /// the STUN server.
    pub fn public_address(self, address: &str) -> Self {
        self.network_value("public_address", address)
    }

    /// The company LAN's networks.
    pub fn company_lan(self, networks: &[&str]) -> Self {
        let list: Vec<String> = networks.iter().map(|n| quoted(n)).collect();
        self.network("company_lan", format!("[{}]", list.join(", ")))
    }

    /// The HFA server's port.
    pub fn hfa_port(self, port: u16) -> Self {
        self.network("hfa_port", port.to_string())
    }

    /// The myPortal to go server's port.
    pub fn https_port(self, port: u16) -> Self {
        self.network("https_port", port.to_string())
    }

    /// The RTP proxy's ports.
    pub fn rtp_ports(self, range: RtpRange) -> Self {
        let value = format!("{{ first = {}, last = {} }}", range.first, range.last);
        self.network("rtp_ports", value)
    }

    fn network(mut self, key: &'static str, value: String) -> Self {
        self.network.set(key, value);
        self
    }

    fn network_value(self, key: &'static str, value: &str) -> Self {
        self.network(key, quoted(value))
    }

    /// The internet line's upstream bandwidth (`[internet]`).
    pub fn upstream_kbps(mut self, kbps: u32) -> Self {
        self.internet.set("upstream_kbps", kbps.to_string());
        self
    }

    /// How many calls may cross the internet line at once (`[internet]`).
    pub fn simultaneous_calls(mut self, calls: usize) -> Self {
        self.internet.set("simultaneous_calls", calls.to_string());
        self
    }

    /// The STUN server (`[stun] server`).
    pub fn stun(mut self, server: &str) -> Self {
        self.stun = Some(server.to_owned());
        self
    }

    /// Adds a subscriber.
    pub fn subscriber(mut self, subscriber: Subscriber) -> Self {
        self.subscribers.push(subscriber);
        self
    }

    /// Adds subscribers.
    pub fn subscribers(mut self, subscribers: impl IntoIterator<Item = Subscriber>) -> Self {
        self.subscribers.extend(subscribers);
        self
    }

    /// Appends further tables as written (e.g. `[portal]`, `[security]`,
    /// `[sbc]`), after the subscribers.
    pub fn section(mut self, toml: impl Into<String>) -> Self {
        self.sections.push(toml.into());
        self
    }

    /// The configuration file's text.
    pub fn toml(&self) -> String {
        let mut text = format!(
            "[system]\nmodel = {}\nlan_interface = \"LAN2\"\n",
            quoted(self.model)
        );
        self.system.write(&mut text);
        text.push_str("\n[network]\n");
        self.network.write(&mut text);
        if !self.internet.0.is_empty() {
            text.push_str("\n[internet]\n");
            self.internet.write(&mut text);
        }
        if let Some(server) = &self.stun {
            let _ = write!(text, "\n[stun]\nserver = {}\n", quoted(server));
        }
        for subscriber in &self.subscribers {
            text.push('\n');
            text.push_str(&subscriber.toml());
        }
        for section in &self.sections {
            text.push('\n');
            text.push_str(section);
            text.push('\n');
        }
        text
    }

    /// The configuration as parsed, before validation (for the tests of
    /// validation itself).
    pub fn parsed(&self) -> Config {
        match config::parse(&self.toml(), "test office") {
            Ok(config) => config,
            Err(error) => panic!("the test office does not parse:\n{error}"),
        }
    }

    /// The validated configuration; panics with the validation's messages
    /// when the office is invalid.
    pub fn validated(&self) -> ValidatedConfig {
        match config::from_toml_str(&self.toml(), "test office") {
            Ok(config) => config,
            Err(errors) => panic!("the test office is invalid:\n{errors}"),
        }
    }

    /// Writes the configuration file `gateway run --config` reads.
    pub fn write(&self, path: &Path) {
        if let Err(error) = std::fs::write(path, self.toml()) {
            panic!(
                "cannot write the test office to {}: {error}",
                path.display()
            );
        }
    }
}

/// One `[[clients]]` entry.
#[derive(Debug, Clone)]
#[must_use]
pub struct Subscriber {
    number: String,
    name: String,
    /// `kind`'s TOML value.
    kind: String,
    /// The keys after the kind.
    table: Table,
}

impl Subscriber {
    /// An OpenStage HFA phone, e.g. `device` "OpenStage 60".
    pub fn hfa(number: &str, name: &str, device: &str) -> Self {
        Self::new(number, name, format!("{{ hfa = {} }}", quoted(device)))
    }

    /// A myPortal to go user.
    pub fn portal(number: &str, name: &str) -> Self {
        Self::new(number, name, quoted("myportal_to_go"))
    }

    fn new(number: &str, name: &str, kind: String) -> Self {
        Self {
            number: number.to_owned(),
            name: name.to_owned(),
            kind,
            table: Table::default(),
        }
    }

    /// The subscriber's password (UC password of a myPortal to go user).
    pub fn password(self, password: &str) -> Self {
        self.set("password", quoted(password))
    }

    /// An IP user license (guide 2.1).
    pub fn licensed(self) -> Self {
        self.set("ip_user_license", "true")
    }

    /// Allowed to register from the internet: a Device@Home phone
    /// (guide 2.2).
    pub fn at_home(self) -> Self {
        self.set("internet_registration", "true")
    }

    /// Not allowed to register from the internet: in the office only.
    pub fn in_office_only(self) -> Self {
        self.set("internet_registration", "false")
    }

    /// Registers without a password (trusted LAN devices only).
    pub fn without_authentication(self) -> Self {
        self.set("authentication", "false")
    }

    /// `class_of_service`: "internal", "local", "national" or
    /// "international".
    pub fn class_of_service(self, class: &str) -> Self {
        self.set("class_of_service", quoted(class))
    }

    /// May call premium-rate numbers.
    pub fn allow_premium(self) -> Self {
        self.set("allow_premium", "true")
    }

    /// May call the international revenue share fraud ranges.
    pub fn allow_irsf(self) -> Self {
        self.set("allow_irsf", "true")
    }

    fn set(mut self, key: &'static str, value: impl Into<String>) -> Self {
        self.table.set(key, value.into());
        self
    }

    /// The `[[clients]]` table's text.
    pub fn toml(&self) -> String {
        let mut text = format!(
            "[[clients]]\nnumber = {}\nname = {}\nkind = {}\n",
            quoted(&self.number),
            quoted(&self.name),
            self.kind
        );
        self.table.write(&mut text);
        text
    }
}

/// Strong, individual passwords (guide 2.2) for offices of anonymous
/// subscribers.
pub const PASSWORDS: [&str; 4] = [
    "Kx7#mQ2!vLp9",
    "Tz4%wR8@nBq3",
    "Hy6&dF5^sJk8",
    "Mn3*cV7!xZa2",
];

/// The test cast: subscribers with known numbers and passwords, as the
/// tests of every crate use them.
pub mod cast {
    use super::Subscriber;

    /// Anna's number and password.
    pub const ANNA: (&str, &str) = ("201", "Anna-2024#home");
    /// Ben's number and password.
    pub const BEN: (&str, &str) = ("202", "Ben!desk-4711");
    /// Clara's number and password.
    pub const CLARA: (&str, &str) = ("203", "Clara?noLicense9");
    /// Dan's number and UC password.
    pub const DAN: (&str, &str) = ("210", "Dan*portal-0815");
    /// Eve's number and UC password.
    pub const EVE: (&str, &str) = ("211", "Eve#mobile-4242");
    /// Gina's number and UC password.
    pub const GINA: (&str, &str) = ("213", "Gina&office-5561");

    /// 201 Anna: an OpenStage 60 with a license, allowed in from home.
    pub fn anna() -> Subscriber {
        Subscriber::hfa(ANNA.0, "Anna", "OpenStage 60")
            .licensed()
            .at_home()
            .password(ANNA.1)
    }

    /// 202 Ben: an OpenStage 40 with a license, in the office only.
    pub fn ben() -> Subscriber {
        Subscriber::hfa(BEN.0, "Ben", "OpenStage 40")
            .licensed()
            .password(BEN.1)
    }

    /// 203 Clara: an OpenStage 20 without an IP user license.
    pub fn clara() -> Subscriber {
        Subscriber::hfa(CLARA.0, "Clara", "OpenStage 20").password(CLARA.1)
    }

    /// 210 Dan: a myPortal to go user allowed in from the internet.
    pub fn dan() -> Subscriber {
        Subscriber::portal(DAN.0, "Dan")
            .licensed()
            .at_home()
            .password(DAN.1)
    }

    /// 211 Eve: a myPortal to go user allowed in from the internet.
    pub fn eve() -> Subscriber {
        Subscriber::portal(EVE.0, "Eve")
            .licensed()
            .at_home()
            .password(EVE.1)
    }

    /// 213 Gina: a myPortal to go user not enabled for internet
    /// registration (guide 2.2).
    pub fn gina() -> Subscriber {
        Subscriber::portal(GINA.0, "Gina")
            .licensed()
            .password(GINA.1)
    }
}

/// A block of 128 RTP proxy ports (the 60 channels of an X model, rounded
/// up) for each gateway a test process starts: block `n` of `blocks` from
/// `first`, starting at a block chosen by the process id, so that test
/// binaries running side by side rarely meet. Each test suite passes a
/// region of its own, below the ephemeral range.
pub fn rtp_range(first: u16, blocks: u16) -> RtpRange {
    static NEXT: AtomicU16 = AtomicU16::new(0);
    let process = (std::process::id() % u32::from(blocks)) as u16;
    let block = (process + NEXT.fetch_add(1, Ordering::Relaxed) % blocks) % blocks;
    let start = first + block * 128;
    RtpRange {
        first: start,
        last: start + 127,
    }
}

/// A TOML table's keys and their values as TOML text, in the order first
/// set; setting a key again replaces its value.
#[derive(Debug, Clone, Default)]
struct Table(Vec<(&'static str, String)>);

impl Table {
    fn set(&mut self, key: &'static str, value: String) {
        match self.0.iter_mut().find(|(k, _)| *k == key) {
            Some((_, v)) => *v = value,
            None => self.0.push((key, value)),
        }
    }

    fn write(&self, text: &mut String) {
        for (key, value) in &self.0 {
            let _ = writeln!(text, "{key} = {value}");
        }
    }
}

/// `value` as a TOML basic string, escaped.
fn quoted(value: &str) -> String {
    toml::Value::String(value.to_owned()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{ClientKind, HfaDevice};

    #[test]
    fn the_loopback_office_with_the_cast_is_what_its_builder_says() {
        let dir = Path::new("/tmp/office \"quoted\"");
        let config = Office::x3()
            .on_loopback()
            .data_dir(dir)
            .subscribers([cast::anna(), cast::ben(), cast::dan()])
            .validated();
        let config = config.config();
        assert_eq!(config.network.public_address.as_deref(), Some("127.0.0.1"));
        assert_eq!(config.system.data_dir.as_deref(), Some(dir));
        let numbers: Vec<&str> = config.clients.iter().map(|c| c.number.as_str()).collect();
        assert_eq!(numbers, ["201", "202", "210"]);
        let (anna, ben, dan) = (&config.clients[0], &config.clients[1], &config.clients[2]);
        assert_eq!(anna.kind, ClientKind::Hfa(HfaDevice::OpenStage60));
        assert!(anna.ip_user_license && anna.internet_registration);
        assert!(ben.ip_user_license && !ben.internet_registration);
        assert_eq!(dan.kind, ClientKind::MyPortalToGo);
        assert_eq!(
            anna.password.as_ref().map(|p| p.expose()),
            Some(cast::ANNA.1)
        );
    }

    #[test]
    fn a_key_set_again_replaces_its_value() {
        let office = Office::x3()
            .on_loopback()
            .public_address("192.0.2.7")
            .subscriber(cast::anna().in_office_only());
        let text = office.toml();
        assert_eq!(text.matches("public_address").count(), 1, "{text}");
        assert_eq!(text.matches("internet_registration").count(), 1, "{text}");
        let config = office.parsed();
        assert_eq!(config.network.public_address.as_deref(), Some("192.0.2.7"));
        assert!(!config.clients[0].internet_registration);
    }

    #[test]
    fn an_invalid_office_panics_with_the_validation_message() {
        let weak = Office::x3().on_loopback().subscriber(
            Subscriber::hfa("201", "Anna", "OpenStage 60")
                .at_home()
                .password("201"),
        );
        let panic = std::panic::catch_unwind(|| weak.validated()).expect_err("invalid");
        let message = panic.downcast_ref::<String>().expect("a message");
        assert!(message.contains("the test office is invalid"), "{message}");
        assert!(message.contains("clients"), "{message}");
    }

    #[test]
    fn rtp_ranges_stay_in_their_region_and_differ_per_gateway() {
        let ranges: Vec<RtpRange> = (0..4).map(|_| rtp_range(2000, 4)).collect();
        for range in &ranges {
            assert!(
                range.first >= 2000 && range.last < 2000 + 4 * 128,
                "{range:?}"
            );
            assert_eq!(range.last - range.first, 127);
        }
        let mut firsts: Vec<u16> = ranges.iter().map(|r| r.first).collect();
        firsts.sort_unstable();
        firsts.dedup();
        assert_eq!(firsts.len(), 4, "{ranges:?}");
    }
}
