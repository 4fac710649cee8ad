//! Call quality figures of one stream pair, and the loss pattern the
//! E-model needs.

use super::ids::Ssrc;

/// Counters and derived figures of a [`MediaSession`](super::MediaSession):
/// what we sent, what we received and played, and what the peer reports.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StreamStats {
    /// RTP packets sent (audio and telephone-events).
    pub sent: u64,
    /// Payload octets sent.
    pub sent_octets: u64,
    /// RTP packets received, each counted once.
    pub received: u64,
    /// Packets lost (RFC 3550: expected minus received), all sources.
    pub lost: u64,
    /// Packets that came after their frame was played or concealed.
    pub late: u64,
    /// Packets received more than once (the extra copies).
    pub duplicates: u64,
    /// Valid RTP we could not use: another payload type, another packet
    /// size, a source not (yet) accepted, outside the stream's timeline.
    pub discarded: u64,
    /// Frames played from a packet.
    pub played: u64,
    /// Frames of a missing packet, concealed or rebuilt from FEC (also the
    /// 60 ms concealed when a stream pauses or ends, before silence).
    pub concealed: u64,
    /// Of `concealed`, frames Opus rebuilt from the next packet's FEC.
    pub fec_recovered: u64,
    /// Concealed frames played to grow the playout delay.
    pub stretched: u64,
    /// Frames dropped to shrink the playout delay.
    pub dropped: u64,
    /// Times the sound device wanted the next frame before it was written
    /// and played silence instead (a playout underrun: the scheduler held
    /// the media task up). Counted by whoever drives a device (the
    /// softphone's media task); 0 where none plays the stream.
    pub underruns: u64,
    /// `lost` over packets expected, 0 to 1.
    pub loss_fraction: f64,
    /// Interarrival jitter of the received stream (RFC 3550 §A.8), ms.
    pub jitter_ms: f64,
    /// Round-trip time from the peer's last report; `None` before one.
    pub rtt_ms: Option<f64>,
    /// How long a frame waits in the jitter buffer beyond the fastest
    /// path, ms.
    pub playout_delay_ms: f64,
    /// The playout delay the jitter buffer aims for, ms.
    pub target_delay_ms: f64,
    /// Loss of our stream over the peer's last report interval, 0 to 1.
    pub remote_loss_fraction: Option<f64>,
    /// Jitter of our stream as the peer measures it, ms.
    pub remote_jitter_ms: Option<f64>,
    /// Estimated one-way mouth-to-ear delay used for the MOS, ms.
    pub mouth_to_ear_ms: f64,
    /// G.107 transmission rating.
    pub r_factor: f64,
    /// Estimated MOS (G.107 E-model), 1 to 4.5.
    pub mos: f64,
    /// RTP datagrams that did not parse, and payloads that did not decode.
    pub rtp_errors: u64,
    /// RTCP datagrams that did not parse.
    pub rtcp_errors: u64,
    /// Local misuse: a PCM buffer of the wrong length, a character that is
    /// not a DTMF digit, a frame the encoder refused.
    pub usage_errors: u64,
    /// Times the remote source changed.
    pub ssrc_changes: u64,
    /// The remote source being played.
    pub remote_ssrc: Option<Ssrc>,
}

/// The pattern of frames lost to the listener, as a two-state Markov chain
/// (G.107 §7.5 BurstR = 1 / (p + q)).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LossPattern {
    frames: u64,
    lost: u64,
    /// Transitions out of a received frame, and into a loss.
    from_good: u64,
    good_to_lost: u64,
    /// Transitions out of a lost frame, and into a received one.
    from_lost: u64,
    lost_to_good: u64,
    previous: Option<bool>,
}

impl LossPattern {
    /// Records one frame of speech, lost or not.
    pub fn record(&mut self, lost: bool) {
        self.frames += 1;
        self.lost += u64::from(lost);
        match self.previous {
            Some(false) => {
                self.from_good += 1;
                self.good_to_lost += u64::from(lost);
            }
            Some(true) => {
                self.from_lost += 1;
                self.lost_to_good += u64::from(!lost);
            }
            None => {}
        }
        self.previous = Some(lost);
    }

    /// Lost frames, % of frames.
    pub fn loss_percent(&self) -> f64 {
        if self.frames == 0 {
            0.0
        } else {
            100.0 * self.lost as f64 / self.frames as f64
        }
    }

    /// BurstR: 1 for random loss, above 1 for bursty loss.
    pub fn burst_ratio(&self) -> f64 {
        if self.from_good == 0 || self.from_lost == 0 {
            return 1.0;
        }
        let p = self.good_to_lost as f64 / self.from_good as f64;
        let q = self.lost_to_good as f64 / self.from_lost as f64;
        if p + q > 0.0 { 1.0 / (p + q) } else { 1.0 }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_loss_has_a_burst_ratio_near_one_and_bursts_above() {
        let mut random = LossPattern::default();
        let mut bursty = LossPattern::default();
        for i in 0..10_000u64 {
            // Every 20th frame lost, alone...
            random.record(i % 20 == 0);
            // ...or in bursts of 4 every 80 frames.
            bursty.record(i % 80 < 4);
        }
        assert!((random.loss_percent() - 5.0).abs() < 0.01);
        assert!((bursty.loss_percent() - 5.0).abs() < 0.01);
        assert!(
            (random.burst_ratio() - 1.0).abs() < 0.06,
            "{}",
            random.burst_ratio()
        );
        assert!(bursty.burst_ratio() > 3.5, "{}", bursty.burst_ratio());
        assert_eq!(LossPattern::default().burst_ratio(), 1.0);
        assert_eq!(LossPattern::default().loss_percent(), 0.0);
    }
}
