//! Estimated call quality: the ITU-T G.107 E-model, reduced to what a
//! media stream can measure.
//!
//! `R = 93.2 − Idd − Ie,eff`: 93.2 is G.107's rating with every default
//! (no noise, no echo: the phones cancel echo), `Idd` the impairment of the
//! mouth-to-ear delay `Ta` (G.107 §7.4, with `T = Ta` and no echo term),
//! `Ie,eff` the codec's equipment impairment `Ie` raised by packet loss
//! `Ppl` (in %), its robustness `Bpl` and its burstiness `BurstR`:
//! `Ie,eff = Ie + (95 − Ie) · Ppl / (Ppl/BurstR + Bpl)`. R maps to MOS as
//! G.107 Annex B does.

use std::time::Duration;

use super::codec::Codec;

/// How a codec resists loss (ITU-T G.113 Appendix I values where they
/// exist).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CodecImpairment {
    /// Equipment impairment without loss.
    pub ie: f64,
    /// Packet-loss robustness.
    pub bpl: f64,
}

impl CodecImpairment {
    /// G.711 with Appendix I concealment (G.113: Ie 0, Bpl 25.1).
    pub const G711_PLC: Self = Self { ie: 0.0, bpl: 25.1 };
    /// G.711 without concealment (G.113: Ie 0, Bpl 4.3).
    pub const G711: Self = Self { ie: 0.0, bpl: 4.3 };
    /// Opus: G.113 lists no values, so these are ours. Narrowband at
    /// 24 kbit/s is near-transparent but lossy at three eighths of G.711's
    /// rate (Ie 5); wideband cannot rate above G.711 on this narrowband
    /// scale (Ie 0; G.107.1 would be needed to credit it). Opus PLC is
    /// taken as robust as G.711 Appendix I (Bpl 25). Frames FEC recovered
    /// are not counted as lost, so Bpl does not model FEC.
    pub const OPUS_NB: Self = Self { ie: 5.0, bpl: 25.0 };
    /// See [`Self::OPUS_NB`].
    pub const OPUS_WB: Self = Self { ie: 0.0, bpl: 25.0 };
    /// G.722 concealed by the same Appendix I style concealer as G.711
    /// (at 16 kHz): G.113's narrowband scale lists no G.722, so, as for
    /// wideband Opus, Ie 0 and G.711's robustness with concealment.
    pub const G722_PLC: Self = Self { ie: 0.0, bpl: 25.1 };

    /// The values this project uses for `codec` (all its decoders conceal).
    pub fn of(codec: Codec) -> Self {
        match codec {
            Codec::Pcma | Codec::Pcmu => Self::G711_PLC,
            Codec::G722 => Self::G722_PLC,
            Codec::Opus(super::codec::OpusBandwidth::Narrowband) => Self::OPUS_NB,
            Codec::Opus(super::codec::OpusBandwidth::Wideband) => Self::OPUS_WB,
        }
    }
}

/// What the E-model needs to know about a stream.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Conditions {
    /// The codec's loss behaviour.
    pub codec: CodecImpairment,
    /// Frames lost to the listener (lost or late, not recovered), %.
    pub loss_percent: f64,
    /// Mean loss burst length over that of random loss (1: random).
    pub burst_ratio: f64,
    /// One-way mouth-to-ear delay.
    pub mouth_to_ear: Duration,
}

/// G.107 rating without loss or delay, with default parameters.
pub const R_DEFAULT: f64 = 93.2;

/// G.107 §7.4 Idd: the impairment of a one-way delay of `ta_ms`.
pub fn delay_impairment(ta_ms: f64) -> f64 {
    if ta_ms <= 100.0 {
        return 0.0;
    }
    let x = (ta_ms / 100.0).log2();
    25.0 * ((1.0 + x.powi(6)).powf(1.0 / 6.0) - 3.0 * (1.0 + (x / 3.0).powi(6)).powf(1.0 / 6.0)
        + 2.0)
}

/// G.107 §7.5 Ie,eff.
pub fn effective_equipment_impairment(
    codec: CodecImpairment,
    loss_percent: f64,
    burst_ratio: f64,
) -> f64 {
    let ppl = loss_percent.clamp(0.0, 100.0);
    let burst = burst_ratio.max(f64::MIN_POSITIVE);
    let denominator = ppl / burst + codec.bpl;
    if denominator <= 0.0 {
        return codec.ie;
    }
    codec.ie + (95.0 - codec.ie) * ppl / denominator
}

/// The transmission rating R.
pub fn r_factor(conditions: &Conditions) -> f64 {
    let ta_ms = conditions.mouth_to_ear.as_secs_f64() * 1000.0;
    R_DEFAULT
        - delay_impairment(ta_ms)
        - effective_equipment_impairment(
            conditions.codec,
            conditions.loss_percent,
            conditions.burst_ratio,
        )
}

/// G.107 Annex B: R to the estimated MOS (1 to 4.5). The polynomial dips
/// just below 1 for R under 6.5; the result is kept at 1 there.
pub fn mos(r: f64) -> f64 {
    if r <= 0.0 {
        1.0
    } else if r >= 100.0 {
        4.5
    } else {
        (1.0 + 0.035 * r + r * (r - 60.0) * (100.0 - r) * 7e-6).max(1.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn g711(loss: f64, burst: f64, ms: u64) -> f64 {
        r_factor(&Conditions {
            codec: CodecImpairment::G711_PLC,
            loss_percent: loss,
            burst_ratio: burst,
            mouth_to_ear: Duration::from_millis(ms),
        })
    }

    #[test]
    fn reference_points() {
        assert!((mos(93.2) - 4.41).abs() < 0.005, "{}", mos(93.2));
        assert_eq!(mos(-5.0), 1.0);
        assert_eq!(mos(120.0), 4.5);
        assert_eq!(mos(3.0), 1.0);
        assert!((mos(50.0) - 2.58).abs() < 0.01, "{}", mos(50.0));
        assert!((g711(0.0, 1.0, 50) - 93.2).abs() < 1e-9);
        assert!((mos(g711(0.0, 1.0, 80)) - 4.41).abs() < 0.01);
        // G.107 Idd at 200 and 400 ms.
        assert!((delay_impairment(200.0) - 3.04).abs() < 0.01);
        assert!((delay_impairment(400.0) - 24.1).abs() < 0.1);
        // 1 % random loss with PLC: Ie,eff = 95 / 26.1.
        assert!(
            (effective_equipment_impairment(CodecImpairment::G711_PLC, 1.0, 1.0) - 3.64).abs()
                < 0.01
        );
    }

    #[test]
    fn quality_falls_with_loss_burstiness_and_delay() {
        let mut last = f64::MAX;
        for loss in [0.0, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0] {
            let r = g711(loss, 1.0, 100);
            assert!(r < last || loss == 0.0);
            last = r;
        }
        assert!(g711(3.0, 2.0, 100) < g711(3.0, 1.0, 100));
        assert!(g711(0.0, 1.0, 300) < g711(0.0, 1.0, 150));
        assert!(g711(0.0, 1.0, 150) < g711(0.0, 1.0, 100));
        // No concealment hurts more than concealment.
        let plain = effective_equipment_impairment(CodecImpairment::G711, 2.0, 1.0);
        assert!(plain > effective_equipment_impairment(CodecImpairment::G711_PLC, 2.0, 1.0));
        assert!(mos(g711(5.0, 1.0, 150)) < 4.0);
    }
}
