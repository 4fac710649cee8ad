//! The live views beside the phone's face: the path view and the quality
//! panel, opened from the View menu, each in its own window. The app
//! routes media reports and registration facts here; the views draw on
//! the frames those events cause and ask for none of their own.

use std::time::Instant;

use eframe::egui;

use super::path::PathView;
use super::quality::QualityPanel;
use super::settings::OpenViews;
use crate::media::call::MediaReport;

/// Both views.
#[derive(Debug, Default)]
pub struct Views {
    pub path: PathView,
    pub quality: QualityPanel,
}

impl Views {
    /// A media report of the call.
    pub fn media(&mut self, report: &MediaReport) {
        self.quality.report(Instant::now(), report);
        self.path.report(report);
    }

    /// The View menu's entries; `true` when one was toggled.
    pub fn menu(ui: &mut egui::Ui, open: &mut OpenViews) -> bool {
        let path = ui.checkbox(&mut open.path, "Path view").changed();
        let quality = ui.checkbox(&mut open.quality, "Quality panel").changed();
        path || quality
    }

    /// The open views' windows; `true` when one was closed.
    pub fn show(&self, ctx: &egui::Context, open: &mut OpenViews) -> bool {
        let was = *open;
        egui::Window::new("Path view")
            .open(&mut open.path)
            .default_pos([20.0, 40.0])
            .default_width(860.0)
            .show(ctx, |ui| self.path.show(ui));
        egui::Window::new("Quality panel")
            .open(&mut open.quality)
            .default_pos([300.0, 30.0])
            .default_size([580.0, 540.0])
            .show(ctx, |ui| {
                egui::ScrollArea::vertical().show(ui, |ui| self.quality.show(ui));
            });
        *open != was
    }
}
