//! The system's media ends, bound at start: where the echo test, the
//! announcement test and the test trunk receive (announced to the phones as
//! if they were devices), and the streams call control starts and stops.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, PoisonError};

use shared::hfa::PayloadType;
use tokio::net::UdpSocket;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::{announcement, echo};
use crate::calls::CallId;
use crate::calls::dialplan::Service;
use crate::calls::media::{MediaOffer, RemoteMedia, ServiceEndpoints};
use crate::calls::model::Party;

/// What the echo and the announcement receive: the echo reflects any
/// codec, the announcement has its prompt at 8 and 16 kHz.
const WIDEBAND: [PayloadType; 3] = [PayloadType::G722, PayloadType::PCMA, PayloadType::PCMU];

/// What the test trunk's far end receives: a public network line, G.711.
const NARROWBAND: [PayloadType; 2] = [PayloadType::PCMA, PayloadType::PCMU];

/// An RTP socket and its RTCP companion.
#[derive(Debug, Clone)]
struct Pair {
    rtp: Arc<UdpSocket>,
    rtcp: Arc<UdpSocket>,
}

impl Pair {
    async fn bind(ip: IpAddr) -> std::io::Result<Self> {
        let rtp = Arc::new(UdpSocket::bind(SocketAddr::new(ip, 0)).await?);
        let rtcp = Arc::new(UdpSocket::bind(SocketAddr::new(ip, 0)).await?);
        Ok(Self { rtp, rtcp })
    }

    /// Offered as a device with `codecs` (20 ms each) would be.
    fn offer(&self, codecs: &[PayloadType]) -> std::io::Result<MediaOffer> {
        Ok(MediaOffer {
            rtp: self.rtp.local_addr()?,
            rtcp_port: self.rtcp.local_addr()?.port(),
            codecs: codecs.iter().map(|pt| (*pt, 20)).collect(),
        })
    }
}

/// The system's media ends.
#[derive(Debug)]
pub struct ServiceMedia {
    echo_calls: echo::EchoCalls,
    /// The echo's sockets, served by its task.
    _echo_sockets: Pair,
    announcement: Pair,
    trunk: Pair,
    prompts: announcement::Prompts,
    streams: Mutex<HashMap<CallId, oneshot::Sender<()>>>,
    echo_task: JoinHandle<()>,
}

impl ServiceMedia {
    /// Binds every end on `ip`; returns where each receives, for call
    /// control to announce.
    pub async fn start(ip: IpAddr) -> std::io::Result<(Arc<Self>, ServiceEndpoints)> {
        let echo_pair = Pair::bind(ip).await?;
        let announcement = Pair::bind(ip).await?;
        let trunk = Pair::bind(ip).await?;
        let endpoints = ServiceEndpoints {
            echo_test: Some(echo_pair.offer(&WIDEBAND)?),
            announcement: Some(announcement.offer(&WIDEBAND)?),
            trunk: Some(trunk.offer(&NARROWBAND)?),
        };
        let echo_calls = echo::EchoCalls::default();
        let echo_task = tokio::spawn(echo::run(
            echo_pair.rtp.clone(),
            echo_pair.rtcp.clone(),
            echo_calls.clone(),
        ));
        let media = Self {
            echo_calls,
            _echo_sockets: echo_pair,
            announcement,
            trunk,
            prompts: announcement::Prompts::load(),
            streams: Mutex::new(HashMap::new()),
            echo_task,
        };
        Ok((Arc::new(media), endpoints))
    }

    /// Starts, moves or stops the system's end of `call`.
    pub fn update(&self, call: CallId, party: &Party, send_to: Option<RemoteMedia>) {
        let pair = match party {
            Party::Service(Service::EchoTest) => {
                match send_to {
                    Some(to) => self.echo_calls.start(call, to),
                    None => self.echo_calls.stop(call),
                }
                return;
            }
            Party::Service(Service::AnnouncementTest) => &self.announcement,
            Party::Trunk(_) => &self.trunk,
            Party::Device(_) => return,
        };
        let mut streams = self.streams.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(stop) = streams.remove(&call) {
            let _ = stop.send(());
        }
        if let Some(to) = send_to {
            let (stop, stop_rx) = oneshot::channel();
            let (rtp, rtcp, prompts) = (pair.rtp.clone(), pair.rtcp.clone(), self.prompts.clone());
            tokio::spawn(announcement::stream(rtp, rtcp, to, prompts, stop_rx));
            streams.insert(call, stop);
        }
    }

    /// Streams running now (for status and tests).
    pub fn streams(&self) -> usize {
        self.streams
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}

impl Drop for ServiceMedia {
    fn drop(&mut self) {
        self.echo_task.abort();
    }
}
