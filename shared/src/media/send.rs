//! The sending half of a media session: encodes captured frames and
//! packetises them (RFC 3550 sequence numbers, timestamps, SSRC, marker),
//! sending RFC 4733 telephone-events instead of audio while a digit plays.

use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};

use super::codec::Codec;
use super::coder::Encoder;
use super::dtmf::DtmfSender;
use super::error::{CodecError, EncodeError, MediaError};
use super::ids::{PayloadType, Ssrc};
use super::rtcp::SenderInfo;
use super::rtp::{self, RtpHeader};

/// How long a DTMF digit sounds, and the least pause after it.
const DTMF_TONE: Duration = Duration::from_millis(100);
const DTMF_GAP: Duration = Duration::from_millis(60);

/// Sender state of one session.
#[derive(Debug)]
pub struct Sender {
    ssrc: Ssrc,
    payload_type: PayloadType,
    dtmf_payload_type: Option<PayloadType>,
    encoder: Encoder,
    /// Reused encoder output.
    payload: Vec<u8>,
    samples_per_frame: usize,
    frame_ts: u32,
    clock_rate: u32,
    /// Next packet's sequence number and next frame's timestamp.
    seq: u16,
    ts: u32,
    /// The next audio packet starts a talkspurt.
    marker: bool,
    dtmf: DtmfSender,
    /// The last frame's timestamp and when it was captured (for SR).
    last_frame: Option<(u32, Instant)>,
    packets: u64,
    octets: u64,
    sent_since_report: bool,
}

impl Sender {
    /// A sender whose first sequence number and timestamp are `seq`, `ts`
    /// (random, RFC 3550 §5.1).
    pub fn new(
        codec: Codec,
        ptime: Duration,
        ssrc: Ssrc,
        payload_type: PayloadType,
        dtmf_payload_type: Option<PayloadType>,
        seq: u16,
        ts: u32,
    ) -> Result<Self, MediaError> {
        let frame_ts = codec.timestamp_per_frame(ptime);
        let ms = |d: Duration| u32::try_from(d.as_millis()).unwrap_or(u32::MAX);
        let tone = codec.rtp_clock_rate() / 1000 * ms(DTMF_TONE);
        let gap = ms(DTMF_GAP).div_ceil(ms(ptime).max(1));
        Ok(Self {
            ssrc,
            payload_type,
            dtmf_payload_type,
            encoder: Encoder::new(codec)?,
            payload: Vec::with_capacity(codec.samples_per_frame(ptime)),
            samples_per_frame: codec.samples_per_frame(ptime),
            frame_ts,
            clock_rate: codec.rtp_clock_rate(),
            seq,
            ts,
            marker: true,
            dtmf: DtmfSender::new(tone, gap),
            last_frame: None,
            packets: 0,
            octets: 0,
            sent_since_report: false,
        })
    }

    /// Packets sent.
    pub fn packets(&self) -> u64 {
        self.packets
    }

    /// Payload octets sent.
    pub fn octets(&self) -> u64 {
        self.octets
    }

    /// Queues a DTMF digit; false when `digit` is not one or the session
    /// has no telephone-event payload type.
    pub fn push_dtmf(&mut self, digit: char) -> bool {
        self.dtmf_payload_type.is_some() && self.dtmf.push(digit)
    }

    /// Tells the encoder what loss the peer reports, in %.
    pub fn set_expected_loss(&mut self, percent: u8) -> Result<(), CodecError> {
        self.encoder.set_expected_loss(percent)
    }

    /// Packetises one captured frame into `out` and returns the packet: a
    /// telephone-event while a digit plays, audio otherwise.
    pub fn send_frame(
        &mut self,
        now: Instant,
        pcm: &[i16],
        out: &mut BytesMut,
    ) -> Result<Bytes, SendError> {
        if pcm.len() != self.samples_per_frame {
            return Err(CodecError::FrameLength {
                expected: self.samples_per_frame,
                actual: pcm.len(),
            }
            .into());
        }
        let ts = self.ts;
        self.ts = self.ts.wrapping_add(self.frame_ts);
        self.last_frame = Some((ts, now));
        let (header, payload_len) =
            match (self.dtmf.tick(ts, self.frame_ts), self.dtmf_payload_type) {
                (Some(event), Some(payload_type)) => {
                    let header = RtpHeader {
                        marker: event.marker,
                        payload_type,
                        sequence: self.seq,
                        timestamp: event.timestamp,
                        ssrc: self.ssrc,
                    };
                    rtp::write(&header, &event.event.to_bytes(), out)?;
                    (header, 4)
                }
                _ => {
                    self.encoder.encode(pcm, &mut self.payload)?;
                    let header = RtpHeader {
                        marker: std::mem::take(&mut self.marker),
                        payload_type: self.payload_type,
                        sequence: self.seq,
                        timestamp: ts,
                        ssrc: self.ssrc,
                    };
                    rtp::write(&header, &self.payload, out)?;
                    (header, self.payload.len())
                }
            };
        self.seq = header.sequence.wrapping_add(1);
        self.packets += 1;
        self.octets += payload_len as u64;
        self.sent_since_report = true;
        Ok(out.split().freeze())
    }

    /// The sender information for a report at `now`, when we sent since
    /// the previous one (which makes the report an SR).
    pub fn report(&mut self, now: Instant, ntp: super::clock::NtpTime) -> Option<SenderInfo> {
        let (ts, at) = self.last_frame?;
        if !std::mem::take(&mut self.sent_since_report) {
            return None;
        }
        // The RTP time of `now`, extrapolated from the last frame.
        let elapsed =
            now.saturating_duration_since(at).as_micros() * u128::from(self.clock_rate) / 1_000_000;
        // Truncation intended: RTP time wraps at 32 bits.
        let rtp_timestamp = ts.wrapping_add(elapsed as u32);
        Some(SenderInfo {
            ntp,
            rtp_timestamp,
            // Truncation intended: the counters wrap at 32 bits on the wire.
            packet_count: self.packets as u32,
            octet_count: self.octets as u32,
        })
    }
}

/// Why a frame was not sent.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// The frame or the encoder.
    #[error(transparent)]
    Codec(#[from] CodecError),
    /// The packet writer.
    #[error(transparent)]
    Encode(#[from] EncodeError),
}
