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

#[cfg(test)]
mod tests {
    use shared::media::StreamStats;

    use super::*;
    use crate::gui::path::model::Route;

    #[test]
    fn a_network_move_is_marked_in_the_plots_and_moves_the_path() {
        let mut views = Views::default();
        views.path.set_client(crate::gui::path::PORTAL, None);
        views
            .path
            .registration(Some((Route::Wan, "203.0.113.1:8802".into())));
        let home = "192.168.1.20:40000".parse().expect("address");
        views.path.local_media(home);
        views.media(&MediaReport::Started {
            remote: "203.0.113.1:30280".parse().expect("address"),
            codec: "PCMA".into(),
        });
        views.media(&MediaReport::Quality(StreamStats::default()));
        let mobile = "10.64.0.7:40002".parse().expect("address");
        views.media(&MediaReport::Moved { local: mobile });
        views.media(&MediaReport::Quality(StreamStats::default()));

        let marks = views.quality.history().marks();
        assert_eq!(marks.len(), 1);
        assert_eq!(marks[0].label, "moved to 10.64.0.7:40002");
        assert_eq!(views.quality.history().samples().len(), 2);
        let model = views.path.model();
        assert_eq!(model.client.local_media, Some(mobile));
        assert!(
            model
                .describe()
                .contains("This PC (myPortal to go app, RTP 10.64.0.7:40002)")
        );
        // A remote gateway: the SBC's side stays unknown.
        assert!(model.describe().contains("SBC: unknown (remote gateway)"));

        views.media(&MediaReport::Stopped(StreamStats::default()));
        assert!(!views.quality.history().running());
        assert!(views.path.model().describe().ends_with("No call."));
    }
}
