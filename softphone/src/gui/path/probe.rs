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
    internal_port: u16,
    rtp_range: (u16, u16),
}

impl std::fmt::Debug for GatewayProbe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GatewayProbe")
            .field("internal_port", &self.internal_port)
            .field("rtp_range", &self.rtp_range)
            .finish_non_exhaustive()
    }
}

impl GatewayProbe {
    /// `sbc` of a gateway whose server listens on `internal_port` inside
    /// the company, with the RTP port range `rtp_range` forwarded 1:1.
    pub fn new(sbc: Arc<Sbc>, internal_port: u16, rtp_range: (u16, u16)) -> Self {
        Self {
            sbc,
            internal_port,
            rtp_range,
        }
    }

    /// The facts now; the channel is the one whose public port the
    /// client's media goes to (`media_remote`).
    pub fn facts(&self, media_remote: Option<SocketAddr>) -> GatewayFacts {
        GatewayFacts {
            internal_port: self.internal_port,
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
