//! What an in-process gateway (the demo's) adds to the path view: its
//! server's port inside the company, the model's RTP range, and the SBC
//! channel carrying the client's call with its latch. Read on demand from
//! the gateway's data plane (`Sbc::stats`, a lock per channel).

use std::net::SocketAddr;
use std::sync::Arc;

use gateway::sbc::{ChannelId, LatchStatus, Sbc};

use super::model::{ChannelFacts, GatewayFacts, Latch};

/// The gateway's side, for the path view.
#[derive(Clone)]
pub struct GatewayProbe {
    sbc: Arc<Sbc>,
    hfa_port: u16,
    https_port: Option<u16>,
    rtp_range: (u16, u16),
}

impl std::fmt::Debug for GatewayProbe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GatewayProbe")
            .field("hfa_port", &self.hfa_port)
            .field("https_port", &self.https_port)
            .field("rtp_range", &self.rtp_range)
            .finish_non_exhaustive()
    }
}

impl GatewayProbe {
    /// `sbc` of a gateway whose HFA server listens on `hfa_port` inside
    /// the company and its myPortal to go server (if it runs) on
    /// `https_port`, with the RTP port range `rtp_range` forwarded 1:1.
    pub fn new(
        sbc: Arc<Sbc>,
        hfa_port: u16,
        https_port: Option<u16>,
        rtp_range: (u16, u16),
    ) -> Self {
        Self {
            sbc,
            hfa_port,
            https_port,
            rtp_range,
        }
    }

    /// The facts now, for an HFA phone or (`portal`) a myPortal to go
    /// app; the channel is the one whose public port the client's media
    /// goes to (`media_remote`).
    pub fn facts(&self, media_remote: Option<SocketAddr>, portal: bool) -> GatewayFacts {
        GatewayFacts {
            internal_port: if portal {
                self.https_port
            } else {
                Some(self.hfa_port)
            },
            rtp_range: self.rtp_range,
            channel: media_remote.and_then(|remote| self.channel(remote)),
        }
    }

    fn channel(&self, remote: SocketAddr) -> Option<ChannelFacts> {
        let id = (0..self.sbc.channels())
            .map(ChannelId)
            .find(|id| self.sbc.public_rtp(*id).port() == remote.port())?;
        let stats = self.sbc.stats();
        let channel = stats
            .channels
            .get(usize::from(id.0))
            .filter(|c| c.anchored)?;
        Some(ChannelFacts {
            number: id.0,
            latch: match channel.latch {
                LatchStatus::Idle => Latch::Idle,
                LatchStatus::Learning => Latch::Probation,
                LatchStatus::Latched { source, .. } => Latch::Latched { from: source },
            },
            device_ip: channel.device.map(|device| device.ip),
            inner_peer: channel.inner_peer.map(|(rtp, _)| rtp),
        })
    }
}
