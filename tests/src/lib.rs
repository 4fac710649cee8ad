//! Support for the end-to-end tests of the home-to-company path: an office
//! configuration with known passwords, a gateway on loopback, phones, and
//! waiting for events (never sleeping).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::Duration;

use gateway::clock::Clock;
use gateway::config::{self, RtpRange, ValidatedConfig};
use gateway::gateway::{Gateway, StartOptions};
use shared::hfa_engine::phone::{PhoneEvent, PhoneState, PhoneTimers};
use shared::hfa_engine::system::SystemTimers;
use shared::secret::Secret;
use softphone::hfa::client::MediaHandle;
use softphone::hfa::{GatewayAddress, HfaAccount, HfaClient};
use softphone::media::MediaOptions;
use softphone::media::call::MediaReport;
use tokio::sync::mpsc::UnboundedReceiver;

/// The company LAN of the test office is 127.0.0.0/24; a phone bound to
/// this address registers "over the internet".
pub const HOME_IP: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 1, 20));
/// A phone bound to this address registers from the company LAN.
pub const LAN_IP: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

/// The clients of the test office and their passwords.
pub const ANNA: (&str, &str) = ("201", "Anna-2024#home");
pub const BEN: (&str, &str) = ("202", "Ben!desk-4711");
pub const CLARA: (&str, &str) = ("203", "Clara?noLicense9");
pub const DAN: (&str, &str) = ("210", "Dan*portal-0815");

/// A small office: 201 Anna may register over the internet; 202 Ben only
/// from the LAN; 203 Clara has no IP user license; 210 Dan is a myPortal to
/// go client, allowed in from the internet.
pub fn office_config() -> ValidatedConfig {
    office_config_with("", "")
}

/// The office with `system` appended to its `[system]` table (e.g. a
/// `data_dir`) and `tail` (further tables, e.g. `[security]`) at the end.
pub fn office_config_with(system: &str, tail: &str) -> ValidatedConfig {
    office_config_text(system, "127.0.0.1", "127.0.0.1", tail)
}

/// The office in the network lab (`netlab`): listening on every interface
/// of the gateway's host, behind the company router's public address
/// (`public`: configured; `None`: learnt from the lab's STUN server).
pub fn lab_office_config(system: &str, public: Option<IpAddr>) -> ValidatedConfig {
    parse_office(&lab_office_toml(system, public))
}

/// [`lab_office_config`] as the TOML file `gateway run --config` reads.
pub fn lab_office_toml(system: &str, public: Option<IpAddr>) -> String {
    let stun = SocketAddr::from((netlab::STUN_PRIMARY, netlab::STUN_PORT)).to_string();
    let public = public.map(|ip| ip.to_string()).unwrap_or_default();
    office_toml(
        system,
        ("0.0.0.0", &public),
        (netlab::COMPANY_LAN, &stun),
        "",
        "",
    )
}

/// The office listening on every interface (`0.0.0.0`, as a real system
/// does), with `public` as the company router's public address.
pub fn office_config_on_any(public: &str) -> ValidatedConfig {
    office_config_text("", "0.0.0.0", public, "")
}

/// [`office_config_with`] as the TOML file `gateway run --config` reads,
/// with `network` added to its `[network]` table (e.g. its ports).
pub fn office_toml_with(system: &str, network: &str, tail: &str) -> String {
    office_toml(
        system,
        ("127.0.0.1", "127.0.0.1"),
        ("127.0.0.0/24", "127.0.0.1:3478"),
        network,
        tail,
    )
}

fn office_config_text(system: &str, listen: &str, public: &str, tail: &str) -> ValidatedConfig {
    parse_office(&office_toml(
        system,
        (listen, public),
        ("127.0.0.0/24", "127.0.0.1:3478"),
        "",
        tail,
    ))
}

fn parse_office(text: &str) -> ValidatedConfig {
    match config::from_toml_str(text, "test office") {
        Ok(config) => config,
        Err(errors) => panic!("the test office config is invalid:\n{errors}"),
    }
}

/// The office's configuration text: the gateway listening on `listen`
/// behind `public`, its LAN `lan`, STUN at `stun`, with `network` added to
/// its `[network]` table.
fn office_toml(
    system: &str,
    (listen, public): (&str, &str),
    (lan, stun): (&str, &str),
    network: &str,
    tail: &str,
) -> String {
    // Without a public address the gateway asks the STUN server.
    let public = if public.is_empty() {
        String::new()
    } else {
        format!("public_address = \"{public}\"")
    };
    format!(
        r#"
[system]
model = "X3"
lan_interface = "LAN2"
{system}

[network]
listen_address = "{listen}"
{public}
company_lan = ["{lan}"]
{network}

[internet]
upstream_kbps = 1000

[stun]
server = "{stun}"

[[clients]]
number = "{anna}"
name = "Anna"
kind = {{ hfa = "OpenStage 60" }}
ip_user_license = true
internet_registration = true
password = "{anna_pw}"

[[clients]]
number = "{ben}"
name = "Ben"
kind = {{ hfa = "OpenStage 40" }}
ip_user_license = true
password = "{ben_pw}"

[[clients]]
number = "{clara}"
name = "Clara"
kind = {{ hfa = "OpenStage 20" }}
password = "{clara_pw}"

[[clients]]
number = "{dan}"
name = "Dan"
kind = "myportal_to_go"
ip_user_license = true
internet_registration = true
password = "{dan_pw}"
{tail}
"#,
        anna = ANNA.0,
        anna_pw = ANNA.1,
        ben = BEN.0,
        ben_pw = BEN.1,
        clara = CLARA.0,
        clara_pw = CLARA.1,
        dan = DAN.0,
        dan_pw = DAN.1,
    )
}

/// Short keepalive timers, so dead peers are found within a second.
pub fn fast_system_timers() -> SystemTimers {
    SystemTimers {
        alive_interval: Duration::from_millis(100),
        reply_timeout: Duration::from_millis(300),
        ..SystemTimers::default()
    }
}

pub fn fast_phone_timers() -> PhoneTimers {
    PhoneTimers {
        alive_interval: Duration::from_millis(100),
        reply_timeout: Duration::from_millis(300),
        reconnect_min: Duration::from_millis(20),
        reconnect_max: Duration::from_millis(200),
    }
}

/// The test office's gateway on an ephemeral loopback port.
pub async fn start_gateway(clock: Clock, timers: SystemTimers) -> Gateway {
    start_gateway_on(SocketAddr::new(LAN_IP, 0), clock, timers).await
}

pub async fn start_gateway_on(listen: SocketAddr, clock: Clock, timers: SystemTimers) -> Gateway {
    start_gateway_with(office_config(), listen, clock, timers).await
}

/// `config`'s gateway, its HFA server on `listen`.
pub async fn start_gateway_with(
    config: ValidatedConfig,
    listen: SocketAddr,
    clock: Clock,
    timers: SystemTimers,
) -> Gateway {
    let options = StartOptions {
        hfa_listen: Some(listen),
        portal_listen: None,
        timers,
        clock,
        rtp_range: Some(next_rtp_range()),
        status_socket: None,
        ..StartOptions::default()
    };
    match Gateway::start(config, options).await {
        Ok(gateway) => gateway,
        Err(error) => panic!("gateway failed to start on {listen}: {error}"),
    }
}

/// A block of the RTP proxy's ports of its own for each gateway a test
/// starts, so that gateways run side by side (below the ephemeral range).
pub fn next_rtp_range() -> RtpRange {
    static NEXT: AtomicU16 = AtomicU16::new(0);
    const PORTS: u16 = 128; // 60 channels of an X model, rounded up
    // Each test process starts at its own block (by process id), so test
    // binaries run side by side (two checkouts, a bench) rarely meet.
    let start = std::process::id() as u16;
    let block = start.wrapping_add(NEXT.fetch_add(1, Ordering::Relaxed)) % 90;
    let first = 20000 + block * PORTS;
    RtpRange {
        first,
        last: first + PORTS - 1,
    }
}

/// An HFA account for `(number, password)` connecting from `from`.
pub fn account(gateway: SocketAddr, (number, password): (&str, &str), from: IpAddr) -> HfaAccount {
    let address = GatewayAddress {
        host: gateway.ip().to_string(),
        port: gateway.port(),
    };
    let mut account = match HfaAccount::new(address, number, Secret::new(password)) {
        Ok(account) => account,
        Err(error) => panic!("bad test account: {error}"),
    };
    account.bind_address = Some(from);
    account
}

/// A phone's event stream, with a bounded wait for the next match.
pub struct Events(pub UnboundedReceiver<PhoneEvent>);

/// Long enough for anything on loopback; only reached when a test fails.
pub const PATIENCE: Duration = Duration::from_secs(10);

/// The first message on `rx` that `wanted` accepts within `patience`;
/// panics with every message passed on the way when none does.
pub async fn first_of<T: std::fmt::Debug>(
    rx: &mut UnboundedReceiver<T>,
    patience: Duration,
    what: &str,
    mut wanted: impl FnMut(&T) -> bool,
) -> T {
    let mut seen = Vec::new();
    let found = tokio::time::timeout(patience, async {
        while let Some(message) = rx.recv().await {
            if wanted(&message) {
                return Some(message);
            }
            seen.push(message);
        }
        None
    })
    .await;
    match found {
        Ok(Some(message)) => message,
        _ => panic!("waited for {what}; saw {seen:#?}"),
    }
}

/// Long enough for a test's audio file to play through in real time.
pub const MEDIA_PATIENCE: Duration = Duration::from_secs(40);

impl Events {
    /// The first event that `wanted` accepts; panics with what came instead
    /// when none does within [`PATIENCE`].
    pub async fn until(
        &mut self,
        what: &str,
        wanted: impl FnMut(&PhoneEvent) -> bool,
    ) -> PhoneEvent {
        first_of(&mut self.0, PATIENCE, what, wanted).await
    }

    /// Waits for the phone to reach `state`.
    pub async fn state(&mut self, state: PhoneState) {
        let what = format!("state {state}");
        self.until(&what, |event| {
            event == &PhoneEvent::StateChanged(state.clone())
        })
        .await;
    }

    /// Waits for a registration; returns the states passed on the way.
    pub async fn registered(&mut self) {
        self.until("registration", |event| {
            matches!(event, PhoneEvent::Registered { .. })
        })
        .await;
    }

    /// Waits for the registration to be declined; returns the phone's state.
    pub async fn declined(&mut self) -> PhoneState {
        let event = self
            .until("a decline", |event| {
                matches!(event, PhoneEvent::StateChanged(PhoneState::Declined { .. }))
            })
            .await;
        match event {
            PhoneEvent::StateChanged(state) => state,
            _ => unreachable!("filtered above"),
        }
    }
}

/// Starts a phone; returns it with its events.
pub fn phone(account: HfaAccount, timers: PhoneTimers) -> (HfaClient, Events) {
    let (client, events) = HfaClient::spawn(account, timers);
    (client, Events(events))
}

pub mod flood;
pub mod impair;
pub mod logs;
pub mod netlab;
pub mod portal;
pub mod raw;
pub mod relay;
pub mod replay;
pub mod speech;
pub mod spray;

/// A registered phone with its model: what its user sees, built from the
/// stimuli the gateway sent it.
pub struct Handset {
    pub client: HfaClient,
    pub events: Events,
    pub model: softphone::hfa::phone_model::PhoneModel,
    /// Every change, in order, since the phone started.
    pub changes: Vec<softphone::hfa::phone_model::Change>,
    /// Its media (for a phone with media).
    pub media: Option<MediaHandle>,
}

impl Handset {
    /// Starts a phone and waits until it is registered.
    pub async fn register(account: HfaAccount, timers: PhoneTimers) -> Self {
        let (client, mut events) = phone(account, timers);
        events.registered().await;
        Self {
            client,
            events,
            model: Default::default(),
            changes: Vec::new(),
            media: None,
        }
    }

    /// Starts a phone with media and waits until it is registered.
    pub async fn register_with_media(
        account: HfaAccount,
        timers: PhoneTimers,
        media: MediaOptions,
    ) -> Self {
        let (client, events, reports) =
            match HfaClient::spawn_with_media(account, timers, media).await {
                Ok(started) => started,
                Err(error) => panic!("cannot bind the phone's media sockets: {error}"),
            };
        let mut events = Events(events);
        events.registered().await;
        Self {
            client,
            events,
            model: Default::default(),
            changes: Vec::new(),
            media: Some(reports),
        }
    }

    /// Where this phone's RTP socket receives.
    pub fn local_rtp(&self) -> SocketAddr {
        match &self.media {
            Some(media) => media.local_rtp,
            None => panic!("this phone has no media"),
        }
    }

    /// Waits for a media report that `wanted` accepts.
    pub async fn media_report(
        &mut self,
        what: &str,
        wanted: impl FnMut(&MediaReport) -> bool,
    ) -> MediaReport {
        let Some(reports) = self.media.as_mut().map(|media| &mut media.reports) else {
            panic!("{what}: this phone has no media")
        };
        first_of(reports, MEDIA_PATIENCE, what, wanted).await
    }

    /// Presses keys and the hook switch: `h` off-hook, `u` on-hook,
    /// `0-9*#` dial keys.
    pub fn press(&mut self, keys: &str) {
        use softphone::hfa::phone_model::press_digit;
        for key in keys.chars() {
            let message = match key {
                'h' => Some(self.model.off_hook()),
                'u' => Some(self.model.on_hook()),
                digit => press_digit(digit),
            };
            if let Some(message) = message {
                self.client.send(message);
            }
        }
    }

    /// Applies what the gateway sends until the model satisfies `done`.
    pub async fn until(
        &mut self,
        what: &str,
        done: impl Fn(&softphone::hfa::phone_model::PhoneModel) -> bool,
    ) {
        let start = self.changes.len();
        let found = tokio::time::timeout(PATIENCE, async {
            while !done(&self.model) {
                match self.events.0.recv().await {
                    Some(PhoneEvent::Received(message)) => {
                        let changes = self.model.apply(&message);
                        self.changes.extend(changes);
                    }
                    Some(_) => {}
                    None => return false,
                }
            }
            true
        })
        .await;
        if found != Ok(true) {
            panic!(
                "waited for {what}; the phone showed {:#?}",
                &self.changes[start..]
            );
        }
    }

    /// The top row as shown.
    pub fn top(&self) -> String {
        self.model.display_row(0)
    }
}
