//! [`MediaSession`]: the sans-IO engine of one RTP stream pair, both
//! directions, with its RTCP.
//!
//! The owner moves datagrams between the sockets and the session, feeds it
//! one captured frame and takes one frame for the speaker per packet time,
//! and calls [`MediaSession::handle_timeout`] when
//! [`MediaSession::poll_timeout`] says (the RTCP report interval):
//!
//! ```text
//! capture tick:  session.send_frame(now, &pcm)
//! playout tick:  session.playout(now, &mut out)      // Decoded | Concealed | Silence
//! RTP datagram:  session.handle_rtp(now, &bytes)
//! RTCP datagram: session.handle_rtcp(now, &bytes)
//! timer:         session.handle_timeout(now)
//! then:          while let Some(t) = session.poll_transmit() { send t.bytes on t.channel }
//!                while let Some(e) = session.poll_event() { ... }
//! ```

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};

use super::clock::MediaClock;
use super::codec::Codec;
use super::emodel::{self, CodecImpairment, Conditions};
use super::error::MediaError;
use super::ids::{PayloadType, Ssrc};
use super::jitter::JitterConfig;
use super::receive::Receiver;
use super::rtcp::ReportBlock;
use super::send::Sender;
use super::stats::StreamStats;

mod control;

/// RFC 3550 §6.2's minimum report interval, which two-party calls use.
pub(super) const REPORT_INTERVAL: Duration = Duration::from_secs(5);
/// Room reserved in the output buffer before writing a packet.
const MAX_PACKET: usize = 4096;
/// How much capacity the output buffer grows by, shared by many packets.
const OUT_CHUNK: usize = 64 * 1024;
/// Opus's algorithmic delay at 8 and 16 kHz (lookahead), for the
/// mouth-to-ear estimate.
const OPUS_DELAY: Duration = Duration::from_micros(6500);
/// G.722's algorithmic delay: its two 24-tap QMF banks at 16 kHz.
const G722_DELAY: Duration = Duration::from_micros(1500);

/// How one session is set up.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SessionConfig {
    /// The negotiated codec.
    pub codec: Codec,
    /// The RTP payload type of the codec (0, 8 or 111 here).
    pub payload_type: u8,
    /// Packet time: 20 ms by default, or what the peer announced.
    pub ptime: Duration,
    /// Our synchronisation source.
    pub ssrc: u32,
    /// The telephone-event payload type (101 here); `None`: no DTMF.
    pub dtmf_payload_type: Option<u8>,
    /// Jitter buffer settings.
    pub jitter: JitterConfig,
    /// Conceal lost frames (PLC, Opus FEC); `false` plays them as silence,
    /// to hear (and measure) what concealment is worth.
    pub concealment: bool,
    /// What the owner's audio path adds after the jitter buffer (a frame's
    /// wait for the sound device), for the mouth-to-ear estimate.
    pub device_delay: Duration,
}

/// The least playout delay of a stream that has lost nothing, over its
/// packets' fastest arrival. Not zero: a packet leaves when the far end's
/// device clock and media task wake, a few milliseconds late now and then;
/// without a margin for that, the first late wake-up costs a concealed
/// frame and a stretch before the delay estimate has seen it. The owner's
/// playout clock is in phase with its writes and never ahead of them, so
/// this is the whole margin: at 10 ms a debug build relaying through its
/// own SBC (the portal PESQ test) saw late packets in one call of three
/// (before a late packet stopped counting as a loss); at 12 ms none of the
/// real-time PESQ tests' clean calls saw one (session 9's runs,
/// BENCHMARKS.md), and each call's delay is 3 ms shorter than at 15.
pub const CLEAN_PATH_MIN_DELAY: Duration = Duration::from_millis(12);

impl SessionConfig {
    /// The usual settings for `codec`: its payload type, 20 ms, DTMF on
    /// payload type 101, the default jitter buffer with a least delay of
    /// [`CLEAN_PATH_MIN_DELAY`]; for Opus a packet time once a packet was
    /// lost, so that FEC finds the next packet in hand.
    pub fn new(codec: Codec, ssrc: u32) -> Self {
        let mut jitter = JitterConfig {
            min_delay: CLEAN_PATH_MIN_DELAY,
            min_delay_after_loss: CLEAN_PATH_MIN_DELAY,
            ..JitterConfig::default()
        };
        if codec.is_opus() {
            jitter.min_delay_after_loss = Duration::from_millis(20);
        }
        Self {
            codec,
            payload_type: codec.payload_type().0,
            ptime: Duration::from_millis(20),
            ssrc,
            dtmf_payload_type: Some(PayloadType::TELEPHONE_EVENT.0),
            jitter,
            concealment: true,
            device_delay: Duration::ZERO,
        }
    }
}

/// Which socket a datagram goes out on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Channel {
    /// The RTP port.
    Rtp,
    /// The RTCP port (RTP + 1).
    Rtcp,
}

/// A datagram to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transmit {
    /// Where it goes.
    pub channel: Channel,
    /// The datagram.
    pub bytes: Bytes,
}

/// Where a played frame came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FrameSource {
    /// Decoded from the frame's packet.
    Decoded,
    /// Repaired: the packet was lost or late (concealment or Opus FEC), or
    /// the jitter buffer is growing its delay.
    Concealed,
    /// Nothing to play: before the stream starts, in its pauses, after it.
    Silence,
}

/// What happened, for the session's owner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MediaEvent {
    /// The peer pressed a DTMF key (RFC 4733), reported once per press.
    Dtmf(char),
    /// The peer's stream now comes from another source (a transfer, a
    /// restarted sender); playout restarted on it.
    RemoteSsrcChanged {
        /// The source played until now.
        old: Ssrc,
        /// The source played from now on.
        new: Ssrc,
    },
    /// The peer's source said RTCP BYE: its stream has ended.
    Bye {
        /// The source leaving.
        ssrc: Ssrc,
        /// Its reason text, if any.
        reason: Option<String>,
    },
}

/// SplitMix64: the session's seeded generator (numbering, CNAME, report
/// timing), so a seed reproduces a session exactly.
#[derive(Debug, Clone)]
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// `interval` scaled by a random factor in [0.5, 1.5) (RFC 3550 §6.3.1).
    fn randomise(&mut self, interval: Duration) -> Duration {
        let unit = (self.next() >> 11) as f64 / (1u64 << 53) as f64;
        interval.mul_f64(0.5 + unit)
    }
}

/// The media engine of one call leg. See the module documentation.
#[derive(Debug)]
pub struct MediaSession {
    config: SessionConfig,
    clock: MediaClock,
    rng: Rng,
    sender: Sender,
    receiver: Receiver,
    cname: String,
    out: BytesMut,
    transmits: VecDeque<Transmit>,
    events: VecDeque<MediaEvent>,
    next_report: Instant,
    rtt: Option<Duration>,
    /// The peer's last report block about our stream.
    remote_block: Option<ReportBlock>,
    rtcp_errors: u64,
    usage_errors: u64,
    closed: bool,
}

impl MediaSession {
    /// A session starting at `now`; `seed` draws its initial sequence
    /// number and timestamp, CNAME and report timing.
    pub fn new(config: SessionConfig, now: Instant, seed: u64) -> Result<Self, MediaError> {
        config.codec.check_ptime(config.ptime)?;
        let payload_type = PayloadType(config.payload_type);
        let dtmf = config.dtmf_payload_type.map(PayloadType);
        if !payload_type.is_valid() {
            return Err(MediaError::BadPayloadType(config.payload_type));
        }
        if let Some(dtmf) = dtmf
            && (!dtmf.is_valid() || dtmf == payload_type)
        {
            return Err(MediaError::BadPayloadType(dtmf.0));
        }
        let mut rng = Rng(seed);
        let random = rng.next();
        // Truncation intended: 16 and 32 random bits.
        let (seq, ts) = (random as u16, (random >> 32) as u32);
        let sender = Sender::new(
            config.codec,
            config.ptime,
            Ssrc(config.ssrc),
            payload_type,
            dtmf,
            seq,
            ts,
        )?;
        let mut receiver = Receiver::new(
            config.codec,
            config.ptime,
            payload_type,
            dtmf,
            config.jitter,
        )?;
        receiver.set_concealment(config.concealment);
        let clock = MediaClock::new(now, 0xE000_0000 | (rng.next() as u32 & 0x0fff_ffff));
        let cname = format!("{:016x}", rng.next());
        let first_report = now + rng.randomise(REPORT_INTERVAL / 2);
        Ok(Self {
            config,
            clock,
            rng,
            sender,
            receiver,
            cname,
            out: BytesMut::with_capacity(OUT_CHUNK),
            transmits: VecDeque::new(),
            events: VecDeque::new(),
            next_report: first_report,
            rtt: None,
            remote_block: None,
            rtcp_errors: 0,
            usage_errors: 0,
            closed: false,
        })
    }

    /// The PCM sample rate of both directions: 8000 for G.711, 8000 or
    /// 16000 for Opus.
    pub fn pcm_rate(&self) -> u32 {
        self.config.codec.pcm_rate()
    }

    /// Samples in one frame: `pcm_rate` × `ptime`.
    pub fn samples_per_frame(&self) -> usize {
        self.config.codec.samples_per_frame(self.config.ptime)
    }

    /// Encodes and packetises one captured frame of
    /// [`samples_per_frame`](Self::samples_per_frame) samples (or a DTMF
    /// event packet in its place). Call once per packet time, also when
    /// muted (with silence): DTMF and timestamps run on this clock.
    pub fn send_frame(&mut self, now: Instant, pcm: &[i16]) {
        if self.closed {
            return;
        }
        self.reserve();
        match self.sender.send_frame(now, pcm, &mut self.out) {
            Ok(bytes) => self.transmits.push_back(Transmit {
                channel: Channel::Rtp,
                bytes,
            }),
            Err(_) => self.usage_errors += 1,
        }
    }

    /// Queues a DTMF digit (`0`-`9`, `*`, `#`, `A`-`D`): sent as RFC 4733
    /// events by the next calls of [`send_frame`](Self::send_frame), 100 ms
    /// each with 60 ms between digits.
    pub fn send_dtmf(&mut self, _now: Instant, digit: char) {
        if self.closed || !self.sender.push_dtmf(digit) {
            self.usage_errors += 1;
        }
    }

    /// Takes an RTP datagram from the network. Hostile bytes are counted,
    /// never fatal.
    pub fn handle_rtp(&mut self, now: Instant, packet: &[u8]) {
        if !self.closed {
            self.receiver
                .handle_rtp(&self.clock, now, packet, &mut self.events);
        }
    }

    /// Fills `out` with the frame to play now, one call per packet time on
    /// the playout clock. `out.len()` must be
    /// [`samples_per_frame`](Self::samples_per_frame) (otherwise it is
    /// filled with silence and counted as a usage error).
    pub fn playout(&mut self, now: Instant, out: &mut [i16]) -> FrameSource {
        if out.len() != self.samples_per_frame() {
            self.usage_errors += 1;
            out.fill(0);
            return FrameSource::Silence;
        }
        self.receiver.playout(now, out)
    }

    /// The next datagram to send.
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.transmits.pop_front()
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<MediaEvent> {
        self.events.pop_front()
    }

    /// Room for one more packet in the shared output buffer: one
    /// allocation per many packets, not one per packet.
    pub(super) fn reserve(&mut self) {
        if self.out.capacity() - self.out.len() < MAX_PACKET {
            self.out.reserve(OUT_CHUNK);
        }
    }

    /// The call quality figures now.
    pub fn stats(&self) -> StreamStats {
        let mut stats = StreamStats {
            sent: self.sender.packets(),
            sent_octets: self.sender.octets(),
            rtt_ms: self.rtt.map(|rtt| rtt.as_secs_f64() * 1000.0),
            remote_loss_fraction: self
                .remote_block
                .map(|b| f64::from(b.fraction_lost) / 256.0),
            remote_jitter_ms: self.remote_block.map(|b| {
                f64::from(b.jitter) * 1000.0 / f64::from(self.config.codec.rtp_clock_rate())
            }),
            rtcp_errors: self.rtcp_errors,
            usage_errors: self.usage_errors,
            ..StreamStats::default()
        };
        self.receiver.fill_stats(&mut stats);
        let codec_delay = match self.config.codec {
            Codec::Opus(_) => OPUS_DELAY,
            Codec::G722 => G722_DELAY,
            Codec::Pcma | Codec::Pcmu => Duration::ZERO,
        };
        let mouth_to_ear = self.rtt.unwrap_or_default() / 2
            + Duration::from_secs_f64(stats.playout_delay_ms.max(0.0) / 1000.0)
            + self.config.ptime
            + self.config.device_delay
            + codec_delay;
        let pattern = self.receiver.loss_pattern();
        stats.mouth_to_ear_ms = mouth_to_ear.as_secs_f64() * 1000.0;
        stats.r_factor = emodel::r_factor(&Conditions {
            codec: CodecImpairment::of(self.config.codec),
            loss_percent: pattern.loss_percent(),
            burst_ratio: pattern.burst_ratio(),
            mouth_to_ear,
        });
        stats.mos = emodel::mos(stats.r_factor);
        stats
    }
}

#[cfg(test)]
mod tests;
