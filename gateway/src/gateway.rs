//! A running gateway: the servers of one configuration, started together
//! and stopped together.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use shared::hfa_engine::system::SystemTimers;
use shared::stun::Retransmission;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::addresses;
use crate::admission::AdmissionCounts;
use crate::calls::channels::{ChannelAddresses, ChannelId, ChannelPlan};
use crate::calls::control::SbcCommand;
use crate::calls::media::MediaPolicy;
use crate::calls::service::SbcControl;
use crate::calls::{CallControl, CallService, CallTimers};
use crate::clock::Clock;
use crate::config::RtpRange;
use crate::config::ValidatedConfig;
use crate::hfa::{HfaServer, HfaState};
use crate::lockout::{LockoutPolicy, LoginGuard, SharedLoginGuard};
use crate::log_limit;
use crate::media::ServiceMedia;
use crate::portal::{self, PortalServer, PortalState, TlsError};
use crate::public_ip::{self, LookupError, PublicIp, RefreshTimers, Resolver};
use crate::sbc::{Sbc, SbcConfig};
use crate::status;

/// How to start a gateway beyond its configuration (tests and benchmarks
/// change these; `gateway run` uses the defaults).
#[derive(Debug, Clone, Default)]
pub struct StartOptions {
    /// Listen here for HFA instead of the configured address (e.g. port 0).
    pub hfa_listen: Option<SocketAddr>,
    /// Serve myPortal to go HTTPS here (`gateway run`: the configured
    /// `network.https_port`); `None`: no portal server (tests of other
    /// parts, which must not bind 8802 or write a certificate).
    pub portal_listen: Option<SocketAddr>,
    pub timers: SystemTimers,
    pub clock: Clock,
    /// Use this RTP port range for the proxy instead of the model's (tests
    /// running gateways side by side).
    pub rtp_range: Option<RtpRange>,
    /// Answer `gateway status` on this Unix socket (`gateway run` puts it
    /// in the data directory).
    pub status_socket: Option<std::path::PathBuf>,
    /// How often the public address is looked up again (DNS name, STUN).
    pub public_ip_refresh: RefreshTimers,
    /// Resolves a DNS public address; `None`: the system resolver. Tests
    /// give one they control, to play a dynamic DNS change.
    pub resolver: Option<Arc<dyn Resolver>>,
    /// The process's trace profiles, switched through the status socket.
    pub traces: Option<Arc<crate::trace::Traces>>,
    /// `gateway run --capture FILE`: HFA connections, the portal's TLS and
    /// the SBC's relayed RTP/RTCP go into this capture.
    pub capture: Option<shared::capture::Capture>,
}

/// The myPortal to go server of a gateway.
#[derive(Debug)]
struct RunningPortal {
    addr: SocketAddr,
    state: Arc<PortalState>,
    task: JoinHandle<()>,
}

/// Why a gateway did not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// A listener or socket could not be set up (a port taken).
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The portal's certificate could not be loaded or generated.
    #[error("myPortal to go HTTPS: {0}")]
    PortalTls(#[from] TlsError),
}

/// The gateway's servers, running on the current tokio runtime.
#[derive(Debug)]
pub struct Gateway {
    hfa_addr: SocketAddr,
    hfa: Arc<HfaState>,
    calls: Arc<CallService>,
    shutdown: watch::Sender<bool>,
    hfa_task: JoinHandle<()>,
    portal: Option<RunningPortal>,
    timers_task: JoinHandle<()>,
    status_task: Option<JoinHandle<()>>,
    sbc: Arc<Sbc>,
    idle_task: JoinHandle<()>,
    guard: SharedLoginGuard,
    clock: Clock,
    log_task: JoinHandle<()>,
    public_ip: Arc<PublicIp>,
    public_ip_task: JoinHandle<()>,
}

impl Gateway {
    /// Binds every listener, then serves. Fails if a port is taken or the
    /// portal's certificate cannot be had.
    pub async fn start(config: ValidatedConfig, options: StartOptions) -> Result<Self, StartError> {
        let listen = options.hfa_listen.unwrap_or_else(|| config.hfa_addr());
        let internet_calls = config.internet_calls().calls as usize;
        let media_ip = media_ip(&config);
        let (service_media, endpoints) = ServiceMedia::start(media_ip).await?;
        let media = MediaPolicy {
            services: endpoints,
            ..MediaPolicy::from_config(&config)
        };
        let sbc = Sbc::start(sbc_config(&config, media_ip, options.rtp_range))
            .await
            .map_err(std::io::Error::other)?;
        if let Some(capture) = &options.capture {
            sbc.capture_into(capture.clone());
        }
        let plan = channel_plan(&sbc, internet_calls);
        let control = CallControl::new(&config, CallTimers::from_config(&config), plan, media);
        let calls = CallService::new(
            control,
            options.clock.clone(),
            Some(service_media),
            Some(sbc.clone()),
        );
        let public_ip = start_public_ip(&config, &options, &calls, media_ip).await;
        let public_ip_task =
            tokio::spawn(public_ip.clone().keep_current(options.public_ip_refresh));
        let idle_task = tokio::spawn(end_idle_calls(sbc.idle(), calls.clone()));
        let log_task = tokio::spawn(log_limit::report_periodically());
        let timers_task = tokio::spawn(calls.clone().run_timers());
        // One lockout record for HFA and the portal: a guesser gets the
        // same few attempts whichever port it tries.
        let guard = LoginGuard::shared(
            LockoutPolicy::from_settings(config.lockout()),
            config.clients().iter().map(|client| client.number.clone()),
        );
        let portal_server = match options.portal_listen {
            Some(addr) => {
                let tls = portal::tls::setup(&config, addr)?;
                let state = Arc::new(PortalState::new(
                    config.clone(),
                    options.clock.clone(),
                    calls.clone(),
                    tls.fingerprint.clone(),
                    guard.clone(),
                ));
                let server = PortalServer::bind(addr, &tls, state.clone())
                    .await?
                    .with_capture(options.capture.clone());
                tracing::info!(
                    addr = %server.local_addr()?,
                    "myPortal to go HTTPS: certificate SHA-256 fingerprint {}",
                    tls.fingerprint
                );
                Some((server, state))
            }
            None => None,
        };
        let hfa = Arc::new(
            HfaState::new(
                config,
                options.timers,
                options.clock.clone(),
                calls.clone(),
                guard.clone(),
            )
            .with_capture(options.capture.clone()),
        );
        let server = HfaServer::bind(listen, hfa.clone()).await?;
        let hfa_addr = server.local_addr()?;
        let (shutdown, shutdown_rx) = watch::channel(false);
        let portal = match portal_server {
            Some((server, state)) => Some(RunningPortal {
                addr: server.local_addr()?,
                state,
                task: tokio::spawn(server.serve(shutdown_rx.clone())),
            }),
            None => None,
        };
        let hfa_task = tokio::spawn(server.serve(shutdown_rx));
        let status_task = match &options.status_socket {
            Some(path) => {
                let (hfa, calls) = (hfa.clone(), calls.clone());
                let sbc = sbc.clone();
                let portal = portal.as_ref().map(|portal| portal.state.clone());
                let (guard, clock) = (guard.clone(), options.clock.clone());
                let traces = options.traces.clone();
                let report = move || {
                    let under_attack = LoginGuard::lock(&guard).under_attack(clock.now());
                    status::collect(status::Sources {
                        hfa: &hfa,
                        calls: &calls,
                        portal: portal.as_deref(),
                        sbc: &sbc.stats(),
                        under_attack,
                        traces: traces.as_deref(),
                    })
                    .to_string()
                };
                Some(status::serve(
                    path,
                    Arc::new(report),
                    options.traces.clone(),
                )?)
            }
            None => None,
        };
        Ok(Self {
            hfa_addr,
            hfa,
            calls,
            shutdown,
            hfa_task,
            portal,
            timers_task,
            status_task,
            sbc,
            idle_task,
            guard,
            clock: options.clock,
            log_task,
            public_ip,
            public_ip_task,
        })
    }

    /// Where phones connect (the LAN side of the company router's forward).
    pub fn hfa_addr(&self) -> SocketAddr {
        self.hfa_addr
    }

    /// Where myPortal to go apps connect (HTTPS), when the portal runs.
    pub fn portal_addr(&self) -> Option<SocketAddr> {
        self.portal.as_ref().map(|portal| portal.addr)
    }

    /// The portal certificate's SHA-256 fingerprint, when the portal runs.
    pub fn portal_fingerprint(&self) -> Option<&str> {
        self.portal
            .as_ref()
            .map(|portal| portal.state.fingerprint())
    }

    /// The phones registered right now.
    pub fn registered_phones(&self) -> usize {
        self.hfa.registry().len()
    }

    /// Whether `number` is registered right now.
    pub fn is_registered(&self, number: &str) -> bool {
        self.hfa.registry().get(number).is_some()
    }

    /// The HFA server's connections: open, refused, closed to make room.
    pub fn hfa_connections(&self) -> AdmissionCounts {
        self.hfa.connections()
    }

    /// The portal server's connections, when the portal runs.
    pub fn portal_connections(&self) -> Option<AdmissionCounts> {
        self.portal
            .as_ref()
            .map(|portal| portal.state.connections())
    }

    /// Tells every phone the system is going down, closes every connection
    /// and waits until all are closed.
    pub async fn stop(self) {
        let _ = self.shutdown.send(true);
        let _ = self.hfa_task.await;
        if let Some(portal) = self.portal {
            let _ = portal.task.await;
        }
        self.timers_task.abort();
        self.idle_task.abort();
        self.public_ip_task.abort();
        if let Some(task) = self.status_task {
            task.abort();
        }
        self.sbc.shutdown().await;
        // What the log left out so far is told before the gateway is gone.
        self.log_task.abort();
        log_limit::report_all();
    }

    /// The RTP proxy's data plane (counters, latch states).
    pub fn sbc(&self) -> &Sbc {
        &self.sbc
    }

    /// The RTP proxy, shared: a live view of an in-process gateway (the
    /// softphone's demo) reads its latch states while it runs.
    pub fn sbc_shared(&self) -> Arc<Sbc> {
        self.sbc.clone()
    }

    /// What `gateway status` reports.
    pub fn status(&self) -> status::Status {
        status::collect(status::Sources {
            hfa: &self.hfa,
            calls: &self.calls,
            portal: self.portal.as_ref().map(|portal| &*portal.state),
            sbc: &self.sbc.stats(),
            under_attack: LoginGuard::lock(&self.guard).under_attack(self.clock.now()),
            traces: None,
        })
    }

    /// The public address Set Payload announces to devices at home now.
    pub fn public_ip(&self) -> Option<IpAddr> {
        self.calls.public_ip()
    }

    /// Looks the public address up now (as the refresh timer does), and
    /// applies a change to new calls and calls in progress.
    pub async fn refresh_public_ip(&self) -> Result<IpAddr, LookupError> {
        self.public_ip.refresh(Retransmission::DISCOVERY).await
    }

    /// Call control, for status and tests.
    pub fn calls(&self) -> &CallService {
        &self.calls
    }
}

/// Where the system's own media ends and the RTP proxy's inner side listen
/// (see `addresses.rs`).
fn media_ip(config: &ValidatedConfig) -> IpAddr {
    let network = &config.config().network;
    let listen = network.listen_address;
    let interfaces = addresses::interface_addresses();
    addresses::lan_media_ip(listen, &network.company_lan, &interfaces).unwrap_or_else(|| {
        let fallback = addresses::loopback();
        tracing::warn!(
            "listening on {listen}, but no address of this host lies in network.company_lan: \
             the system's media ends and the RTP proxy's inner side use {fallback}, which \
             phones in the company LAN cannot reach; set network.listen_address to the \
             system's LAN address"
        );
        fallback
    })
}

/// The proxy's pool: the model's channels on its forwarded range (guide
/// 1.3.5, 2.5.2), latching as `docs/sbc.md` describes.
fn sbc_config(config: &ValidatedConfig, ip: IpAddr, range: Option<RtpRange>) -> SbcConfig {
    SbcConfig {
        // "Any" receives what the company router forwards, on any interface.
        public_bind: config.config().network.listen_address,
        rtp_range: range.unwrap_or_else(|| config.rtp_ports()),
        channels: u16::try_from(config.rtp_proxy_channels()).unwrap_or(u16::MAX),
        inner_bind: ip,
        learning_window: Duration::from_secs(10),
        probation: 3,
        // A device's first packet arrives a round trip after its call
        // connects: over the internet well within a second.
        announced_preference: Duration::from_secs(1),
        idle_timeout: Duration::from_secs(30),
    }
}

/// The first lookup of the public address, before any phone registers;
/// if it fails, Set Payload uses `fallback` until a retry succeeds.
async fn start_public_ip(
    config: &ValidatedConfig,
    options: &StartOptions,
    calls: &Arc<CallService>,
    fallback: IpAddr,
) -> Arc<PublicIp> {
    let source =
        public_ip::Source::from_config(config).unwrap_or(public_ip::Source::Static(fallback));
    let resolver = options
        .resolver
        .clone()
        .unwrap_or_else(|| Arc::new(public_ip::SystemResolver));
    let public_ip = Arc::new(PublicIp::new(source, resolver, calls.clone()));
    if let Err(error) = public_ip.refresh(Retransmission::DISCOVERY).await {
        tracing::warn!("{error}; Set Payload uses {fallback} until a lookup succeeds");
        calls.set_public_ip(fallback);
    }
    public_ip
}

/// Call control's view of the pool the SBC bound; the public address is
/// set by [`PublicIp`].
fn channel_plan(sbc: &Sbc, internet_calls: usize) -> ChannelPlan {
    let channels = (0..sbc.channels())
        .map(ChannelId)
        .map(|id| {
            let (inner_rtp, inner_rtcp) = sbc.inner(id);
            ChannelAddresses {
                public_rtp_port: sbc.public_rtp(id).port(),
                inner_rtp,
                inner_rtcp,
            }
        })
        .collect();
    ChannelPlan {
        public_ip: None,
        channels,
        internet_calls,
    }
}

/// Ends the calls whose media went idle (a phone that lost its network).
async fn end_idle_calls(
    mut idle: tokio::sync::mpsc::UnboundedReceiver<ChannelId>,
    calls: Arc<CallService>,
) {
    while let Some(channel) = idle.recv().await {
        tracing::info!(channel = channel.0, "media idle: ending the call");
        calls.media_idle(channel);
    }
}

impl SbcControl for Sbc {
    fn apply(&self, command: &SbcCommand) {
        match *command {
            SbcCommand::Anchor {
                channel,
                inner_peer,
                device,
            } => self.anchor(channel, inner_peer, device),
            SbcCommand::SetInnerPeer {
                channel,
                inner_peer,
            } => self.set_inner_peer(channel, inner_peer),
            SbcCommand::Relearn { channel, device } => self.relearn(channel, device),
            SbcCommand::Release { channel } => self.release(channel),
        }
    }
}
