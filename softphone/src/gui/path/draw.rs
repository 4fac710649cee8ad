//! The path view's drawing, with egui's painter: six big boxes in two
//! rows, read like a snake (this PC → home router → internet, down to the
//! company router → gateway → other party), the registration's path as a
//! blue line and the call's media as a thick green one beside it. Hops off
//! the path are greyed. Sized to be read across a meeting room.

use eframe::egui::{
    self, Align2, Color32, FontId, Pos2, Rect, Sense, Stroke, StrokeKind, Vec2, WidgetInfo,
};

use super::model::{Hop, HopKind, PathModel};

const GAP: f32 = 56.0;
const TITLE: f32 = 24.0;
const DETAIL: f32 = 17.0;
const PADDING: f32 = 10.0;
const MEDIA: Color32 = Color32::from_rgb(0x2e, 0xa0, 0x43);

/// Where each hop sits: (column, row).
fn cell(kind: HopKind) -> (f32, f32) {
    match kind {
        HopKind::ThisPc => (0.0, 0.0),
        HopKind::HomeRouter => (1.0, 0.0),
        HopKind::Internet => (2.0, 0.0),
        HopKind::CompanyRouter => (2.0, 1.0),
        HopKind::Gateway => (1.0, 1.0),
        HopKind::OtherParty => (0.0, 1.0),
    }
}

/// Draws `model`, whose description is the widget's accessible one.
pub fn show(ui: &mut egui::Ui, model: &PathModel) {
    let hops = model.hops();
    let width = ui.available_width().max(600.0);
    let box_width = (width - 2.0 * GAP) / 3.0;
    let wrap = box_width - 2.0 * PADDING;
    let visuals = ui.visuals().clone();
    let painter = ui.painter();
    // Lay the text out first: the boxes are as tall as the fullest one.
    let texts: Vec<_> = hops
        .iter()
        .map(|hop| {
            let strong = if hop.on_path {
                visuals.strong_text_color()
            } else {
                visuals.weak_text_color()
            };
            let detail = if hop.on_path {
                visuals.text_color()
            } else {
                visuals.weak_text_color()
            };
            let title = painter.layout(
                hop.kind.title().to_owned(),
                FontId::proportional(TITLE),
                strong,
                wrap,
            );
            let lines = painter.layout(
                hop.lines.join("\n"),
                FontId::proportional(DETAIL),
                detail,
                wrap,
            );
            (title, lines)
        })
        .collect();
    let box_height = texts
        .iter()
        .map(|(title, lines)| title.size().y + lines.size().y + 3.0 * PADDING)
        .fold(120.0, f32::max);
    let legend = 40.0;
    let (response, painter) = ui.allocate_painter(
        Vec2::new(width, 2.0 * box_height + GAP + legend),
        Sense::hover(),
    );
    let description = model.describe();
    response.widget_info(|| WidgetInfo::labeled(egui::Role::Image, true, "Path view"));
    ui.ctx()
        .accesskit_node_builder(response.id, |node| node.set_description(description));
    let origin = response.rect.min;
    let rect_of = |kind: HopKind| {
        let (column, row) = cell(kind);
        Rect::from_min_size(
            origin + Vec2::new(column * (box_width + GAP), row * (box_height + GAP)),
            Vec2::new(box_width, box_height),
        )
    };
    // Light blue on dark, deep blue on light: visible from afar either way.
    let accent = visuals.hyperlink_color;
    // The lines first, under the boxes.
    let on_path: Vec<&Hop> = hops.iter().filter(|hop| hop.on_path).collect();
    for pair in on_path.windows(2) {
        let (from, to) = (rect_of(pair[0].kind), rect_of(pair[1].kind));
        let (a, b) = (edge_point(from, to.center()), edge_point(to, from.center()));
        let across = (b - a).normalized().rot90();
        let signalling = pair[1].kind != HopKind::OtherParty;
        if signalling {
            painter.line_segment(
                [a - across * 8.0, b - across * 8.0],
                Stroke::new(4.0, accent),
            );
        }
        if pair[0].media && pair[1].media {
            let shift = if signalling { 8.0 } else { 0.0 };
            painter.line_segment(
                [a + across * shift, b + across * shift],
                Stroke::new(8.0, MEDIA),
            );
        }
    }
    for (hop, (title, lines)) in hops.iter().zip(texts) {
        let rect = rect_of(hop.kind);
        let active = hop.kind == HopKind::Gateway && hop.on_path;
        let stroke = match (hop.on_path, active) {
            (_, true) => Stroke::new(5.0, accent),
            (true, false) => Stroke::new(3.0, visuals.strong_text_color()),
            (false, _) => Stroke::new(1.0, visuals.weak_text_color()),
        };
        let fill = if hop.on_path {
            visuals.extreme_bg_color
        } else {
            visuals.faint_bg_color
        };
        painter.rect(rect, 12.0, fill, stroke, StrokeKind::Inside);
        let top = rect.min + Vec2::splat(PADDING);
        let below = top + Vec2::new(0.0, title.size().y + PADDING);
        painter.galley(top, title, visuals.text_color());
        painter.galley(below, lines, visuals.text_color());
    }
    draw_legend(&painter, response.rect, accent, &visuals);
}

/// Where the line from `rect`'s centre towards `toward` leaves `rect`.
fn edge_point(rect: Rect, toward: Pos2) -> Pos2 {
    let center = rect.center();
    let delta = toward - center;
    let scale_x = if delta.x == 0.0 {
        f32::INFINITY
    } else {
        rect.width() / 2.0 / delta.x.abs()
    };
    let scale_y = if delta.y == 0.0 {
        f32::INFINITY
    } else {
        rect.height() / 2.0 / delta.y.abs()
    };
    center + delta * scale_x.min(scale_y)
}

fn draw_legend(painter: &egui::Painter, area: Rect, accent: Color32, visuals: &egui::Visuals) {
    let y = area.max.y - 16.0;
    let mut x = area.min.x;
    for (stroke, label) in [
        (Stroke::new(4.0, accent), "registration"),
        (Stroke::new(8.0, MEDIA), "media (RTP)"),
    ] {
        painter.line_segment([Pos2::new(x, y), Pos2::new(x + 40.0, y)], stroke);
        let drawn = painter.text(
            Pos2::new(x + 50.0, y),
            Align2::LEFT_CENTER,
            label,
            FontId::proportional(DETAIL),
            visuals.text_color(),
        );
        x = drawn.max.x + 30.0;
    }
}
