//! The quality panel's drawing: four plots over the call's time (jitter,
//! loss, playout delay, MOS), the received direction and, where the
//! peer's RTCP reports it, the sent one; marks as vertical lines.

use eframe::egui::{self, Color32, RichText};
use egui_plot::{AxisHints, Legend, Line, LineStyle, Plot, PlotPoints, VLine};

use super::history::{QualityHistory, Sample};

/// Height of one plot: the four fit the window's default size.
const PLOT_HEIGHT: f32 = 82.0;

/// One direction of one figure.
struct Series {
    name: &'static str,
    color: Color32,
    figure: fn(&Sample) -> Option<f64>,
}

/// One plot.
struct Figure {
    title: &'static str,
    unit: &'static str,
    /// The y range always shown (the plot grows beyond it).
    floor: [f64; 2],
    series: Vec<Series>,
}

const RECEIVED: Color32 = Color32::from_rgb(0x3d, 0x8b, 0xfd);
const SENT: Color32 = Color32::from_rgb(0xf0, 0x8c, 0x00);
const MOS: Color32 = Color32::from_rgb(0x2e, 0xa0, 0x43);

fn figures() -> [Figure; 4] {
    [
        Figure {
            title: "Jitter",
            unit: "ms",
            floor: [0.0, 10.0],
            series: vec![
                Series {
                    name: "received",
                    color: RECEIVED,
                    figure: |s| s.receiving.then_some(s.jitter_ms),
                },
                Series {
                    name: "sent (peer's report)",
                    color: SENT,
                    figure: |s| s.remote_jitter_ms,
                },
            ],
        },
        Figure {
            title: "Loss",
            unit: "%",
            floor: [0.0, 5.0],
            series: vec![
                Series {
                    name: "received",
                    color: RECEIVED,
                    figure: |s| Some(s.loss_percent),
                },
                Series {
                    name: "sent (peer's report)",
                    color: SENT,
                    figure: |s| s.remote_loss_percent,
                },
            ],
        },
        Figure {
            title: "Playout delay",
            unit: "ms",
            floor: [0.0, 100.0],
            series: vec![Series {
                name: "jitter buffer",
                color: RECEIVED,
                figure: |s| s.receiving.then_some(s.playout_delay_ms),
            }],
        },
        Figure {
            title: "MOS estimate",
            unit: "",
            floor: [1.0, 4.5],
            series: vec![Series {
                name: "E-model",
                color: MOS,
                figure: |s| Some(s.mos),
            }],
        },
    ]
}

/// Draws the plots of `history`.
pub fn show(ui: &mut egui::Ui, history: &QualityHistory) {
    let link = ui.make_persistent_id("quality-time");
    let mark_color = ui.visuals().warn_fg_color;
    // The x axis: the call so far, at least a minute.
    let end = history.samples().back().map_or(0.0, |s| s.at).max(60.0);
    let start = history.samples().front().map_or(0.0, |s| s.at);
    for figure in figures() {
        let heading = match figure.unit {
            "" => figure.title.to_owned(),
            unit => format!("{} ({unit})", figure.title),
        };
        ui.label(RichText::new(heading).strong());
        Plot::new(figure.title)
            .height(PLOT_HEIGHT)
            .legend(Legend::default())
            .link_axis(link, [true, false])
            .allow_scroll(false)
            .allow_zoom(false)
            .allow_drag(false)
            // A live view to watch, not to measure: no hover rulers.
            .show_x(false)
            .show_y(false)
            .include_x(start)
            .include_x(end)
            .include_y(figure.floor[0])
            .include_y(figure.floor[1])
            .x_axis_formatter(|mark, _| format!("{:.0} s", mark.value))
            // Denser y labels than egui_plot's default: the plots are low.
            .custom_y_axes(vec![AxisHints::new_y().label_spacing(12.0..=18.0)])
            .show(ui, |plot| {
                for series in &figure.series {
                    for (index, points) in history.segments(series.figure).into_iter().enumerate() {
                        // One legend entry per direction, however many gaps.
                        let line = Line::new(series.name, PlotPoints::from(points))
                            .id((figure.title, series.name, index))
                            .color(series.color)
                            .width(2.0);
                        plot.line(line);
                    }
                }
                for mark in history.marks() {
                    plot.vline(
                        VLine::new(mark.label.clone(), mark.at)
                            .color(mark_color)
                            .style(LineStyle::dashed_loose())
                            .width(2.0),
                    );
                }
            });
    }
}
