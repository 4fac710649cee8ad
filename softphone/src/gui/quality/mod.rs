//! The quality panel: live plots of the current call's jitter, loss,
//! playout delay and MOS estimate, both directions where the peer's RTCP
//! reports them, the codec, and marks where the device moved network.
//!
//! Fed by the call's media reports ([`MediaReport`]), which also wake the
//! window: the panel never asks for frames of its own.

pub mod history;
mod plots;

use std::time::{Duration, Instant};

use eframe::egui::{self, RichText};

use crate::media::call::MediaReport;
use history::QualityHistory;

/// How often a call reports its figures in the window: once a second
/// makes a live plot (the headless default is every 2 s).
pub const REPORT_EVERY: Duration = Duration::from_secs(1);

/// The panel's state: the history of the current (or last) call.
#[derive(Debug, Default)]
pub struct QualityPanel {
    history: QualityHistory,
}

impl QualityPanel {
    /// Takes in one media report received at `now`.
    pub fn report(&mut self, now: Instant, report: &MediaReport) {
        match report {
            MediaReport::Started { codec, .. } => self.history.start(now, codec),
            MediaReport::Quality(stats) => self.history.record(now, stats),
            MediaReport::Stopped(stats) => self.history.stop(now, stats),
            MediaReport::Moved { local } => self.history.mark(now, format!("moved to {local}")),
            MediaReport::Redirected { remote } => {
                self.history.mark(now, format!("re-anchored to {remote}"))
            }
            MediaReport::Audio(_) => self.history.mark(now, "sound device lost"),
            MediaReport::Dtmf(_) => {}
        }
    }

    pub fn history(&self) -> &QualityHistory {
        &self.history
    }

    /// The panel's contents.
    pub fn show(&self, ui: &mut egui::Ui) {
        let history = &self.history;
        if let Some(codec) = history.codec() {
            let rtt = history.last().and_then(|stats| stats.rtt_ms).map_or_else(
                || "not yet measured".to_owned(),
                |rtt| format!("{rtt:.0} ms"),
            );
            ui.label(
                RichText::new(format!("Codec: {}   Round trip: {rtt}", codec_name(codec)))
                    .heading(),
            );
        }
        ui.label(history.summary());
        plots::show(ui, history);
    }
}

/// The codec as people know it.
fn codec_name(codec: &str) -> String {
    match codec {
        "PCMA" => "G.711 A-law".to_owned(),
        "PCMU" => "G.711 µ-law".to_owned(),
        "G722" => "G.722 wideband".to_owned(),
        "opus" => "Opus".to_owned(),
        other => other.to_owned(),
    }
}
