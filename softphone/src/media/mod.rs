//! The phone's media: its RTP and RTCP sockets, what it announces to the
//! system (Codec Capabilities), and a call's media started and stopped as
//! the system's Set Payload says.
//!
//! RTP is symmetric (each side sends from the port it receives on), which
//! is what lets the system's SBC, and a NAT, pair the two directions.

pub mod call;
pub mod pacing;

use shared::capture::Capture;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use shared::hfa::{CodecCapabilities, CodecEntry, MediaDirection, PayloadType, SetPayload};
use shared::media::{Codec, MediaSession, OpusBandwidth, SessionConfig};
use tokio::net::UdpSocket;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::audio::{AudioBackend, AudioConfig, AudioError, PlayStart};
use call::{CallMedia, MediaReport, Peer, Sockets};

/// How often a call reports its quality figures (headless; the window's
/// quality panel asks for more).
pub const REPORT_EVERY: Duration = Duration::from_secs(2);

/// How a phone does media.
pub struct MediaOptions {
    /// Where its audio comes from and goes to.
    pub audio: Box<dyn AudioBackend>,
    /// What it offers, in its order of preference.
    pub codecs: Vec<Codec>,
    /// Local address of the RTP and RTCP sockets (port chosen by the system).
    pub bind: IpAddr,
    /// Announce this RTP address instead of the local one (a port forward
    /// or NAT mapping in front of the phone); RTCP is announced one above.
    pub advertise: Option<SocketAddr>,
    /// Conceal lost packets (the default); off, they play as silence.
    pub concealment: bool,
    /// How often a call reports its quality figures.
    pub report_every: Duration,
    /// `--capture FILE`: every call's RTP and RTCP go into it.
    pub capture: Option<Capture>,
    /// When a file played into the call starts.
    pub play_start: PlayStart,
}

impl MediaOptions {
    /// G.711 only, A-law first, on all interfaces.
    pub fn g711(audio: Box<dyn AudioBackend>) -> Self {
        Self {
            audio,
            codecs: vec![Codec::Pcma, Codec::Pcmu],
            bind: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            advertise: None,
            concealment: true,
            report_every: REPORT_EVERY,
            capture: None,
            play_start: PlayStart::AtOnce,
        }
    }
}

impl MediaOptions {
    /// Offers G.722 before G.711 (after Opus, when offered), as an HFA
    /// phone with wideband audio does; nothing changes when it is offered
    /// already.
    pub fn offer_g722(&mut self) {
        if self.codecs.contains(&Codec::G722) {
            return;
        }
        let at = self
            .codecs
            .iter()
            .position(|codec| matches!(codec, Codec::Pcma | Codec::Pcmu))
            .unwrap_or(self.codecs.len());
        self.codecs.insert(at, Codec::G722);
    }
}

/// Where and how a call's media flows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamTarget {
    /// Where RTP and RTCP go.
    pub peer: Peer,
    /// The codec chosen for this call.
    pub payload_type: u8,
    /// Packetisation time, ms.
    pub ptime_ms: u8,
}

/// A call's media that runs now.
struct Running {
    target: StreamTarget,
    stop: oneshot::Sender<()>,
    dtmf: mpsc::UnboundedSender<char>,
    sockets: mpsc::UnboundedSender<Sockets>,
    peer: mpsc::UnboundedSender<Peer>,
    task: JoinHandle<()>,
}

/// The phone's media end.
pub struct MediaPort {
    options: MediaOptions,
    rtp: Arc<UdpSocket>,
    rtcp: Arc<UdpSocket>,
    running: Option<Running>,
    reports: mpsc::UnboundedSender<MediaReport>,
}

/// Why a call's media did not start.
#[derive(Debug, thiserror::Error)]
pub enum MediaStartError {
    #[error("the system chose payload type {0}, which this phone did not offer")]
    UnofferedCodec(u8),
    #[error(transparent)]
    Session(#[from] shared::media::MediaError),
    #[error("audio: {0}")]
    Audio(#[from] AudioError),
}

impl MediaPort {
    /// Binds the RTP and RTCP sockets.
    pub async fn bind(
        options: MediaOptions,
        reports: mpsc::UnboundedSender<MediaReport>,
    ) -> std::io::Result<Self> {
        let (rtp, rtcp) = bind_pair(options.bind).await?;
        Ok(Self {
            options,
            rtp,
            rtcp,
            running: None,
            reports,
        })
    }

    /// Where the RTP socket receives.
    pub fn local_rtp(&self) -> std::io::Result<SocketAddr> {
        self.rtp.local_addr()
    }

    /// What the phone announces: every offered codec at 20 ms, at the
    /// advertised address, or its own ports with the address left for the
    /// HFA engine to fill in (its address on the signalling connection).
    pub fn capabilities(&self) -> std::io::Result<CodecCapabilities> {
        let (address, rtp_port, rtcp_port) = match self.options.advertise {
            Some(advertised) => (
                advertised.ip(),
                advertised.port(),
                advertised.port().saturating_add(1),
            ),
            None => {
                let rtp = self.rtp.local_addr()?;
                let rtcp = self.rtcp.local_addr()?;
                let address = if rtp.ip().is_unspecified() {
                    IpAddr::V4(Ipv4Addr::UNSPECIFIED)
                } else {
                    rtp.ip()
                };
                (address, rtp.port(), rtcp.port())
            }
        };
        Ok(self
            .options
            .codecs
            .iter()
            .map(|codec| CodecEntry {
                payload_type: codec.payload_type(),
                packet_ms: 20,
                silence_suppression: false,
                rtp_port,
                rtcp_port,
                address,
            })
            .collect())
    }

    /// Starts, changes or stops the call's media as the system says.
    pub fn apply(&mut self, set_payload: &SetPayload) -> Result<(), MediaStartError> {
        let wanted = set_payload.direction != MediaDirection::None && set_payload.rtp_port != 0;
        self.play(wanted.then_some(StreamTarget {
            peer: Peer {
                rtp: SocketAddr::new(set_payload.address, set_payload.rtp_port),
                rtcp: SocketAddr::new(set_payload.address, set_payload.rtcp_port),
            },
            payload_type: set_payload.payload_type.0,
            ptime_ms: set_payload.packet_ms,
        }))
    }

    /// Runs the call's media towards `target`, or stops it (`None`); a
    /// target that did not change leaves the running media alone, and one
    /// that only moved (the system re-anchored the call) redirects it: the
    /// same session and audio go on, so nothing restarts mid-call.
    pub fn play(&mut self, target: Option<StreamTarget>) -> Result<(), MediaStartError> {
        if let (Some(running), Some(target)) = (&mut self.running, target) {
            if running.target == target {
                return Ok(()); // nothing changed
            }
            if running.target.payload_type == target.payload_type
                && running.target.ptime_ms == target.ptime_ms
                && running.peer.send(target.peer).is_ok()
            {
                running.target = target;
                let _ = self.reports.send(MediaReport::Redirected {
                    remote: target.peer.rtp,
                });
                return Ok(());
            }
        }
        self.stop();
        let Some(target) = target else {
            return Ok(());
        };
        let codec = self.codec_for(PayloadType(target.payload_type))?;
        let mut config = SessionConfig::new(codec, rand_ssrc());
        config.ptime = Duration::from_millis(u64::from(target.ptime_ms.max(10)));
        config.concealment = self.options.concealment;
        // A played-out frame is written this long before the device's next
        // pull (pacing.rs), a little longer while wake-ups run late.
        config.device_delay = pacing::MIN_LEAD;
        let session = MediaSession::new(config, std::time::Instant::now(), u64::from(rand_ssrc()))?;
        let audio = self.options.audio.start(AudioConfig {
            play_start: self.options.play_start,
            ..AudioConfig::for_rate(session.pcm_rate())
        })?;
        let media = CallMedia {
            session,
            sockets: Sockets {
                rtp: self.rtp.clone(),
                rtcp: self.rtcp.clone(),
            },
            peer: target.peer,
            audio,
            ptime: config.ptime,
            report_every: self.options.report_every,
            capture: self.options.capture.clone(),
        };
        let (stop, stop_rx) = oneshot::channel();
        let (dtmf, dtmf_rx) = mpsc::unbounded_channel();
        let (sockets, sockets_rx) = mpsc::unbounded_channel();
        let (peer, peer_rx) = mpsc::unbounded_channel();
        let _ = self.reports.send(MediaReport::Started {
            remote: target.peer.rtp,
            codec: codec.name().to_owned(),
        });
        let controls = call::Controls {
            stop: stop_rx,
            dtmf: dtmf_rx,
            sockets: sockets_rx,
            peer: peer_rx,
        };
        let task = tokio::spawn(call::run(media, self.reports.clone(), controls));
        self.running = Some(Running {
            target,
            stop,
            dtmf,
            sockets,
            peer,
            task,
        });
        Ok(())
    }

    /// Moves the RTP and RTCP sockets to `ip` (the device changed
    /// network); a running call's media goes on from the new sockets.
    /// Returns the new RTP address.
    pub async fn rebind(&mut self, ip: IpAddr) -> std::io::Result<SocketAddr> {
        let (rtp, rtcp) = bind_pair(ip).await?;
        let local = rtp.local_addr()?;
        self.options.bind = ip;
        self.rtp = rtp;
        self.rtcp = rtcp;
        if let Some(running) = &self.running {
            let _ = running.sockets.send(Sockets {
                rtp: self.rtp.clone(),
                rtcp: self.rtcp.clone(),
            });
            let _ = self.reports.send(MediaReport::Moved { local });
        }
        Ok(local)
    }

    /// Whether a call's media runs.
    pub fn is_running(&self) -> bool {
        self.running.is_some()
    }

    /// The local address the sockets are bound to.
    pub fn bind_address(&self) -> IpAddr {
        self.options.bind
    }

    /// The RTP address to announce: the advertised one, if any.
    pub fn advertised(&self) -> Option<SocketAddr> {
        self.options.advertise
    }

    /// Sends `digit` in the media as an RFC 4733 telephone event, if a
    /// call's media runs.
    pub fn send_dtmf(&self, digit: char) {
        if let Some(running) = &self.running {
            let _ = running.dtmf.send(digit);
        }
    }

    /// Stops the call's media, if any runs.
    pub fn stop(&mut self) {
        if let Some(running) = self.running.take() {
            let _ = running.stop.send(());
            drop(running.task);
        }
    }

    fn codec_for(&self, payload_type: PayloadType) -> Result<Codec, MediaStartError> {
        self.options
            .codecs
            .iter()
            .copied()
            .find(|codec| codec.payload_type().0 == payload_type.0)
            .ok_or(MediaStartError::UnofferedCodec(payload_type.0))
    }
}

impl Drop for MediaPort {
    fn drop(&mut self) {
        self.stop();
    }
}

/// How many system-chosen ports to try for an even RTP port with its RTCP
/// port free above it.
const PAIR_ATTEMPTS: usize = 64;

/// RTP on an even port and RTCP on the next one (RFC 3550, 11): the
/// myPortal to go API announces only the RTP address, RTCP being one above.
async fn bind_pair(ip: IpAddr) -> std::io::Result<(Arc<UdpSocket>, Arc<UdpSocket>)> {
    for _ in 0..PAIR_ATTEMPTS {
        let rtp = UdpSocket::bind(SocketAddr::new(ip, 0)).await?;
        let port = rtp.local_addr()?.port();
        if port % 2 != 0 || port == u16::MAX {
            continue;
        }
        if let Ok(rtcp) = UdpSocket::bind(SocketAddr::new(ip, port + 1)).await {
            return Ok((Arc::new(rtp), Arc::new(rtcp)));
        }
    }
    Err(std::io::Error::new(
        std::io::ErrorKind::AddrInUse,
        format!("no free RTP/RTCP port pair on {ip} after {PAIR_ATTEMPTS} tries"),
    ))
}

/// A random SSRC (RFC 3550 wants it unpredictable across sessions).
fn rand_ssrc() -> u32 {
    rand::random()
}

/// The codec this softphone offers for Opus.
pub const OPUS: Codec = Codec::Opus(OpusBandwidth::Wideband);

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn rtp_takes_an_even_port_and_rtcp_the_next_one() {
        for _ in 0..8 {
            let (rtp, rtcp) = bind_pair(IpAddr::V4(Ipv4Addr::LOCALHOST))
                .await
                .expect("a pair");
            let rtp = rtp.local_addr().expect("rtp").port();
            assert_eq!(rtp % 2, 0);
            assert_eq!(rtcp.local_addr().expect("rtcp").port(), rtp + 1);
        }
    }

    #[test]
    fn g722_goes_after_opus_and_before_g711_once() {
        let mut options = MediaOptions::g711(Box::new(crate::audio::NullBackend));
        options.offer_g722();
        assert_eq!(options.codecs, [Codec::G722, Codec::Pcma, Codec::Pcmu]);
        options.codecs = vec![OPUS, Codec::Pcma, Codec::Pcmu];
        options.offer_g722();
        options.offer_g722();
        assert_eq!(
            options.codecs,
            [OPUS, Codec::G722, Codec::Pcma, Codec::Pcmu]
        );
    }

    #[test]
    fn openstage_phones_are_wideband() {
        use crate::hfa::account::has_g722;
        use shared::hfa::PhoneId;
        assert!(has_g722(PhoneId::OPENSTAGE_40) && has_g722(PhoneId::OPENSTAGE_60));
        assert!(!has_g722(PhoneId::DESKPHONE_IP_55));
    }
}
