//! Support for the end-to-end tests of the home-to-company path: an office
//! configuration with known passwords, a gateway on loopback, phones, and
//! waiting for events (never sleeping).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use gateway::clock::Clock;
use gateway::config::{RtpRange, ValidatedConfig};
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

pub use gateway::testing::cast::{ANNA, BEN, CLARA, DAN};
pub use gateway::testing::{Office, Subscriber};

/// A small office on loopback: 201 Anna may register over the internet;
/// 202 Ben only from the LAN; 203 Clara has no IP user license; 210 Dan is
/// a myPortal to go client, allowed in from the internet.
pub fn office() -> Office {
    Office::x3().on_loopback().subscribers(office_cast())
}

/// [`office`], validated.
pub fn office_config() -> ValidatedConfig {
    office().validated()
}

/// The office in the network lab (`netlab`): listening on every interface
/// of the gateway's host, behind the company router's public address
/// (`public`: configured; `None`: learnt from the lab's STUN server).
pub fn lab_office(public: Option<IpAddr>) -> Office {
    let stun = SocketAddr::from((netlab::STUN_PRIMARY, netlab::STUN_PORT)).to_string();
    let office = Office::x3()
        .listen_address("0.0.0.0")
        .company_lan(&[netlab::COMPANY_LAN])
        .upstream_kbps(1000)
        .stun(&stun)
        .subscribers(office_cast());
    match public {
        Some(public) => office.public_address(&public.to_string()),
        None => office,
    }
}

/// The office listening on every interface (`0.0.0.0`, as a real system
/// does), with `public` as the company router's public address.
pub fn office_config_on_any(public: &str) -> ValidatedConfig {
    office()
        .listen_address("0.0.0.0")
        .public_address(public)
        .validated()
}

/// 205 Eve's number and password.
pub const EVE_ABROAD: (&str, &str) = ("205", "Eve-intl#2024x");

/// 205 Eve: an OpenStage 60 that may call abroad, in the office only
/// (her calls take the test trunk; toll fraud from her account).
pub fn eve_abroad() -> Subscriber {
    Subscriber::hfa(EVE_ABROAD.0, "Eve", "OpenStage 60")
        .licensed()
        .password(EVE_ABROAD.1)
        .class_of_service("international")
}

fn office_cast() -> [Subscriber; 4] {
    use gateway::testing::cast;
    [cast::anna(), cast::ben(), cast::clara(), cast::dan()]
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
/// starts, so that gateways run side by side (20000 and up, below the
/// ephemeral range; apart from the other crates' tests).
pub fn next_rtp_range() -> RtpRange {
    gateway::testing::rtp_range(20000, 90)
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

    /// [`Handset::register_with_media`] with default timers and no sound
    /// device (a null back end): for tests of the media path and its
    /// figures rather than of what is heard.
    pub async fn register_without_sound(account: HfaAccount) -> Self {
        let media = MediaOptions::g711(Box::new(softphone::audio::NullBackend));
        Self::register_with_media(account, PhoneTimers::default(), media).await
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
