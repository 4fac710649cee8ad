//! The receiving half of a media session: accepts the remote source
//! (switching sources only after two packets in sequence, RFC 3550 §A.1
//! probation), counts what arrives, feeds the jitter buffer, turns
//! telephone-events into digits, and decodes or repairs one frame per
//! playout tick.

use std::time::{Duration, Instant};

use super::clock::MediaClock;
use super::codec::Codec;
use super::coder::{Decoder, Repair};
use super::dtmf::{DtmfReceiver, TelephoneEvent};
use super::error::MediaError;
use super::ids::{PayloadType, Ssrc};
use super::jitter::{JitterBuffer, JitterConfig, Pop};
use super::reception::{Arrival, Reception};
use super::rtp::{self, RtpPacket};
use super::session::{FrameSource, MediaEvent};
use super::stats::{LossPattern, StreamStats};

/// Events a packet gave rise to.
type Events = std::collections::VecDeque<MediaEvent>;

/// After switching sources, packets of the old one are ignored this long
/// (stragglers must not switch back).
const OLD_SOURCE_HOLD: Duration = Duration::from_secs(2);

/// Receiver state of one session.
#[derive(Debug)]
pub struct Receiver {
    codec: Codec,
    payload_type: PayloadType,
    dtmf_payload_type: Option<PayloadType>,
    samples_per_frame: usize,
    jitter: JitterBuffer,
    decoder: Decoder,
    dtmf: DtmfReceiver,
    /// The source being played.
    reception: Option<Reception>,
    /// A new source on probation: its SSRC, first sequence number, and
    /// the bytes of its first packet.
    candidate: Option<(Ssrc, u16)>,
    candidate_packet: Vec<u8>,
    /// The source we switched away from, ignored until the instant.
    previous: Option<(Ssrc, Instant)>,
    /// Loss and reception of sources no longer played.
    lost_before: u64,
    expected_before: u64,
    received_before: u64,
    loss: LossPattern,
    /// Counters kept here rather than in the jitter buffer.
    duplicates: u64,
    discarded: u64,
    played: u64,
    concealed: u64,
    /// Conceal lost frames (the default), or play them as silence.
    concealment: bool,
    fec_recovered: u64,
    rtp_errors: u64,
    ssrc_changes: u64,
}

impl Receiver {
    /// A receiver of `codec` at `payload_type` in frames of `ptime`.
    pub fn new(
        codec: Codec,
        ptime: Duration,
        payload_type: PayloadType,
        dtmf_payload_type: Option<PayloadType>,
        jitter: JitterConfig,
    ) -> Result<Self, MediaError> {
        Ok(Self {
            codec,
            payload_type,
            dtmf_payload_type,
            samples_per_frame: codec.samples_per_frame(ptime),
            jitter: JitterBuffer::new(
                jitter,
                codec.rtp_clock_rate(),
                codec.timestamp_per_frame(ptime),
            )?,
            decoder: Decoder::new(codec)?,
            dtmf: DtmfReceiver::default(),
            reception: None,
            candidate: None,
            candidate_packet: Vec::new(),
            previous: None,
            lost_before: 0,
            expected_before: 0,
            received_before: 0,
            loss: LossPattern::default(),
            duplicates: 0,
            discarded: 0,
            played: 0,
            concealed: 0,
            concealment: true,
            fec_recovered: 0,
            rtp_errors: 0,
            ssrc_changes: 0,
        })
    }

    /// The source being played and its statistics.
    pub fn reception(&mut self) -> Option<&mut Reception> {
        self.reception.as_mut()
    }

    /// The remote source being played.
    pub fn remote_ssrc(&self) -> Option<Ssrc> {
        self.reception.as_ref().map(Reception::ssrc)
    }

    /// Handles one RTP datagram from the network.
    pub fn handle_rtp(
        &mut self,
        clock: &MediaClock,
        now: Instant,
        bytes: &[u8],
        events: &mut Events,
    ) {
        let Ok(packet) = rtp::parse(bytes) else {
            self.rtp_errors += 1;
            return;
        };
        let ssrc = packet.header.ssrc;
        match self.remote_ssrc() {
            None => self.start_source(&packet),
            Some(current) if current == ssrc => {}
            Some(current) => return self.probation(clock, now, current, &packet, bytes, events),
        }
        self.accept(clock, now, &packet, events);
    }

    /// A packet from another source than the one played.
    fn probation(
        &mut self,
        clock: &MediaClock,
        now: Instant,
        current: Ssrc,
        packet: &RtpPacket<'_>,
        bytes: &[u8],
        events: &mut Events,
    ) {
        let ssrc = packet.header.ssrc;
        let seq = packet.header.sequence;
        let held_off = self
            .previous
            .is_some_and(|(old, until)| old == ssrc && now < until);
        let confirmed = self
            .candidate
            .is_some_and(|(s, first)| s == ssrc && first.wrapping_add(1) == seq);
        if held_off || !confirmed {
            if !held_off {
                self.candidate = Some((ssrc, seq));
                self.candidate_packet.clear();
                self.candidate_packet.extend_from_slice(bytes);
            }
            self.discarded += 1;
            return;
        }
        // Switch: retire the old source, then play both probation packets.
        if let Some(old) = self.reception.take() {
            self.lost_before += old.lost();
            self.expected_before += old.expected();
            self.received_before += old.received();
        }
        self.previous = Some((current, now + OLD_SOURCE_HOLD));
        self.candidate = None;
        self.jitter.reset();
        self.decoder.reset();
        self.dtmf.reset();
        self.ssrc_changes += 1;
        self.discarded = self.discarded.saturating_sub(1);
        events.push_back(MediaEvent::RemoteSsrcChanged {
            old: current,
            new: ssrc,
        });
        let first = std::mem::take(&mut self.candidate_packet);
        match rtp::parse(&first) {
            Ok(first_packet) => {
                self.start_source(&first_packet);
                self.accept(clock, now, &first_packet, events);
            }
            Err(_) => self.start_source(packet),
        }
        self.candidate_packet = first;
        self.accept(clock, now, packet, events);
    }

    fn start_source(&mut self, packet: &RtpPacket<'_>) {
        self.reception = Some(Reception::new(
            packet.header.ssrc,
            self.codec.rtp_clock_rate(),
            packet.header.sequence,
        ));
    }

    /// A packet of the source played.
    fn accept(
        &mut self,
        clock: &MediaClock,
        now: Instant,
        packet: &RtpPacket<'_>,
        events: &mut Events,
    ) {
        let header = packet.header;
        let is_dtmf = self.dtmf_payload_type == Some(header.payload_type);
        if !is_dtmf && header.payload_type != self.payload_type {
            self.discarded += 1;
            return;
        }
        let Some(reception) = self.reception.as_mut() else {
            return;
        };
        match reception.on_packet(clock, now, header.sequence, header.timestamp, !is_dtmf) {
            Arrival::New => {}
            Arrival::Duplicate => {
                self.duplicates += 1;
                return;
            }
            // The jitter buffer runs its own probation on audio.
            Arrival::OutOfSequence if !is_dtmf => {
                self.jitter
                    .insert(now, header.sequence, header.timestamp, packet.payload);
                return;
            }
            Arrival::OutOfSequence => {
                self.discarded += 1;
                return;
            }
        }
        if is_dtmf {
            let Ok(event) = TelephoneEvent::parse(packet.payload) else {
                self.rtp_errors += 1;
                return;
            };
            self.jitter
                .mark_silent(header.timestamp, u32::from(event.duration));
            if let Some(digit) = self.dtmf.receive(header.timestamp, &event) {
                events.push_back(MediaEvent::Dtmf(digit));
            }
            return;
        }
        if self.decoder.payload_samples(packet.payload) != self.samples_per_frame {
            self.discarded += 1;
            return;
        }
        // The buffer counts what it does not keep.
        self.jitter
            .insert(now, header.sequence, header.timestamp, packet.payload);
    }

    /// Fills `out` (one frame) for the playout tick at `now`.
    /// Turns loss concealment off (lost frames play as silence) or on.
    pub fn set_concealment(&mut self, on: bool) {
        self.concealment = on;
    }

    pub fn playout(&mut self, now: Instant, out: &mut [i16]) -> FrameSource {
        // A missing frame with packets after it is a loss; with none, the
        // stream may have paused or ended, which the E-model must not count.
        let evidence = !self.jitter.is_empty();
        match self.jitter.pop(now) {
            Pop::Frame(payload) => {
                if self.decoder.decode(payload, out).is_ok() {
                    self.played += 1;
                    self.loss.record(false);
                    FrameSource::Decoded
                } else {
                    self.rtp_errors += 1;
                    self.decoder.conceal(None, out);
                    self.concealed += 1;
                    self.loss.record(true);
                    FrameSource::Concealed
                }
            }
            Pop::Missing { .. } if !self.concealment => {
                // Zero-fill: what loss sounds like without concealment (a
                // QA comparison, never the default).
                out.fill(0);
                self.concealed += 1;
                if evidence {
                    self.loss.record(true);
                }
                FrameSource::Concealed
            }
            Pop::Missing { next } => {
                let repair = self.decoder.conceal(next, out);
                self.concealed += 1;
                if repair == Repair::Recovered {
                    self.fec_recovered += 1;
                }
                if evidence {
                    self.loss.record(repair == Repair::Concealed);
                }
                FrameSource::Concealed
            }
            Pop::Stretch => {
                self.decoder.conceal(None, out);
                FrameSource::Concealed
            }
            Pop::Silence => {
                self.decoder.silence(out);
                FrameSource::Silence
            }
        }
    }

    /// Fills the receive side of `stats`.
    pub fn fill_stats(&self, stats: &mut StreamStats) {
        let jitter = self.jitter.stats();
        let (lost, expected, received, jitter_units) =
            self.reception.as_ref().map_or((0, 0, 0, 0.0), |r| {
                (r.lost(), r.expected(), r.received(), r.jitter())
            });
        stats.received = self.received_before + received;
        stats.lost = self.lost_before + lost;
        let expected = self.expected_before + expected;
        stats.loss_fraction = if expected == 0 {
            0.0
        } else {
            stats.lost as f64 / expected as f64
        };
        stats.late = jitter.late;
        stats.duplicates = self.duplicates + jitter.duplicates;
        stats.discarded = self.discarded + jitter.discarded;
        stats.played = self.played;
        stats.concealed = self.concealed;
        stats.fec_recovered = self.fec_recovered;
        stats.stretched = jitter.stretched;
        stats.dropped = jitter.dropped;
        stats.jitter_ms = jitter_units * 1000.0 / f64::from(self.codec.rtp_clock_rate());
        stats.playout_delay_ms = self.jitter.current_delay().as_secs_f64() * 1000.0;
        stats.target_delay_ms = self.jitter.target_delay().as_secs_f64() * 1000.0;
        stats.rtp_errors = self.rtp_errors;
        stats.ssrc_changes = self.ssrc_changes;
        stats.remote_ssrc = self.remote_ssrc();
    }

    /// The loss pattern the listener heard.
    pub fn loss_pattern(&self) -> &LossPattern {
        &self.loss
    }
}
