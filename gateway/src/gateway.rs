//! A running gateway: the servers of one configuration, started together
//! and stopped together.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;

use shared::hfa_engine::system::SystemTimers;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::calls::media::MediaPolicy;
use crate::calls::{CallControl, CallService, CallTimers};
use crate::clock::Clock;
use crate::config::ValidatedConfig;
use crate::hfa::{HfaServer, HfaState};
use crate::media::ServiceMedia;

/// How to start a gateway beyond its configuration (tests and benchmarks
/// change these; `gateway run` uses the defaults).
#[derive(Debug, Clone, Default)]
pub struct StartOptions {
    /// Listen here for HFA instead of the configured address (e.g. port 0).
    pub hfa_listen: Option<SocketAddr>,
    pub timers: SystemTimers,
    pub clock: Clock,
}

/// The gateway's servers, running on the current tokio runtime.
#[derive(Debug)]
pub struct Gateway {
    hfa_addr: SocketAddr,
    hfa: Arc<HfaState>,
    calls: Arc<CallService>,
    shutdown: watch::Sender<bool>,
    hfa_task: JoinHandle<()>,
    timers_task: JoinHandle<()>,
}

impl Gateway {
    /// Binds every listener, then serves. Fails if a port is taken.
    pub async fn start(config: ValidatedConfig, options: StartOptions) -> std::io::Result<Self> {
        let listen = options.hfa_listen.unwrap_or_else(|| config.hfa_addr());
        let trunk_channels = config.internet_calls().calls as usize;
        let (service_media, endpoints) = ServiceMedia::start(media_ip(&config)).await?;
        let media = MediaPolicy {
            services: endpoints,
            ..MediaPolicy::from_config(&config)
        };
        let control = CallControl::new(
            &config,
            CallTimers::from_config(&config),
            trunk_channels,
            media,
        );
        let calls = CallService::new(control, options.clock.clone(), Some(service_media));
        let timers_task = tokio::spawn(calls.clone().run_timers());
        let hfa = Arc::new(HfaState::new(
            config,
            options.timers,
            options.clock,
            calls.clone(),
        ));
        let server = HfaServer::bind(listen, hfa.clone()).await?;
        let hfa_addr = server.local_addr()?;
        let (shutdown, shutdown_rx) = watch::channel(false);
        let hfa_task = tokio::spawn(server.serve(shutdown_rx));
        Ok(Self {
            hfa_addr,
            hfa,
            calls,
            shutdown,
            hfa_task,
            timers_task,
        })
    }

    /// Where phones connect (the LAN side of the company router's forward).
    pub fn hfa_addr(&self) -> SocketAddr {
        self.hfa_addr
    }

    /// The phones registered right now.
    pub fn registered_phones(&self) -> usize {
        self.hfa.registry().len()
    }

    /// Whether `number` is registered right now.
    pub fn is_registered(&self, number: &str) -> bool {
        self.hfa.registry().get(number).is_some()
    }

    /// Tells every phone the system is going down, closes every connection
    /// and waits until all are closed.
    pub async fn stop(self) {
        let _ = self.shutdown.send(true);
        let _ = self.hfa_task.await;
        self.timers_task.abort();
    }

    /// Call control, for status and tests.
    pub fn calls(&self) -> &CallService {
        &self.calls
    }
}

/// Where the system's own media ends listen: the configured listen address,
/// or loopback when that is "any" (until the SBC of the integrated RTP
/// proxy gives them a LAN and a public address).
fn media_ip(config: &ValidatedConfig) -> IpAddr {
    let listen = config.config().network.listen_address;
    if listen.is_unspecified() {
        IpAddr::V4(Ipv4Addr::LOCALHOST)
    } else {
        listen
    }
}
