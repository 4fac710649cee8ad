//! Concealment (issue 16): PESQ MOS-LQO of speech through the deterministic
//! replay of `tests/tests/voice_quality.rs` at 2, 5 and 10 % loss with a
//! one-way delay of 40 ± 20 ms, each rung averaged over loss patterns
//! (seeds) 1-6, for three receivers facing the same packets: zero-fill
//! (lost frames play as silence), the concealer before issue 16 (G.711
//! Appendix I style, `concealment/appendix_i.rs`) and today's (`shared::
//! media::plc`, which also bridges into the next frame when the jitter
//! buffer holds it). Prints a markdown table for BENCHMARKS.md.
//!
//! The old concealer is run over the zero-fill session's output: its
//! decoded frames are what any receiver decodes, and the frames it played
//! as silence (its missing and stretch frames) are the ones to conceal.
//!
//! `cargo bench --profile dev -p e2e-tests --bench concealment`: scores,
//! not timings, so the test profile (PESQ optimised) is enough.

#[path = "concealment/appendix_i.rs"]
mod appendix_i;

use e2e_tests::replay::{Heard, LOSS_LADDER, SEEDS, ladder, through_impairment};
use e2e_tests::speech::reference;
use shared::media::FrameSource;

/// What the pre-issue-16 concealer makes of what the zero-fill receiver
/// decoded.
fn appendix_i(zero_filled: &Heard) -> Vec<i16> {
    let mut plc = appendix_i::Plc::new(8000);
    let mut out = zero_filled.samples.clone();
    for (frame, source) in out.chunks_mut(160).zip(&zero_filled.sources) {
        match source {
            FrameSource::Decoded => plc.good_frame(frame),
            FrameSource::Concealed => plc.conceal(frame),
            FrameSource::Silence => {
                frame.fill(0);
                plc.good_frame(frame);
            }
        }
    }
    out
}

fn main() {
    if !std::env::args().any(|arg| arg == "--bench") {
        return;
    }
    let (_, reference) = reference();
    let zero = ladder(reference, |path| {
        through_impairment(reference, path, false).samples
    });
    let old = ladder(reference, |path| {
        appendix_i(&through_impairment(reference, path, false))
    });
    let new = ladder(reference, |path| {
        through_impairment(reference, path, true).samples
    });
    println!(
        "PESQ MOS-LQO (P.862 + P.862.1), G.711 A-law, 40 ± 20 ms one way, mean of seeds {SEEDS:?}\n"
    );
    println!("| loss | zero-fill | Appendix I style (before) | pitch-synchronous + bridge (now) |");
    println!("|---|---|---|---|");
    for (k, loss) in LOSS_LADDER.iter().enumerate() {
        println!(
            "| {:.0} % | {:.3} | {:.3} | {:.3} |",
            loss * 100.0,
            zero[k],
            old[k],
            new[k]
        );
    }
}
